"""Signs and values of closed forms: the one way symgrad decides them.

A closed form's sign is decided by an Arb enclosure when it excludes 0 (milliseconds,
even for SELU's constants), else by SymPy's assumptions when they know it, else by a
60-digit evaluation (working as precisely as cancellation needs) away from 0, else by
``simplify`` to 0; ``None`` when none of these decides.

>>> import sympy
>>> sign_of(sympy.sqrt(2) - sympy.Rational(141, 100)), sign_of(sympy.log(sympy.E) - 1)
(1, 0)
>>> same(sympy.sqrt(8), 2 * sympy.sqrt(2))
True
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy

from symgrad._exact.ball import working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.precision import CHECK_DIGITS, EVALF_MAXN
from symgrad.errors import InvalidArgument, NoClosedForm

__all__ = ["abs_exact", "hp", "numeric", "same", "sign_of", "simplifiable"]

_TINY = sympy.Float(10) ** -45
#: Beyond this magnitude of a number in an expression, ``simplify`` is not asked to prove
#: it zero: its numeric steps (mpmath's ``identify`` inside ``nsimplify``) evaluate exp of
#: such numbers at their full size and overflow or run for minutes (a sigmoid chain with
#: w = 10¹⁰).
SIMPLIFY_LIMIT = 2**20


def simplifiable(expr: sympy.Expr) -> bool:
    """Whether every rational number in ``expr`` is within ±:data:`SIMPLIFY_LIMIT`, so
    that SymPy's zero tests on it finish."""
    return all(abs(r) <= SIMPLIFY_LIMIT for r in expr.atoms(sympy.Rational))


def numeric(expr: sympy.Expr, digits: int = CHECK_DIGITS) -> sympy.Expr:
    """``expr`` to ``digits`` correct digits, working as precisely as cancellation needs
    (2 − ε − 2√(1 − ε) ≈ ε²/4 needs 2·log10(1/ε) extra digits)."""
    return sympy.N(expr, digits, maxn=EVALF_MAXN)


def sign_of(expr: sympy.Expr) -> int | None:
    """The sign of a real closed form (−1, 0, 1), or ``None`` when it cannot be decided."""
    expr = sympy.sympify(expr)
    if expr.is_Number:
        return 0 if expr == 0 else (1 if expr > 0 else -1)
    fast = _ball_sign(expr)
    if fast is not None:
        return fast
    if expr.is_zero:
        return 0
    if expr.is_positive:
        return 1
    if expr.is_negative:
        return -1
    value = numeric(expr)
    if value.is_Number and not value.is_zero and abs(value) > _TINY:
        return 1 if value > 0 else -1
    return 0 if sympy.simplify(expr) == 0 else None


def _ball_sign(expr: sympy.Expr) -> int | None:
    """The sign from an Arb enclosure at 128 bits, when it excludes 0."""
    if expr.free_symbols or expr.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        return None
    try:
        with working_precision(128):
            ball = constant_ball(expr)
    except (NoClosedForm, InvalidArgument, TypeError, ValueError, ZeroDivisionError):
        return None
    if ball > 0:
        return 1
    if ball < 0:
        return -1
    return None


def same(a: Any, b: Any) -> bool:
    """Whether two closed forms are provably equal (``sign_of(a − b) == 0``)."""
    return sign_of(sympy.sympify(a) - sympy.sympify(b)) == 0


def hp(expr: sympy.Expr) -> mpmath.mpf:
    """A 60-digit mpmath value of a closed form (±∞ allowed)."""
    if expr in (sympy.oo, -sympy.oo):
        return mpmath.inf if expr == sympy.oo else -mpmath.inf
    with mpmath.workdps(CHECK_DIGITS):
        return mpmath.mpf(numeric(expr))


def abs_exact(value: sympy.Expr) -> sympy.Expr:
    """|value| as a closed form (its sign decided by :func:`sign_of`)."""
    return -value if sign_of(value) == -1 else value
