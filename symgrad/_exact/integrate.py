"""Certified Gaussian expectations E[g(√q·Z)], Z ~ N(0, 1), by rigorous integration.

With x = √q·Z the expectation is ∫ g(x)·ϕ_q(x) dx, ϕ_q the N(0, q) density.  Each smooth
piece (lo, hi) of g is integrated over [max(lo, −X), min(hi, X)] with Arb's integrator
(``acb.integral``: Gauss–Legendre with error bounds from complex ellipses, so the
integrand must be holomorphic near the segment — branch cuts return non-finite balls
and are refused), and the two tails beyond ±X are bounded:

**Tail bound.**  By :mod:`symgrad._exact.tails`, for x ≥ a, g(x) = x^N·e^{E(x)}·T(x)
with |T| ≤ M on [a, ∞).  If E(x) ≤ b·x + c there (E of degree ≤ 1, or decreasing) then
with h(x) = N·log x + b·x − x²/(4q), which is non-increasing for x ≥ X as soon as
X/(2q) ≥ N/X + b,

    ∫_X^∞ |g|·ϕ_q ≤ M·e^{c + h(X)}·∫_X^∞ e^{−x²/(4q)} dx/√(2πq)
                 = M·e^{c + h(X)}·erfc(X/(2√q))/√2,

an Arb number; X grows until it is below 10^(−digits−10).  g growing like e^{c·x²}
(c > 0) or faster is refused with :class:`InvalidArgument` (the expectation may
diverge).  When certification is impossible (no tail form, a branch cut on the real
line) the fallback is mpmath's tanh-sinh
quadrature, labelled ``estimated``, its error estimated by a second run at higher
precision and never below the working precision.

>>> from symgrad._core.symbols import z
>>> r = gaussian_integral([(-sympy.oo, sympy.oo, sympy.exp(-z) / (1 + sympy.exp(-z))**2)],
...                       q=1, digits=20)
>>> r.how.kind.value, str(r.certified)
('certified', '0.20662096414190703726')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy
from flint import acb, arb, fmpq

from symgrad._core.symbols import z
from symgrad._exact.ball import (
    CAP_BITS,
    START_BITS,
    bits_for_digits,
    precision_ladder,
    working_precision,
)
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.ball_function import compile_ball
from symgrad._exact.digits import CertifiedNumber, as_fraction
from symgrad._exact.tail_bounds import coefficients, eventually
from symgrad._exact.tails import TailForm, tail_form
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Estimated, How, Step

__all__ = ["Integral", "gaussian_density", "gaussian_integral"]

_MAX_CUT = 10_000
_TAIL_STARTS = 40


@dataclass(frozen=True)
class Integral:
    """E[g(√q·Z)]: ``value`` (proven digits, or the estimate), ``certified`` the
    enclosure when there is one, ``how`` the provenance, ``steps`` the derivation."""

    value: sympy.Float
    certified: CertifiedNumber | None
    how: How
    steps: tuple[Step, ...]


_Parts = list[tuple[Fraction | None, Fraction | None, sympy.Expr]]


def _pieces(pieces: Sequence[Any]) -> _Parts:
    out: _Parts = []
    for item in pieces:
        lo, hi, expr = (item.lo, item.hi, item.expr) if hasattr(item, "expr") else item
        ends: list[Fraction | None] = []
        for end in (sympy.sympify(lo), sympy.sympify(hi)):
            if end in (sympy.oo, -sympy.oo):
                ends.append(None)
            elif end.is_Rational:
                ends.append(Fraction(int(end.p), int(end.q)))
            else:
                raise InvalidArgument(f"piece ends must be rationals or ±oo, got {end}")
        e = sympy.sympify(expr)
        if e.free_symbols - {z}:
            raise InvalidArgument(f"a piece must be an expression in z, got {e}")
        out.append((ends[0], ends[1], e))
    return out


def gaussian_integral(pieces: Sequence[Any], *, q: Any, digits: int = 30) -> Integral:
    """E[g(√q·Z)] for g given by ``pieces`` — (lo, hi, expr) triples or objects with
    ``lo``, ``hi``, ``expr`` — certified when possible, else estimated."""
    qq = sympy.sympify(q)
    if not (qq.is_number and qq.is_positive):
        raise InvalidArgument(f"q must be a positive number, got {q!r}")
    if not isinstance(digits, int) or not 1 <= digits <= 300:
        raise InvalidArgument(f"digits must be an integer in [1, 300], got {digits!r}")
    parts = _pieces(pieces)
    try:
        return _certified(parts, qq, digits)
    except NoClosedForm as exc:
        return _estimated(parts, qq, digits, str(exc))


def gaussian_density(q: sympy.Expr, var: sympy.Symbol = z) -> sympy.Expr:
    """The N(0, q) density in ``var`` (the one density every Gaussian integral uses).

    >>> gaussian_density(sympy.Integer(1))
    sqrt(2)*exp(-z**2/2)/(2*sqrt(pi))
    """
    return sympy.exp(-(var**2) / (2 * q)) / sympy.sqrt(2 * sympy.pi * q)


def _certified(parts: _Parts, q: sympy.Expr, digits: int) -> Integral:
    target = Fraction(1, 10 ** (digits + 10))
    cuts = [_cut(expr, side, q, target) for lo, hi, expr in parts for side, end in
            ((1, hi), (-1, lo)) if end is None]
    cut = max([Fraction(8), *(c for c, _ in cuts)])
    tail = sum((bound for _, bound in cuts), Fraction(0))
    integrands = [(lo, hi, compile_ball(expr * gaussian_density(q))) for lo, hi, expr in parts]
    for bits in precision_ladder(bits_for_digits(digits), CAP_BITS):
        with working_precision(bits):
            total = arb(0, fmpq(tail.numerator, tail.denominator)) if tail else arb(0)
            for lo, hi, f in integrands:
                a = max(lo, -cut) if lo is not None else -cut
                b = min(hi, cut) if hi is not None else cut
                if a >= b:
                    continue
                value = acb.integral(f.complex, _point(a), _point(b), rel_tol=arb(2) ** -bits,
                                     abs_tol=arb(2) ** -bits, eval_limit=10**6)
                if not value.real.is_finite():
                    raise NoClosedForm("the integrand is not analytic near the real line "
                                       f"on [{a}, {b}]")
                total += value.real
        number = CertifiedNumber.from_arb(total, digits)
        if number.digits >= digits or bits == CAP_BITS:
            break
    steps = (Step(f"Arb's rigorous integrator on |x| ≤ {cut} (piece by piece) plus a proven "
                  f"bound {float(tail):.3g} on the Gaussian tails beyond, from the tail "
                  "form of the integrand.", None),)
    how = number.certified("Arb integration with proven tail bound")
    return Integral(number.sympy_float(), number, how, steps)


def _point(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


def _cut(g: sympy.Expr, side: int, q: sympy.Expr, target: Fraction) -> tuple[Fraction,
                                                                              Fraction]:
    """(X, B): ∫ beyond side·X of |g|·ϕ_q is at most B ≤ target (see the module doc)."""
    if g == 0:
        return Fraction(8), Fraction(0)
    form = tail_form(g, side)
    with working_precision(START_BITS):
        a, bound = _growth(form)
        n = arb(fmpq(int(form.power.p), int(form.power.q)))
        b, c = _linear_bound(form, a)
        qb = constant_ball(q)
        x = max(a, Fraction(8) * Fraction(int(float(sympy.sqrt(q))) + 1))
        for _ in range(200):
            xb = _point(x)
            # h'(x) = N/x + b − x/(2q) ≤ 0 for all x ≥ X
            decreasing = xb / (2 * qb) >= n.max(arb(0)) / xb + b
            h = n * xb.log() + b * xb - xb * xb / (4 * qb)
            tail = bound * (c + h).exp() * (xb / (2 * qb.sqrt())).erfc() / arb(2).sqrt()
            if decreasing and tail.is_finite() and tail < _point(target):
                return x, as_fraction(tail.upper())
            x = x * 5 / 4
            if x > _MAX_CUT:
                break
    raise NoClosedForm(f"cannot bound the Gaussian tail of {g} towards "
                       f"{'+' if side > 0 else '-'}∞")


def _growth(form: TailForm) -> tuple[Fraction, arb]:
    """(a, M): |T| ≤ M on [a, ∞)."""
    for j in range(_TAIL_STARTS):
        a = Fraction(4 * 2**j)
        enclosure = form.enclosure_beyond(a)
        if enclosure is not None:
            return a, enclosure.abs_upper()
    raise NoClosedForm(f"no bound on the tail form {form.expr}")


def _linear_bound(form: TailForm, a: Fraction) -> tuple[arb, arb]:
    """(b, c) with E(x) ≤ b·x + c for x ≥ a."""
    e = form.exponent
    if e == 0:
        return arb(0), arb(0)
    coeffs = coefficients(e)
    if len(coeffs) <= 2:
        return constant_ball(coeffs[0]), arb(0)
    if eventually(sympy.diff(e, z), _point(a)) < 0:
        value = arb(0)
        for cf in coeffs:
            value = value * _point(a) + constant_ball(cf)
        return arb(0), value
    raise InvalidArgument(f"the integrand grows like exp({sympy.sstr(e)}) towards "
                          f"{'+' if form.side > 0 else '-'}∞: faster than any e^(b·|x|), so "
                          "its Gaussian expectation may diverge; symgrad refuses it")


def _estimated(parts: _Parts, q: sympy.Expr, digits: int, why: str) -> Integral:
    def run(dps: int) -> mpmath.mpf:
        with mpmath.workdps(dps):
            total = mpmath.mpf(0)
            scale = mpmath.sqrt(mpmath.mpf(sympy.N(q, dps + 10)))
            for lo, hi, expr in parts:
                fn = sympy.lambdify(z, expr, modules="mpmath")
                a = -mpmath.inf if lo is None else mpmath.mpf(lo.numerator) / lo.denominator
                b = mpmath.inf if hi is None else mpmath.mpf(hi.numerator) / hi.denominator
                ends = [a / scale, 0, b / scale] if a < 0 < b else [a / scale, b / scale]
                total += mpmath.quad(lambda t, fn=fn: fn(scale * t) * mpmath.npdf(t), ends)
            return total

    first, second = run(digits + 10), run(digits + 25)
    if not mpmath.isfinite(second):
        raise InvalidArgument("the Gaussian expectation diverges")
    with mpmath.workdps(digits + 25):
        # never below the working precision, nor below the rounding of the value kept
        floor = abs(second) * mpmath.mpf(10) ** -(digits + 3) + mpmath.mpf(10) ** -(digits + 20)
        error = max(abs(first - second), floor)
    value = sympy.Float(mpmath.nstr(second, digits + 5), digits + 5)
    err = sympy.Float(mpmath.nstr(error, 3), 3)
    steps = (Step(f"Not certified ({why}); mpmath tanh-sinh quadrature at {digits + 25} "
                  "digits, error estimated against a run at "
                  f"{digits + 10} digits.", None),)
    return Integral(value, None, Estimated(err, "mpmath tanh-sinh quadrature"), steps)

