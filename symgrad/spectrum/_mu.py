"""Where the Gaussian slope moments come from: μ_k = E[φ'(√q Z)^{2k}], each with a label.

Everything the free-probability algebra knows about φ enters through these numbers; this
module is their one source.  They come straight from symgrad's exactness engine:

* q exact (relu, leaky_relu, identity at any q; q* = 0): the law's atoms when φ' is
  piecewise constant, else the engine at that q — a closed form where a rule proves one
  (:func:`~symgrad._exact.erf_moments.erf_expectation`: polynomial × Gaussian × erf, so
  erf's μ_k = (4/π)^k/√(1 + 4kq); polynomial × Gaussian on pieces via
  :func:`~symgrad._exact.gaussian_rules.gaussian_expectation`: hard_tanh's
  μ_k = erf(1/√(2q)), elu, selu), else Arb integration with proven tail bounds
  (:func:`~symgrad._exact.integrate.gaussian_integral`: tanh, sigmoid, gelu_tanh, …);
* q certified, q ∈ [q_lo, q_hi] (:mod:`symgrad.spectrum._fixed`): for f = φ'^{2k} ≥ 0 the
  N(0, q) density is squeezed between the two ends, e^{−h²/2q_lo}/√(2πq_hi) ≤
  e^{−h²/2q}/√(2πq) ≤ e^{−h²/2q_hi}/√(2πq_lo), so

      √(q_lo/q_hi)·μ_k(q_lo) ≤ μ_k(q) ≤ √(q_hi/q_lo)·μ_k(q_hi),

  and the μ_k at the two rational ends are certified as above: μ_k is certified;
* q estimated: μ_k at a rational within q's error, plus the estimate
  |dμ_k/d ln q|·(relative error of q)·2, with dμ_k/d ln q = ½·E[φ'(h)^{2k}(Z² − 1)]
  (d/dq of the N(0, q) density is the density times (h² − q)/(2q²)) in float64.

>>> m = slope_moments(as_activation("relu"), sympy.Integer(1), Exact(), 3)
>>> m.values, m.hows[0].kind.value
((1/2, 1/2, 1/2), 'exact')
>>> e = slope_moments(as_activation("erf"), sympy.Rational(1, 2), Exact(), 2)
>>> e.values, e.hows[1].kind.value
((4*sqrt(3)/(3*pi), 16*sqrt(5)/(5*pi**2)), 'exact')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy
from flint import arb, fmpq

from symgrad._exact.ball import bits_for_digits, working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.digits import CertifiedNumber, arb_bounds
from symgrad._exact.erf_moments import erf_expectation
from symgrad._exact.gaussian_rules import gaussian_expectation
from symgrad._exact.integrate import gaussian_integral
from symgrad._exact.tail_bounds import decay_plan
from symgrad._exact.tails import tail_form
from symgrad.activations import Activation, as_activation
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Certified, Estimated, Exact, How
from symgrad.spectrum._law import exact_form, gauss_expect, scale_free, slope_law

__all__ = ["DIGITS", "SlopeMoments", "gaussian_mean", "slope_moments"]

#: Digits of every certified Gaussian integral behind a slope moment.
DIGITS = 30
_CLOSED = (sympy.exp, sympy.erf, sympy.erfc)


@dataclass(frozen=True)
class SlopeMoments:
    """μ_1 … μ_K at q, each with how it was obtained; ``degenerate`` when q* = 0 (the
    values are then the limit q → 0⁺: φ'(0⁻)^{2k} and φ'(0⁺)^{2k}, each with mass ½)."""

    q: sympy.Expr
    values: tuple[sympy.Expr, ...]
    hows: tuple[How, ...]
    degenerate: bool

    @property
    def exact(self) -> bool:
        return all(isinstance(h, Exact) for h in self.hows)

    @property
    def certified(self) -> bool:
        """Every μ_k exact or certified."""
        return all(isinstance(h, Exact | Certified) for h in self.hows)


def _zero_limit(act: Activation, k: int) -> sympy.Expr:
    left, right = act.one_sided_derivatives(0)
    return exact_form((left ** (2 * k) + right ** (2 * k)) / 2)


def slope_moments(act: Activation | str, q: sympy.Expr, q_how: How, count: int
                  ) -> SlopeMoments:
    """μ_k = E[φ'(√q Z)^{2k}] for k = 1 … ``count``, each labelled (module docstring).

    ``q_how`` says how q was obtained (:class:`Exact`, :class:`Certified` with rational or
    Float ends, :class:`Estimated`).  q = 0 gives the limit q → 0⁺; an infinite q is
    refused unless the law does not depend on q.
    """
    act = as_activation(act)
    if scale_free(act):
        q, q_how = sympy.Integer(1), Exact("scale-free law")
    if q == 0:
        limits = tuple(_zero_limit(act, k) for k in range(1, count + 1))
        return SlopeMoments(q, limits, tuple(Exact("limit q* → 0⁺") for _ in limits), True)
    if q == sympy.oo or q.is_finite is False:
        raise InvalidArgument(f"q* is infinite for {act.label}: the slope law has no limit")
    law = slope_law(act, q) if isinstance(q_how, Exact) else None
    values: list[sympy.Expr] = []
    hows: list[How] = []
    for k in range(1, count + 1):
        if law is not None and law.atoms is not None:  # piecewise-constant φ': Σ p·x^k
            values.append(exact_form(sum((p * x**k for x, p in law.atoms),
                                              sympy.Integer(0))))
            hows.append(Exact("point masses of φ'² (Gaussian probabilities of the pieces)"))
        elif isinstance(q_how, Exact):
            value, how, _ = _at(act, k, sympy.sympify(q))
            values.append(value)
            hows.append(how)
        elif isinstance(q_how, Certified):
            value, how = _squeezed(act, k, q_how)
            values.append(value)
            hows.append(how)
        else:
            value, how = _estimated(act, k, q, q_how)
            values.append(value)
            hows.append(how)
    return SlopeMoments(q, tuple(values), tuple(hows), False)


# ---- at an exact q ----


@lru_cache(maxsize=1024)
def _at(act: Activation, k: int, q: sympy.Expr) -> tuple[sympy.Expr, How,
                                                        CertifiedNumber | None]:
    """μ_k at an exact positive q: (value, how, enclosure or None)."""
    pieces = tuple((p.lo, p.hi, p.derivative ** (2 * k)) for p in act.pieces)
    if len(pieces) == 1 and not _closed_rules_apply(pieces[0][2]):
        clipped = _clipped(act, k, q)
        if clipped is not None:
            return clipped
    return gaussian_mean(pieces, q)


def _closed_rules_apply(g: sympy.Expr) -> bool:
    return all(isinstance(f, _CLOSED) for f in g.atoms(sympy.Function))


@lru_cache(maxsize=64)
def slope_tails(act: Activation) -> tuple[tuple[Fraction, Fraction], ...] | None:
    """For each side (−∞, +∞): (a, S) with |φ'(h)| ≤ S wherever ±h ≥ a, from the tail form
    φ'(±z) = z^N·e^{E(z)}·T(z) (:mod:`symgrad._exact.tails`): T enclosed over [a, ∞) and
    z^N·e^{E} bounded there by its value at a once it decreases.  None when φ' has no tail
    form or grows."""
    out = []
    for side, piece in ((-1, act.pieces[0]), (1, act.pieces[-1])):
        try:
            form = tail_form(piece.derivative, side)
        except NoClosedForm:
            return None
        with working_precision(128):
            for j in range(30):
                a = Fraction(4 * 2**j)
                t = form.enclosure_beyond(a)
                scale = decay_plan(form.power, form.exponent)(arb(fmpq(a.numerator,
                                                                       a.denominator)))
                if t is not None and scale is not None and (t * scale).is_finite():
                    out.append((a, arb_bounds(abs(t) * scale)[1]))
                    break
            else:
                return None
    return tuple(out)


def _clipped(act: Activation, k: int, q: sympy.Expr) -> tuple[sympy.Expr, How,
                                                            CertifiedNumber] | None:
    """μ_k for one smooth piece: the integral over [−X, X] certified, plus the two tails
    0 ≤ ∫_{±h>X} φ'^{2k}·N(h; 0, q) ≤ S^{2k}·erfc(X/√(2q))/2 (φ'^{2k} ≥ 0, |φ'| ≤ S there),
    X the first integer ≥ a that makes both below 10^(−digits−8)·μ_k.  One tail form of φ'
    serves every k (the engine would derive one per integrand)."""
    tails = slope_tails(act)
    if tails is None:
        return None
    qf = float(q)
    guess, _ = gauss_expect(act, qf, lambda h: act.numpy_prime(h) ** (2 * k))
    target = 10.0 ** -(DIGITS + 8) * max(guess, 1e-300)
    reach = int(max(a for a, _ in tails)) + 1
    while any(float(bound) ** (2 * k) * math.erfc(reach / math.sqrt(2 * qf)) / 2 > target
              for _, bound in tails) and reach < 10**6:
        reach = int(reach * 1.25) + 1
    integral = gaussian_integral([(-reach, reach, act.pieces[0].derivative ** (2 * k))], q=q,
                                 digits=DIGITS)
    if integral.certified is None:
        return None
    with working_precision(bits_for_digits(DIGITS) + 64):
        spread = arb(0)
        for _, bound in tails:
            root = (2 * constant_ball(q)).sqrt()
            spread += arb(fmpq(bound.numerator, bound.denominator)) ** (2 * k) * (
                arb(reach) / root).erfc() / 2
        inside = integral.certified
        number = CertifiedNumber(inside.lower, arb_bounds(
            arb(fmpq(inside.upper.numerator, inside.upper.denominator)) + spread)[1], DIGITS)
    how = number.certified(f"Arb integration on |h| ≤ {reach}, tails bounded by "
                           "sup|φ'|^{2k}·P(|h| > X) from φ''s tail form")
    return number.sympy_float(), how, number


@lru_cache(maxsize=1024)
def gaussian_mean(pieces: tuple[tuple[sympy.Expr, sympy.Expr, sympy.Expr], ...],
                  q: sympy.Expr) -> tuple[sympy.Expr, How, CertifiedNumber | None]:
    """E[g(√q Z)] for g given piece by piece, at an exact positive q, from the exactness
    engine: (value, how, enclosure or None when only estimated).

    One smooth piece: the closed-form rules for polynomial × Gaussian × erf when g is built
    from exp and erf only, else certified integration straight away (the logistic rules
    never close an even power of φ', and trying them costs seconds).  Several pieces:
    :func:`gaussian_expectation` (closed forms on polynomial × Gaussian pieces, the rest
    integrated)."""
    if len(pieces) > 1:
        r = gaussian_expectation(list(pieces), q=q, digits=DIGITS)
        return r.value, r.how("value"), r.certified
    g = pieces[0][2]
    if _closed_rules_apply(g):
        closed = erf_expectation(g, q)
        if closed is not None:
            with working_precision(bits_for_digits(DIGITS) + 64):
                enclosure = CertifiedNumber.from_arb(constant_ball(closed), DIGITS)
            return closed, Exact("Gaussian integral in closed form (absorption, Stein, "
                                 "orthant rules)"), enclosure
    integral = gaussian_integral(list(pieces), q=q, digits=DIGITS)
    return integral.value, integral.how, integral.certified


# ---- at a certified q ----


def _fraction(value: object) -> Fraction:
    e = sympy.Rational(value) if not isinstance(value, sympy.Rational) else value
    return Fraction(int(e.p), int(e.q))


def _squeezed(act: Activation, k: int, q_how: Certified) -> tuple[sympy.Expr, How]:
    lo, hi = _fraction(q_how.lower), _fraction(q_how.upper)
    if not 0 < lo <= hi:
        raise InvalidArgument(f"a certified q* needs 0 < lower <= upper, got [{lo}, {hi}]")
    ends = [_at(act, k, sympy.Rational(x.numerator, x.denominator)) for x in (lo, hi)]
    low, high = ends[0][2], ends[1][2]
    if low is None or high is None:  # an end only estimated: no enclosure to squeeze
        value = ends[0][0]
        return value, Estimated(sympy.Float(2 * abs(float(ends[1][0]) - float(value))
                                            + 1e-30 * abs(float(value)), 3),
                                "Gaussian integral estimated at both ends of q*'s enclosure")
    with working_precision(bits_for_digits(DIGITS) + 64):
        a, b = arb(fmpq(lo.numerator, lo.denominator)), arb(fmpq(hi.numerator, hi.denominator))
        lower = (a / b).sqrt() * arb(fmpq(low.lower.numerator, low.lower.denominator))
        upper = (b / a).sqrt() * arb(fmpq(high.upper.numerator, high.upper.denominator))
        number = CertifiedNumber(arb_bounds(lower)[0], arb_bounds(upper)[1], DIGITS)
    method = ("√(q_lo/q_hi)·μ(q_lo) ≤ μ(q) ≤ √(q_hi/q_lo)·μ(q_hi) over q*'s enclosure "
              "(φ'^{2k} ≥ 0), μ at both ends " + ("in closed form"
                                                 if isinstance(ends[0][1], Exact)
                                                 else "by certified integration"))
    return number.sympy_float(), number.certified(method)


# ---- at an estimated q ----


def _estimated(act: Activation, k: int, q: sympy.Expr, q_how: How) -> tuple[sympy.Expr, How]:
    error = float(q_how.error) if isinstance(q_how, Estimated) else 0.0
    rel = error if isinstance(q_how, Estimated) and q_how.relative else error / float(q)
    near = sympy.Rational(str(sympy.Float(q, 20)))  # within q's error of q
    value, how, enclosure = _at(act, k, near)
    qf = float(q)

    def sensitivity(h: object) -> object:
        return act.numpy_prime(h) ** (2 * k) * (h * h / qf - 1.0) / 2  # type: ignore[operator]

    slope, slope_err = gauss_expect(act, qf, sensitivity)
    err = 2.0 * (abs(slope) + slope_err) * (rel + 1e-20)
    if enclosure is not None:
        err += float(enclosure.width)
    elif isinstance(how, Estimated):
        err += float(how.error)
    err = max(err, 1e-30 * abs(float(value)))
    return sympy.Float(sympy.N(value, 25), 20), Estimated(
        sympy.Float(err, 3), f"Gaussian integral at q* known to {rel:.1e} (relative), "
        "plus |dμ/d ln q|·2·(relative error of q*)")
