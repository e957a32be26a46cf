"""E[g(√q·Z)] exact where a rule proves it, else an exact reduction plus a certified rest.

:func:`gaussian_expectation` applies rules, never a table of activations, so a
user-registered φ with the same structure gets the same answer:

1. **parity** (:mod:`~symgrad._exact.parity`): the odd part of g has mean 0; when the
   even part is a constant c, E = c exactly (E[φ'] = 1/2 for GELU, gelu_tanh, SiLU,
   swish(β), softplus(β): φ' − 1/2 is odd);
2. **Gaussian integrals** (:mod:`~symgrad._exact.erf_moments`): polynomial × Gaussian ×
   at most two error functions, by Gaussian absorption, Stein's lemma and Sheppard's
   orthant formula (GELU's E[φ'²] = 1/3 + 2/(3√3·π) at q = 1, for any q);
3. **logistic algebra** (:mod:`~symgrad._exact.logistic`): polynomials in σ(λz) reduce
   by σ² = σ − σ' to an exact part plus E[r] with r a polynomial in z and σ'(λz)
   (softplus' E[φ'²] = 1/2 − E[σ'(βZ)]);
4. **pieces**: on each piece of a piecewise g, polynomial × Gaussian integrates in closed
   form on its interval (ReLU, hard_tanh, ELU, SELU).

What no rule covers is integrated rigorously (:mod:`~symgrad._exact.integrate`); the
record then says ``certified``, shows the reduced closed form (unevaluated ``E(r)``
terms) and the steps, and its value is the exact part plus the certified rest.

>>> from symgrad._core.symbols import z
>>> sigma = 1 / (1 + sympy.exp(-z))
>>> r = gaussian_expectation(sigma + z * sigma * (1 - sigma), q=1)  # SiLU's φ'
>>> r.value, r.how("value").method
(1/2, 'parity')
>>> r = gaussian_expectation(z * sigma, q=1, digits=20)  # Stein: E[Zσ(Z)] = E[σ'(Z)]
>>> r.reduced, str(r.certified)
(E(exp(-z)/(1 + exp(-z))**2), '0.20662096414190703726')
>>> r = gaussian_expectation(sigma**2, q=1, digits=20)
>>> r.reduced, str(r.certified)
(1/2 - E(exp(-z)/(1 + exp(-z))**2), '0.29337903585809296274')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy
from flint import arb

from symgrad._core.symbols import z
from symgrad._exact.ball import bits_for_digits, working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.ball_function import compile_ball
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.erf_moments import OutsideRules, erf_expectation, moment_on, parse_term
from symgrad._exact.integrate import gaussian_integral
from symgrad._exact.logistic import logistic_reduction
from symgrad._exact.parity import even_part
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Exact, Provenances, Record, Step, provenances

__all__ = ["E", "GaussianExpectation", "gaussian_expectation"]

#: The unevaluated expectation E(r) = E[r(√q·Z)] in reduced closed forms.
E = sympy.Function("E")

_Piece = tuple[sympy.Expr, sympy.Expr, sympy.Expr]


@dataclass(frozen=True)
class GaussianExpectation(Record):
    """E[g(√q·Z)], Z ~ N(0, 1), for g given piece by piece.

    ``value``: the closed form when exact, else a Float of the proven (or estimated)
    digits; ``reduced``: exact part + Σ E(r) (unevaluated), equal to ``value``;
    ``exact_part`` and ``residual`` (the pieces still integrated, empty when exact);
    ``certified``: an enclosure of the value (also for exact values); ``rules`` the rules
    applied; ``provenance['value']``: Exact, Certified or Estimated.
    """

    pieces: tuple[_Piece, ...]
    q: sympy.Expr
    value: sympy.Expr
    reduced: sympy.Expr
    exact_part: sympy.Expr
    residual: tuple[_Piece, ...]
    certified: CertifiedNumber | None
    rules: tuple[str, ...]
    provenance: Provenances
    steps: tuple[Step, ...] = field(default=())

    @property
    def exact(self) -> bool:
        return not self.residual

    def title(self) -> str:
        return f"E[g(√q Z)] at q = {sympy.sstr(self.q)}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("value", self.value)]
        if self.residual:
            rows.append(("reduced form", self.reduced))
        rows.append(("rules", ", ".join(self.rules) or "none"))
        return rows


def _normalise(pieces: Any) -> tuple[_Piece, ...]:
    if isinstance(pieces, sympy.Expr):
        return ((-sympy.oo, sympy.oo, pieces),)
    out = []
    for item in pieces:
        lo, hi, expr = (item.lo, item.hi, item.expr) if hasattr(item, "expr") else item
        out.append((sympy.sympify(lo), sympy.sympify(hi), sympy.sympify(expr)))
    if not out:
        raise InvalidArgument("need at least one piece")
    return tuple(out)


def gaussian_expectation(pieces: Any, *, q: Any, digits: int = 30) -> GaussianExpectation:
    """E[g(√q·Z)] by rules where they apply, certified integration for the rest.

    ``pieces``: a SymPy expression in z (one piece, the whole line), or a sequence of
    (lo, hi, expr) / objects with ``lo``, ``hi``, ``expr`` (e.g. φ'^p piece by piece).
    ``q``: a positive number, or a positive SymPy symbol (then only exact rules may be
    used; :class:`NoClosedForm` otherwise).
    """
    parts = _normalise(pieces)
    qq = sympy.sympify(q)
    if not (qq.is_positive or (qq.is_number and sympy.N(qq) > 0)):
        raise InvalidArgument(f"q must be positive, got {q!r}")
    if not isinstance(digits, int) or not 1 <= digits <= 300:
        raise InvalidArgument(f"digits must be an integer in [1, 300], got {digits!r}")
    whole = len(parts) == 1 and parts[0][0] == -sympy.oo and parts[0][1] == sympy.oo
    if whole:
        exact, residual, rules, steps = _whole_line(parts[0][2], qq)
    else:
        exact, residual, rules, steps = _piecewise(parts, qq)
    return _assemble(parts, qq, exact, residual, rules, steps, digits)


def _whole_line(g: sympy.Expr, q: sympy.Expr) -> tuple[sympy.Expr, tuple[_Piece, ...],
                                                         list[str], list[Step]]:
    steps = [Step("Z is symmetric: the odd part (g(z) − g(−z))/2 has mean 0.", None)]
    if _looks_constant(g):
        try:
            even = even_part(g)
        except NoClosedForm:
            even = g
        if not even.has(z):
            steps.append(Step("The even part of g is a constant (proven over a canonical form "
                              "in z, e^{bz}, odd and even atoms):", even))
            return even, (), ["parity"], steps
    closed = erf_expectation(g, q)
    if closed is not None:
        steps.append(Step("Gaussian absorption, Stein's lemma E[Zh(Z)] = E[h'(Z)] and the "
                          "orthant formula E[erf aZ · erf bZ] = (2/π)·arcsin(2ab/√((1+2a²)"
                          "(1+2b²))) integrate every term.", closed))
        return closed, (), ["parity", "Gaussian integrals"], steps
    reduced = logistic_reduction(g, q)
    if reduced is not None:
        exact, rest = reduced
        steps.append(Step("Logistic algebra: T = σ − 1/2, D = σ' with T² = 1/4 − D, parity "
                          "and Stein's lemma reduce g to an exact part plus E(r):",
                          exact + _linear(rest)))
        rules = ["parity", "logistic algebra", "Stein's lemma"]
        if rest == 0:
            return exact, (), rules, steps
        return exact, ((-sympy.oo, sympy.oo, rest),), rules, steps
    steps.append(Step("No rule applies to the even part: integrate g rigorously.", None))
    return sympy.Integer(0), ((-sympy.oo, sympy.oo, g),), [], steps


def _looks_constant(g: sympy.Expr) -> bool:
    """A cheap filter before the symbolic proof: (g(x) + g(−x))/2 at a few points in ball
    arithmetic overlaps its value at 0.  Only a filter; the proof is :func:`even_part`."""
    try:
        f = compile_ball(g)
    except NoClosedForm:
        return True
    with working_precision(96):
        points = [arb(x) for x in ("0.3125", "1.375", "2.71875")]
        values = [(f(x) + f(-x)) / 2 for x in points]
    first = values[0]
    if not all(v.is_finite() for v in values):
        return True
    return all(v.overlaps(first) for v in values[1:])


def _piecewise(parts: tuple[_Piece, ...], q: sympy.Expr) -> tuple[
        sympy.Expr, tuple[_Piece, ...], list[str], list[Step]]:
    exact, rest, done = sympy.Integer(0), [], 0
    density = 1 / sympy.sqrt(2 * sympy.pi * q)
    for lo, hi, g in parts:
        closed = _piece_moment(g, lo, hi, q)
        if closed is None:
            rest.append((lo, hi, g))
        else:
            exact += density * closed
            done += 1
    steps = [Step(f"{done} of {len(parts)} pieces are polynomial × Gaussian and integrate in "
                  "closed form on their intervals.", None)]
    rules = ["polynomial × Gaussian on pieces"] if done else []
    return _tidy(exact), tuple(rest), rules, steps


def _piece_moment(g: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr,
                  q: sympy.Expr) -> sympy.Expr | None:
    """∫_lo^hi g(x)·e^{−x²/(2q)} dx when g is a sum of c·x^k·e^{αx² + βx}."""
    total = sympy.Integer(0)
    try:
        for term in sympy.Add.make_args(sympy.expand(sympy.powsimp(g, combine="exp"))):
            c, k, alpha, beta, erfs = parse_term(term)
            if erfs:
                return None
            a = alpha - 1 / (2 * q)
            if not (a.is_negative or (a.is_number and sympy.N(a) < 0)):
                return None
            total += c * moment_on(k, a, beta, lo, hi)
    except OutsideRules:
        return None
    return total


def _linear(r: sympy.Expr) -> sympy.Expr:
    """E(r) written Σ c·E(t) (E is linear; constants come out)."""
    out = sympy.Integer(0)
    for term in sympy.Add.make_args(r):
        c, t = term.as_independent(z)
        out += c * E(t) if t != 1 else c
    return out


def _tidy(e: sympy.Expr) -> sympy.Expr:
    # simplify() tidies short results; on long ones (SELU's constants) it takes seconds
    return sympy.simplify(e) if sympy.count_ops(e) < 60 else e


def _assemble(parts: tuple[_Piece, ...], q: sympy.Expr, exact: sympy.Expr,
              residual: tuple[_Piece, ...], rules: list[str], steps: list[Step],
              digits: int) -> GaussianExpectation:
    numeric_q = not q.free_symbols
    enclosure = _enclose(exact, digits) if numeric_q and not exact.free_symbols else None
    if not residual:
        how = Exact(" + ".join(rules) if rules else "closed form")
        return GaussianExpectation(parts, q, exact, exact, exact, (), enclosure, tuple(rules),
                                   provenances(value=how), tuple(steps))
    if not numeric_q:
        raise NoClosedForm(f"E[g(√q Z)] has no closed form by symgrad's rules for symbolic q "
                           f"(left: {[r[2] for r in residual]}); pass a number for q")
    integral = gaussian_integral(residual, q=q, digits=digits)
    if len(residual) == 1 and residual[0][:2] == (-sympy.oo, sympy.oo):
        reduced = exact + (_linear(residual[0][2]) if rules else E(residual[0][2]))
    else:
        reduced = exact + E(sympy.Piecewise(*[(g, sympy.And(lo < z, z < hi))
                                              for lo, hi, g in residual]))
    steps = [*steps, *integral.steps]
    if integral.certified is None or enclosure is None:
        value = sympy.Float(sympy.N(exact, digits + 5) + integral.value, digits)
        return GaussianExpectation(parts, q, value, reduced, exact, residual, None,
                                   tuple(rules), provenances(value=integral.how), tuple(steps))
    with working_precision(bits_for_digits(digits) + 64):
        total = enclosure.ball() + integral.certified.ball()
    number = CertifiedNumber.from_arb(total, digits)
    method = "exact reduction + " + integral.how.method if rules else integral.how.method
    return GaussianExpectation(parts, q, number.sympy_float(), reduced, exact, residual, number,
                               tuple(rules), provenances(value=number.certified(method)),
                               tuple(steps))


def _enclose(value: sympy.Expr, digits: int) -> CertifiedNumber:
    with working_precision(bits_for_digits(digits) + 64):
        ball: arb = constant_ball(value)
    return CertifiedNumber.from_arb(ball, digits)
