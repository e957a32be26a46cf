"""The precision policy: how many digits symgrad keeps, promises and works with.

One place for the numbers every exact or certified computation uses, so a record's
promise ("≥ 30 digits") and the work behind it cannot drift apart.  Ball arithmetic
chooses its own bits: :func:`working_precision` sets FLINT's precision for a block (a
context that takes a lock and restores it) and :func:`precision_ladder` gives the
policy — start at :data:`START_BITS`, double, stop at :data:`CAP_BITS`.

>>> PROMISED_DIGITS <= KEPT_DIGITS < CHECK_DIGITS
True
>>> list(precision_ladder(2048))
[2048, 4096, 8192]
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sympy
from flint import ctx

from symgrad.errors import InvalidArgument

__all__ = ["CAP_BITS", "CHECK_DIGITS", "EVALF_MAXN", "KEPT_DIGITS", "LOCK", "MAX_EXACT_BITS",
           "PROMISED_DIGITS", "START_BITS", "bits_for_digits", "exact_power",
           "precision_ladder", "working_precision"]

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


# ---- ball arithmetic ----

#: Working precision a computation starts at (bits).
START_BITS = 128
#: Precision never exceeded: a result that needs more is reported, not looped on.
CAP_BITS = 8192

#: Held while FLINT's precision is set (one global for all threads).
LOCK = threading.RLock()


@contextmanager
def working_precision(bits: int) -> Iterator[None]:
    """FLINT's working precision set to ``bits`` inside the block, restored on exit.

    FLINT's precision is one global, so blocks in different threads take turns.
    """
    if not isinstance(bits, int) or not 16 <= bits <= CAP_BITS:
        raise InvalidArgument(f"precision must be an integer in [16, {CAP_BITS}] bits, "
                              f"got {bits!r}")
    with LOCK:
        saved = ctx.prec
        ctx.prec = bits
        try:
            yield
        finally:
            ctx.prec = saved


def bits_for_digits(digits: int) -> int:
    """A starting precision for ``digits`` significant digits: 3.33 bits per digit plus a
    margin for cancellation, at least :data:`START_BITS`."""
    return max(START_BITS, int(digits * 3.33) + 48)


def precision_ladder(start: int = START_BITS, cap: int = CAP_BITS) -> Iterator[int]:
    """start, 2·start, 4·start, … up to and including ``cap``."""
    bits = start
    while bits < cap:
        yield bits
        bits *= 2
    yield cap
