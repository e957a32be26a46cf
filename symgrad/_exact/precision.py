"""The precision policy: how many digits symgrad keeps, promises and works with.

One place for the numbers every exact or certified computation uses, so a record's
promise ("≥ 30 digits") and the work behind it cannot drift apart.

>>> PROMISED_DIGITS <= KEPT_DIGITS < BRACKET_DIGITS * 2
True
"""

from __future__ import annotations

import sympy

__all__ = [
    "BRACKET_DIGITS",
    "CHECK_DIGITS",
    "EVALF_MAXN",
    "INTERVAL_BITS",
    "KEPT_DIGITS",
    "PROMISED_DIGITS",
    "WINDOW",
]

#: Significant digits a certified number is promised to carry.
PROMISED_DIGITS = 30
#: Significant digits kept in a certified number's SymPy Float.
KEPT_DIGITS = 40
#: Relative width 10^−BRACKET_DIGITS a certified root's bracket is refined to.
BRACKET_DIGITS = 36
#: Digits at which a closed form's sign or value is read off (``signs.numeric``).
CHECK_DIGITS = 60
#: Digits SymPy's evalf may use internally to beat cancellation.
EVALF_MAXN = 3000
#: Bits of the interval context: about 72 significant digits.
INTERVAL_BITS = 240
#: Roots on an unbounded piece are isolated for |z| ≤ WINDOW; beyond it a tail
#: enclosure decides.
WINDOW = sympy.Integer(2) ** 30
