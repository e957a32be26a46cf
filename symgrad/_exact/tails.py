"""Tail forms: f on [a, ∞) written z^N·e^{E(z)}·T(z) with T bounded, and T's sign proven.

Towards +∞ (−∞ is handled by substituting z → −z), :func:`tail_form` writes f as a
sum of terms c·z^p·e^{P(z)}·B(z) — c a constant, P a polynomial, B a product of
*bounded* factors — by rules that are algebraic identities:

* xᵏ for a sum x = D·(1 + ρ) with D its fastest-growing term and ρ → 0:
  xᵏ = Dᵏ·(1 + ρ)ᵏ, and for k = −m < 0, (1 + ρ)^(−m) = 1 − ρ·Σ_{j<m}(1 + ρ)^(j−m), so
  constants cancel exactly (1/(1 + e^{−z}) − 1 = −e^{−z}/(1 + e^{−z}));
* e^{u} = e^{P}·e^{r} with P the polynomial part of u and r bounded;
* erf(P) = ±(1 − erfcx(±P)·e^{−P²}) for a polynomial P → ±∞ (erfcx = e^{x²}erfc(x));
* log(D·(1 + ρ)) = log c + P + log(B·(1 + ρ)); atan(u) = ±π/2 − atan(1/u);
* tanh, sinh, cosh through exponentials.

Dividing by the dominant term's scale z^N·e^{E} (positive for z > 0) leaves
T = Σ c·z^{p−N}·e^{P−E}·B with every term bounded; the dominant ones tend to constants.
:meth:`TailForm.enclosure_beyond` then encloses T on the whole of [a, ∞]: z^k·e^{G} is
non-increasing there once k + z·G'(z) ≤ 0 on [a, ∞) (checked on the Taylor coefficients
of that polynomial at a), so it lies in [0, a^k·e^{G(a)}]; a monotone function of a
polynomial that is monotone on [a, ∞) lies between its values at a and at the limit.
An enclosure of T excluding 0 proves f has no root on [a, ∞) — a rigorous statement
about infinitely many points, made of finitely many ball operations.

>>> from symgrad._core.symbols import z
>>> t = tail_form(1 / (1 + sympy.exp(-z)) - sympy.Rational(1, 2), 1)
>>> t.scale
1
>>> with working_precision(64):
...     print(t.enclosure_beyond(Fraction(8)) > 0)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy
from flint import arb, fmpq

from symgrad._core.symbols import z
from symgrad._exact.ball import working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.ball_function import BallFunction, compile_ball
from symgrad._exact.combine import together
from symgrad._exact.tail_bounds import decay_plan, plan
from symgrad._exact.tail_terms import ONE, NotTail, Term, as_expr, split, terms_of
from symgrad.errors import NoClosedForm

__all__ = ["TailForm", "tail_form"]


@dataclass(frozen=True)
class TailForm:
    """f(side·z) = z^N·e^{E(z)}·T(z) for z > 0, with T = Σ c·z^p·e^{P}·B bounded.

    ``power`` is N, ``exponent`` the polynomial E (no constant term), ``scale`` is
    z^N·e^{E(z)} (positive for z > 0), ``expr`` is T — all in the variable z standing for
    side·(the original z).
    """

    side: int
    power: sympy.Rational
    exponent: sympy.Expr
    expr: sympy.Expr
    terms: tuple[Term, ...]

    @property
    def scale(self) -> sympy.Expr:
        """z^N·e^{E(z)}."""
        return z**self.power * sympy.exp(self.exponent)

    @property
    def ball(self) -> BallFunction:
        return compile_ball(self.expr)

    def enclosure_beyond(self, a: Fraction) -> arb | None:
        """An enclosure of T over [a, ∞) at the current precision (None when the rules
        cannot bound it there: try a larger a)."""
        start = arb(fmpq(a.numerator, a.denominator))
        total = arb(0)
        for t in self.terms:
            mono = decay_plan(t.power, t.exponent)(start)
            rest = plan(t.bounded)(start)
            if mono is None or rest is None:
                return None
            total += constant_ball(t.coeff) * mono * rest
        return total if total.is_finite() else None


def _hyperbolic_to_exp(e: sympy.Expr) -> sympy.Expr:
    kinds = (sympy.tanh, sympy.sinh, sympy.cosh, sympy.sech, sympy.csch, sympy.coth)
    return e.replace(lambda x: isinstance(x, kinds), lambda x: x.rewrite(sympy.exp))


@lru_cache(maxsize=512)
def tail_form(f: sympy.Expr, side: int) -> TailForm:
    """f towards side·∞ (side = ±1) as a :class:`TailForm`.

    Raises :class:`NoClosedForm` when f is outside the rules (oscillating functions,
    e^{e^z}, log z growth…) or vanishes identically towards that side.
    """
    # One fraction first: mish's φ'' has 12 numerator terms over (1 + e^z)²·(…)³ this way,
    # against hundreds of terms when every nested quotient is expanded on its own.
    g = together(_hyperbolic_to_exp(f.subs(z, -z) if side < 0 else f))
    try:
        terms = terms_of(g)
        dominant, _ = split(terms)
    except NotTail as exc:
        raise NoClosedForm(f"no tail form for {f} towards {'+' if side > 0 else '-'}∞: "
                           f"{exc}") from None
    scale_term = Term(ONE, dominant.power, dominant.exponent, ONE)
    relative = tuple(t.over(scale_term) for t in terms)
    form = TailForm(side, dominant.power, dominant.exponent, as_expr(list(relative)), relative)
    _check(f, form)
    return form


def _check(f: sympy.Expr, form: TailForm) -> None:
    """Guard against a wrong rewrite: f(side·w) and scale(w)·T(w) must overlap."""
    lhs, scale = compile_ball(f), compile_ball(form.scale)
    with working_precision(192):
        for w in (arb(3), arb(fmpq(23, 2)), arb(57)):
            left = lhs(w * form.side)
            right = scale(w) * form.ball(w)
            if left.is_finite() and right.is_finite() and not left.overlaps(right):
                raise NoClosedForm(f"tail form of {f} disagrees with f at z = {w}")
