"""Every root of f on one smooth piece of φ, with the proof that none was missed.

The slope questions (sup |φ'|: roots of φ''; saturation: roots of φ' ∓ ε) all start
here.  :func:`piece_roots` runs the ball-arithmetic isolation
(:func:`~symgrad._exact.isolate.isolate_roots`: cells on |z| ≤ 4 with a proven verdict
each, tail proofs beyond) and, when some root is only certified, asks SymPy for closed
forms (:func:`~symgrad._exact.roots.exact_roots`: factorisation, polynomials in e^{kz});
closed forms are accepted only when they fall one by one into the isolated enclosures.
When the isolation cannot be completed (a double root, no tail form), SymPy's closed
forms alone carry the answer, and the completeness statement says so.

>>> from symgrad.activations.registry import activation
>>> found = piece_roots(sympy.diff(activation("gelu").derivative, z), -sympy.oo, sympy.oo)
>>> [r.at for r in found.roots], found.exact
([-sqrt(2), sqrt(2)], True)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from symgrad._core.format import interval_text
from symgrad._core.symbols import z
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.enclose import constant_number
from symgrad._exact.isolate import Isolation, Root, isolate_roots
from symgrad._exact.roots import exact_roots
from symgrad.errors import NoClosedForm
from symgrad.records import Exact, How

__all__ = ["FoundRoot", "PieceRoots", "piece_roots"]

#: Significant digits every certified root and value carries.
DIGITS = 40
_SYMPY = Exact("SymPy closed form (factorisation; substitution u = e^{kz} is a bijection)")
_INVERTIBLE = (sympy.exp, sympy.tanh, sympy.sinh, sympy.cosh, sympy.sech, sympy.csch, sympy.coth)


@dataclass(frozen=True)
class FoundRoot:
    """A root: ``at`` (a closed form, or a Float of its proven digits), ``number`` its
    enclosure, ``how`` its provenance, ``root`` the isolation's root (None for a closed
    form found by SymPy alone)."""

    at: sympy.Expr
    number: CertifiedNumber
    how: How
    root: Root | None = None

    @property
    def exact(self) -> bool:
        return isinstance(self.how, Exact)


@dataclass(frozen=True)
class PieceRoots:
    """Every root of ``f`` in (lo, hi), left to right, and the completeness statement."""

    f: sympy.Expr
    lo: sympy.Expr
    hi: sympy.Expr
    roots: tuple[FoundRoot, ...]
    isolation: Isolation | None
    completeness: str

    @property
    def exact(self) -> bool:
        return all(r.exact for r in self.roots)

    def tail_sign(self, side: int) -> int | None:
        """The proven sign of f beyond the last cell towards side·∞ (None: no tail)."""
        if self.isolation is None:
            return None
        for tail in self.isolation.tails:
            if tail.side == side:
                return tail.sign
        return None


def _solvable(f: sympy.Expr) -> bool:
    """A cheap filter before SymPy's exact solver: every transcendental atom is e^{c·z^m}
    (or a hyperbolic function of c·z^m), m ∈ {1, 2} — the shapes it can invert."""
    for e in sympy.preorder_traversal(f):
        if not (isinstance(e, sympy.Basic) and e.has(z)):
            continue
        if isinstance(e, _INVERTIBLE):
            arg = sympy.expand(e.args[0])
            _, rest = arg.as_independent(z, as_Add=False)
            if rest not in (z, z**2):
                return False
        elif isinstance(e, sympy.Function) or (isinstance(e, sympy.Pow) and e.exp.has(z)):
            return False
    return True


def _statement(f_name: str, lo: sympy.Expr, hi: sympy.Expr, count: int,
               isolation: Isolation | None) -> str:
    where = interval_text(sympy.Interval.open(lo, hi))
    if isolation is None:
        return (f"all {count} roots of {f_name} on {where} found exactly by SymPy "
                "(factorisation and u = e^{kz}: complete by construction)")
    cells = len(isolation.cells)
    text = f"all {count} roots of {f_name} on {where}: {cells} cells proven in ball arithmetic"
    tails = sorted(isolation.tails, key=lambda t: t.side)
    if tails:
        far = ", ".join(f"{'z ≥ ' if t.side > 0 else 'z ≤ −'}{t.beyond}" for t in tails)
        text += f", no root for {far} (tail form of one sign)"
    return text


def piece_roots(f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr, *, name: str = "f",
                digits: int = DIGITS) -> PieceRoots:
    """Every root of ``f`` (a SymPy expression in z) in (lo, hi), complete.

    Raises :class:`NoClosedForm` when neither the isolation nor SymPy can prove the
    list complete.
    """
    isolation: Isolation | None
    try:
        isolation = isolate_roots(f, lo, hi, digits=digits)
        why = ""
    except NoClosedForm as exc:
        isolation, why = None, str(exc)
    certified_only = isolation is None or any(r.exact is None for r in isolation.roots)
    closed = exact_roots(f, lo, hi) if certified_only and _solvable(f) else None
    if isolation is None and closed is None:
        raise NoClosedForm(f"cannot find every root of {name} on "
                           f"{interval_text(sympy.Interval.open(lo, hi))}: {why}")
    found: list[FoundRoot]
    if isolation is None:
        found = [FoundRoot(r, constant_number(r, digits), _SYMPY) for r in closed or ()]
    else:
        found = [_from_isolation(r) for r in isolation.roots]
        if closed is not None:
            found = _match(found, closed, f, digits)
    text = _statement(name, lo, hi, len(found), isolation)
    return PieceRoots(f, lo, hi, tuple(found), isolation, text)


def _from_isolation(root: Root) -> FoundRoot:
    if root.exact is not None:
        return FoundRoot(root.exact, root.value, root.how, root)
    return FoundRoot(root.value.sympy_float(), root.value, root.how, root)


def _match(found: list[FoundRoot], closed: list[sympy.Expr], f: sympy.Expr,
           digits: int) -> list[FoundRoot]:
    """The closed forms in place of the enclosures they fall into, one to one."""
    numbers = [constant_number(r, digits) for r in closed]
    if len(numbers) != len(found):
        raise NoClosedForm(f"SymPy finds {len(closed)} roots of {f} where the isolation "
                           f"proves {len(found)}")
    out = []
    for item in found:
        inside = [i for i, n in enumerate(numbers) if n.lower <= item.number.upper
                  and item.number.lower <= n.upper]
        if len(inside) != 1:
            raise NoClosedForm(f"SymPy's roots of {f} do not match the isolated ones")
        i = inside[0]
        how = item.how if item.exact else Exact(
            "SymPy closed form, inside the enclosure the isolation proves unique")
        out.append(FoundRoot(closed[i], numbers[i], how, item.root))
    return out
