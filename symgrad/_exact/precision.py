"""The precision policy: how many digits symgrad keeps, promises and works with.

One place for the numbers every exact or certified computation uses, so a record's
promise ("≥ 30 digits") and the work behind it cannot drift apart.  Ball arithmetic
chooses its own bits (:func:`symgrad._exact.ball.precision_ladder`).

>>> PROMISED_DIGITS <= KEPT_DIGITS < CHECK_DIGITS
True
"""

from __future__ import annotations

__all__ = ["CHECK_DIGITS", "EVALF_MAXN", "KEPT_DIGITS", "PROMISED_DIGITS"]

#: Significant digits a certified number is promised to carry.
PROMISED_DIGITS = 30
#: Significant digits a certified number is shown with at most.
KEPT_DIGITS = 40
#: Digits at which a closed form's sign or value is read off (``signs.numeric``).
CHECK_DIGITS = 60
#: Digits SymPy's evalf may use internally to beat cancellation.
EVALF_MAXN = 3000
