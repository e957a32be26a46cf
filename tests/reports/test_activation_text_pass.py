"""The simplification pass's shortcuts give what the slow routes they replace give: the
shortest proven form without proving forms too long to print, the numeric witness in
the |z| check, SymPy's solve without its own check, and the per-page LaTeX cache."""

from __future__ import annotations

import itertools

import pytest
import sympy

from symgrad._core.format import latex
from symgrad._core.symbols import z
from symgrad.activations.registry import activation, activation_names
from symgrad.reports.pages import activation_text as text
from symgrad.reports.pages.activation_text import Tidy, named_constants, tidy_for


def _old_choice(expr: sympy.Expr, forms: list[sympy.Expr], proven: set[sympy.Expr]) -> sympy.Expr:
    """The former rule: prove every form, take the shortest proven, keep it only when
    shorter than the original by a tenth."""
    candidates = [f for f in forms if f in proven]
    best = min(candidates, key=lambda e: len(latex(e)), default=expr)
    return best if len(latex(best)) < 0.9 * len(latex(expr)) else expr


_EXPR = z * sympy.exp(-z) / (1 + sympy.exp(-z)) ** 2 + 1 / (1 + sympy.exp(-z))
_FORMS = [sympy.Symbol("a"), sympy.Symbol("b"), sympy.exp(z) / (1 + sympy.exp(z)),
          _EXPR + 0 * z, sympy.cosh(z) ** 2 * z ** 5 + sympy.sinh(z) ** 7 + z ** 11,
          z + 1, sympy.Symbol("c") + z]


@pytest.mark.parametrize("size", [0, 1, 2, 3])
def test_shortest_proven_is_the_former_choice(size: int) -> None:
    for forms in itertools.permutations(_FORMS, size):
        for bits in itertools.product((False, True), repeat=size):
            proven = {f for f, b in zip(forms, bits, strict=True) if b}
            asked: list[sympy.Expr] = []

            def equal(form: sympy.Expr, expr: sympy.Expr,
                      proven: set[sympy.Expr] = proven, asked: list[sympy.Expr] = asked) -> bool:
                asked.append(form)
                return form in proven

            got = text._shortest_proven(_EXPR, list(forms), equal)
            assert got == _old_choice(_EXPR, list(forms), proven), (forms, bits)
            limit = 0.9 * len(latex(_EXPR))
            assert all(len(latex(f)) < limit for f in asked)  # nothing too long is proven


def _mirror_cases() -> list[tuple[str, sympy.Expr, sympy.Expr, sympy.Expr]]:
    cases = []
    for name in activation_names():
        act = activation(name)
        tidy = tidy_for(act)
        for expr in (act.expr, act.derivative):
            if not (isinstance(expr, sympy.Piecewise) and len(expr.args) == 2):
                continue
            (left, _), (right, _) = [(tidy.one(e), c) for e, c in expr.args]
            mirrored = right.subs(z, sympy.Abs(z))
            for form in (mirrored, z * sympy.cancel(right / z).subs(z, sympy.Abs(z)),
                         sympy.sign(z) * mirrored):
                cases.append((name, form, left, right))
    return cases


def test_the_numeric_witness_never_rejects_what_sympy_proves() -> None:
    """_mirror_equal (witness first) against the proofs alone, on every catalogue
    two-piece φ and φ' and each |z| form the pass tries; the witness must fire on some."""
    fired = 0
    neg, pos = sympy.Symbol("z", negative=True), sympy.Symbol("z", positive=True)
    for name, form, left, right in _mirror_cases():
        slow = (text._proven_zero(form.subs(z, neg) - left.subs(z, neg))
                and text._proven_zero(form.subs(z, pos) - right.subs(z, pos)))
        assert text._mirror_equal(form, left, right) == slow, (name, form)
        if text._differs(form, left, text._NEGATIVE) or text._differs(
                form, right, text._POSITIVE):
            fired += 1
            assert not slow, (name, form)
    assert fired >= 5


def test_the_witness_leaves_undecidable_cases_to_the_proof() -> None:
    neg_only = sympy.Symbol("n", negative=True)
    assert not text._differs(z + neg_only, z, text._POSITIVE)  # 3/7 is not negative
    assert not text._differs(1 / z, 1 / z + 1 / z - 1 / z, (sympy.Integer(0),))  # a pole
    assert text._differs(sympy.Abs(z), sympy.exp(z) - 1, text._NEGATIVE)


def test_named_constants_solved_without_solves_check_are_solves_answer() -> None:
    """Every catalogue member with named constants: the inverse found with check=False is
    the one sympy.solve returns with its check."""
    seen = 0
    for name in activation_names():
        act = activation(name)
        constants = named_constants(act)
        if not constants:
            continue
        seen += 1
        atoms = text._atoms([c.value for c in constants])
        dummies = [sympy.Dummy(positive=True) for _ in atoms]
        swap = dict(zip(atoms, dummies, strict=True))
        equations = [c.symbol - c.value.xreplace(swap) for c in constants]
        reference = sympy.solve(equations, dummies, dict=True)
        assert reference, name
        expected = {a: reference[0][d] for a, d in swap.items()}
        assert Tidy(act)._sub == expected, name
    assert seen >= 1  # SELU


def test_the_latex_cache_tells_floats_of_different_precision_apart() -> None:
    tidy = Tidy(activation("sigmoid"))
    for value in (sympy.Float("0.5", 15), sympy.Float("0.5", 50), sympy.Rational(1, 2),
                  sympy.Float("0.5", 15), sympy.sqrt(2) / 2, sympy.Matrix([[z, 1]])):
        assert tidy.latex(value) == latex(tidy.expr(value))
    assert text.approx(sympy.Float("0.1", 15)) == text.approx(sympy.Float("0.1", 15))
