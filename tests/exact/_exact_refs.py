"""Independent references for the exactness engine's tests: mpmath at high precision.

Nothing here imports symgrad._exact: roots come from sign scans plus mpmath's findroot,
expectations from mpmath's tanh-sinh quadrature, and printed digits are checked against
the reference rounded by Python's decimal module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import mpmath
import sympy

from symgrad._core.symbols import z

MpFn = Callable[[Any], Any]


def mp_function(expr: sympy.Expr) -> MpFn:
    """expr as written, evaluated by mpmath at the caller's precision."""
    extra = {"erfcx": lambda x: mpmath.exp(x**2) * mpmath.erfc(x)}
    return sympy.lambdify(z, expr, modules=[extra, "mpmath"])


def reference_roots(f: MpFn, lo: float, hi: float, *, step: float, dps: int = 80) -> list[Any]:
    """Roots of f on (lo, hi): a sign scan at ``step`` (exact zeros on the grid kept), then
    each sign change refined by bisection-safe findroot at ``dps`` digits."""
    roots = []
    with mpmath.workdps(dps):
        n = round((hi - lo) / step)
        xs = [mpmath.mpf(lo) + mpmath.mpf(step) * k for k in range(n + 1)]
        values = [f(x) for x in xs]
        for a, b, fa, fb in zip(xs, xs[1:], values, values[1:], strict=False):
            if fa == 0:
                roots.append(a)
            elif fa * fb < 0:
                roots.append(mpmath.findroot(f, (a, b), solver="anderson"))
    return roots


def gaussian_quad(pieces: Sequence[tuple[Any, Any, sympy.Expr]], q: Any, *,
                  dps: int = 50) -> Any:
    """E[g(√q Z)] by mpmath quadrature, split at 0 and at the pieces' ends."""
    with mpmath.workdps(dps + 10):
        root = mpmath.sqrt(mpmath.mpf(sympy.N(q, dps + 20)))
        total = mpmath.mpf(0)
        for lo, hi, expr in pieces:
            fn = mp_function(expr)
            a = -mpmath.inf if lo == -sympy.oo else mpmath.mpf(sympy.N(lo, dps + 20)) / root
            b = mpmath.inf if hi == sympy.oo else mpmath.mpf(sympy.N(hi, dps + 20)) / root
            cuts = [a, *[c for c in (-2, -1, 0, 1, 2) if a < c < b], b]
            total += mpmath.quad(lambda t, fn=fn: fn(root * t) * mpmath.npdf(t), cuts)
        return total


def decimal_of(x: Any, digits: int = 90) -> Decimal:
    with mpmath.workdps(digits + 5):
        return Decimal(mpmath.nstr(x, digits, min_fixed=-(10**9), max_fixed=10**9))


def assert_proven(text: str, reference: Any) -> None:
    """The printed string is the reference rounded (half to even) at the string's last place."""
    shown = Decimal(text)
    places = shown.as_tuple().exponent
    assert isinstance(places, int)
    with localcontext() as ctx:
        ctx.prec = 200
        rounded = decimal_of(reference).quantize(Decimal(1).scaleb(places), ROUND_HALF_EVEN)
    assert rounded == shown, f"printed {text}, but the reference rounds to {rounded}"
