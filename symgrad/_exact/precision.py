"""The precision policy: how many digits symgrad keeps, promises and works with.

One place for the numbers every exact or certified computation uses, so a record's
promise ("≥ 30 digits") and the work behind it cannot drift apart.  Ball arithmetic
chooses its own bits (:func:`symgrad._exact.ball.precision_ladder`).

>>> PROMISED_DIGITS <= KEPT_DIGITS < CHECK_DIGITS
True
"""

from __future__ import annotations

import sympy

__all__ = ["CHECK_DIGITS", "EVALF_MAXN", "KEPT_DIGITS", "MAX_EXACT_BITS", "PROMISED_DIGITS",
           "exact_power"]

#: Significant digits a certified number is promised to carry.
PROMISED_DIGITS = 30
#: Significant digits a certified number is shown with at most.
KEPT_DIGITS = 40
#: Digits at which a closed form's sign or value is read off (``signs.numeric``).
CHECK_DIGITS = 60
#: Digits SymPy's evalf may use internally to beat cancellation.
EVALF_MAXN = 3000
#: The largest exact rational symgrad expands (its numerator and denominator's bits).
MAX_EXACT_BITS = 400_000


def exact_power(base: sympy.Expr, n: int) -> sympy.Expr:
    """base**n, exactly: expanded when the result stays below :data:`MAX_EXACT_BITS`,
    else the unevaluated power (still its exact closed form; nothing is computed).

    >>> exact_power(sympy.Rational(1, 2), 3), exact_power(sympy.Rational(3, 2), 10**20)
    (1/8, (3/2)**100000000000000000000)
    """
    if base.is_Rational and base in (0, 1, -1):
        return sympy.Pow(base, n)
    if base.is_Rational:
        size = max(abs(int(base.p)), int(base.q)).bit_length()
        if n * size <= MAX_EXACT_BITS:
            return sympy.Pow(base, n)
    elif base.is_number and n <= 64:
        return sympy.Pow(base, n)
    return sympy.Pow(base, n, evaluate=False)
