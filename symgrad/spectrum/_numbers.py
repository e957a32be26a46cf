"""Numbers with their provenance through the spectrum's algebra: exact or as balls.

The free-probability algebra runs over one of two fields, chosen from how the inputs
(the slope moments μ_k, σ_w) were obtained:

* every input exact and rational → :class:`fractions.Fraction` (exact, fast);
* otherwise → python-flint ``arb`` balls at :data:`PREC` bits: an exact input becomes a
  Arb enclosure (:func:`symgrad._exact.ball_constants.constant_ball`), a :class:`Certified` one its
  enclosure, an
  :class:`Estimated` one mid ± error.  Ball arithmetic then carries every error to the
  output, which is :class:`Certified` when no input was estimated and
  :class:`Estimated` (error = the ball's radius) otherwise.

>>> from symgrad._exact.ball import working_precision
>>> from symgrad.records import Exact
>>> with working_precision(PREC):
...     ball = to_ball(sympy.Rational(1, 3), Exact())
...     value, how = from_ball(ball * 3, certified=True)
>>> float(value), how.kind.value
(1.0, 'certified')
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import flint
import sympy

from symgrad._exact.ball_constants import constant_ball
from symgrad.records import Certified, Estimated, How

__all__ = ["PREC", "from_ball", "rational", "to_ball"]

#: Bits of the balls' midpoints (≈ 60 digits): far below any input's error.
PREC = 200


def rational(value: sympy.Expr) -> Fraction | None:
    """The Fraction of an exact SymPy rational, else None (a Float is never guessed)."""
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    return None


def to_ball(value: Any, how: How) -> Any:
    """An ``arb`` enclosing ``value`` as ``how`` says (call inside ``working_precision``)."""
    if isinstance(how, Certified):
        lo, hi = _ball(how.lower, 0.0), _ball(how.upper, 0.0)
        return lo.union(hi)
    exact = rational(sympy.sympify(value))
    if exact is not None and not isinstance(how, Estimated):
        return flint.arb(flint.fmpq(exact.numerator, exact.denominator))
    if isinstance(how, Estimated):
        error = float(how.error) * (abs(float(value)) if how.relative else 1.0)
        return _ball(value, error)
    return constant_ball(sympy.sympify(value))


def _ball(value: Any, radius: float) -> Any:
    text = str(sympy.N(sympy.sympify(value), 70))
    return flint.arb(text, repr(max(radius, 0.0)) if radius else 0)


def from_ball(ball: Any, *, certified: bool, method: str = "ball arithmetic"
              ) -> tuple[sympy.Expr, How]:
    """(SymPy Float, provenance) of a ball: the digits the radius allows (≤ 30), and
    :class:`Certified` with the ball's ends, or :class:`Estimated` with its radius."""
    mid = ball.mid()
    rad = float(ball.rad())
    size = abs(float(mid))
    if size == 0.0 or rad == 0.0:
        digits = 30
    else:
        digits = max(2, min(30, math.floor(-math.log10(rad / size))))
    value = sympy.Float(mid.str(digits + 5, radius=False), digits)
    if certified:
        lower = sympy.Float(ball.lower().str(40, radius=False), 40)
        upper = sympy.Float(ball.upper().str(40, radius=False), 40)
        # The stored value is rounded to its proven digits: keep it inside the bounds.
        return value, Certified(min(lower, value), max(upper, value), method)
    return value, Estimated(sympy.Float(max(rad, 1e-30 * size), 3), method)
