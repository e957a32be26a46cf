"""What happens to a gradient after L layers?  Closed-form products and bounds.

Conventions (``DESIGN.md``): a₀ = x, z_k = w_k a_{k−1} + b_k, a_k = φ(z_k), so the
gradient reaching the input is ∂L/∂a₀ = g·∏_{k=1}^{L} w_k φ'(z_k).  Every factor obeys
|w_k φ'(z_k)| ≤ |w_k|·γ with γ = sup|φ'|, so the product is at most (|w|γ)^L and
vanishes whenever |w| < 1/γ: with the sigmoid (γ = 1/4) whenever |w| < 4
(Hochreiter 1991; Bengio, Simard and Frasconi 1994).

>>> weight_bound("sigmoid").bound
4
>>> vanishing_depth(0.25, 1e-6).depth
10
>>> exploding_depth(2, 1000).depth
10
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from symgrad._mpfuncs import compiled
from symgrad._validate import as_exact_real, as_positive_int, describe
from symgrad.activations import Activation, as_activation, z
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Exactness, Record, Step
from symgrad.types import RealLike

__all__ = [
    "DepthThreshold",
    "FixedPoint",
    "GradientProduct",
    "Growth",
    "WeightBound",
    "exploding_depth",
    "fixed_point",
    "gradient_product",
    "vanishing_depth",
    "weight_bound",
]

#: The symbolic depth and layer index used in every closed form.
L = sympy.Symbol("L", integer=True, positive=True)
k = sympy.Symbol("k", integer=True, positive=True)
_w = sympy.IndexedBase("w", real=True)
_z = sympy.IndexedBase("z", real=True)
_a = sympy.Symbol("a", real=True)
_ITERATIONS = 10_000  # forward layers tried before a chain is said not to settle


def _max_slope(act: Activation) -> Any:
    from symgrad.slopes import max_slope  # the foundation's sup|φ'|

    return max_slope(act)


# ---- the weight bound ----


@dataclass(frozen=True)
class WeightBound(Record):
    """|w| < ``bound`` = 1/γ makes every factor |w φ'(z)| < 1 (γ = sup|φ'|).

    ``attained`` says whether γ is reached at a finite z: if it is, |w| = 1/γ gives a
    factor of exactly 1 there; if not, every factor stays below 1 at |w| = 1/γ too,
    but comes arbitrarily close.  γ = 0 gives ``bound`` = ∞ (every gradient is 0);
    γ = ∞ gives 0 (no weight guarantees vanishing).
    """

    activation: Activation
    gamma: sympy.Expr
    bound: sympy.Expr
    attained: bool
    at: sympy.Expr
    exactness: Exactness
    statement: str
    steps: tuple[Step, ...]

    def title(self) -> str:
        return f"Weight bound for {self.activation.label}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("γ = sup|φ'|", self.gamma), ("1/γ", self.bound), ("", self.statement)]

    def __float__(self) -> float:
        return float(self.bound)


def weight_bound(act: Activation | str) -> WeightBound:
    """1/γ with γ = sup_z |φ'(z)|: below it, the gradient vanishes at least like (|w|γ)^L.

    >>> weight_bound("tanh").bound
    1
    >>> weight_bound("sigmoid").attained
    True
    """
    phi = as_activation(act)
    ms = _max_slope(phi)
    gamma = sympy.sympify(ms.value)
    attained = bool(ms.attained)
    if gamma == 0:
        bound: sympy.Expr = sympy.oo
        statement = "φ' ≡ 0: every gradient is exactly 0 after one layer, for every weight."
    elif gamma == sympy.oo:
        bound = sympy.Integer(0)
        statement = "sup|φ'| = ∞: no weight bound makes every factor smaller than 1."
    else:
        # A certified γ (a Float) keeps its precision; an exact γ gives an exact 1/γ.
        bound = sympy.Float(1 / gamma, precision=gamma._prec) if gamma.is_Float else sympy.simplify(
            1 / gamma)
        if attained:
            statement = (
                f"|w| < {sympy.sstr(bound)} gives |w φ'(z)| < 1 for every z; at |w| = "
                f"{sympy.sstr(bound)} the factor is exactly 1 at z = {sympy.sstr(ms.at)}."
            )
        else:
            statement = (
                f"|w| ≤ {sympy.sstr(bound)} gives |w φ'(z)| < 1 for every finite z (γ is "
                f"approached as z → {sympy.sstr(ms.at)} but not attained), so factors can "
                "come arbitrarily close to 1."
            )
    steps = (
        Step("Per-layer factor bound", sympy.Le(sympy.Abs(sympy.Symbol("w") * sympy.Symbol(
            r"\varphi'(z)")), sympy.Abs(sympy.Symbol("w")) * gamma)),
        Step("Every factor is below 1 when", sympy.StrictLessThan(
            sympy.Abs(sympy.Symbol("w")), bound)),
    )
    exactness = Exactness.EXACT if ms.exact else Exactness.NUMERIC
    return WeightBound(phi, gamma, bound, attained, sympy.sympify(ms.at), exactness,
                       statement, steps)


# ---- depth thresholds ----


class Growth(enum.Enum):
    """Which way a product of equal factors goes."""

    VANISHING = "vanishing"
    EXPLODING = "exploding"


@dataclass(frozen=True)
class DepthThreshold(Record):
    """The smallest depth L with |factor|^L < eps (vanishing) or > size (exploding).

    Decided exactly: the comparison |f|^L vs the threshold is settled by exact integer
    arithmetic or by a rigorous interval enclosure of L·ln|f| − ln(threshold), never
    by a rounded float, so a boundary case (0.5³ = 0.125) lands on the right side.
    """

    growth: Growth
    factor: sympy.Expr
    threshold: sympy.Expr
    depth: int
    steps: tuple[Step, ...]

    def title(self) -> str:
        return f"{self.growth.value} depth"

    def summary(self) -> list[tuple[str, Any]]:
        return [("|factor|", self.factor), ("threshold", self.threshold), ("L", self.depth)]

    def __int__(self) -> int:
        return self.depth

    def __index__(self) -> int:
        return self.depth

    def __float__(self) -> float:
        return float(self.depth)


def _compare_power(f: sympy.Expr, n: int, t: sympy.Expr) -> int:
    """sign(f**n − t) for exact positive f, t and integer n ≥ 0, decided exactly."""
    if f == 0:
        return -1 if n > 0 else (1 if t < 1 else (0 if t == 1 else -1))
    if f.is_Rational and t.is_Rational:
        p, q, r, s = int(f.p), int(f.q), int(t.p), int(t.q)
        if n * max(p.bit_length(), q.bit_length()) <= 400_000:
            lhs, rhs = p**n * s, r * q**n
            return int(lhs > rhs) - int(lhs < rhs)
        # f**n = t would need q**n to divide s (gcd(p, q) = 1), impossible here,
        # so an interval enclosure of n·ln f − ln t decides at some precision.
        ctx = mpmath.iv
        for prec in (256, 1024, 4096, 16384, 65536):
            with mpmath.workprec(prec):
                old = ctx.prec
                ctx.prec = prec
                try:
                    d = n * ctx.log(ctx.mpf(p) / q) - ctx.log(ctx.mpf(r) / s)
                finally:
                    ctx.prec = old
                if d.a > 0:
                    return 1
                if d.b < 0:
                    return -1
        raise NoClosedForm(f"could not decide {f}**{n} against {t}")  # pragma: no cover
    difference = sympy.powsimp(f**n) - t
    for digits in (60, 200, 1000):
        approx = difference.evalf(digits)
        if approx.is_Float and approx != 0 and abs(approx) > sympy.Float(10) ** (
            -digits + 10) * (1 + abs(t.evalf(20))):
            return 1 if approx > 0 else -1
    if sympy.simplify(difference) == 0:
        return 0
    raise NoClosedForm(f"could not decide the sign of {difference}")  # pragma: no cover


def _threshold_depth(f: sympy.Expr, t: sympy.Expr, growth: Growth) -> int:
    """Smallest n ≥ 1 with f**n < t (VANISHING) or f**n > t (EXPLODING)."""
    want = -1 if growth is Growth.VANISHING else 1

    def ok(n: int) -> bool:
        return _compare_power(f, n, t) == want

    if f == 0:
        return 1
    with mpmath.workdps(40):
        guess = float(mpmath.log(t._to_mpmath(140)) / mpmath.log(f._to_mpmath(140)))
    n = max(1, math.floor(guess))
    while not ok(n):
        n += 1
    while n > 1 and ok(n - 1):
        n -= 1
    return n


def vanishing_depth(factor: RealLike, eps: RealLike) -> DepthThreshold:
    """The smallest integer L ≥ 1 with |factor|^L < eps, for |factor| < 1 and 0 < eps < 1.

    L = ⌊ln ε / ln|f|⌋ + 1 in general, decided exactly at the boundary:

    >>> vanishing_depth(0.5, 0.125).depth   # 0.5**3 == 0.125 is not < 0.125
    4
    >>> vanishing_depth(sympy.Rational(1, 4), sympy.Rational(1, 10**6)).depth
    10
    """
    f = sympy.Abs(as_exact_real(factor, "factor"))
    eps_ = as_exact_real(eps, "eps", domain=sympy.Interval.open(0, 1))
    if not f < 1:
        raise InvalidArgument(
            f"factor must satisfy |factor| < 1 for the product to vanish, got {describe(factor)}"
            " (use exploding_depth for |factor| > 1)"
        )
    n = _threshold_depth(f, eps_, Growth.VANISHING)
    steps = (
        Step("Smallest L with", sympy.StrictLessThan(f**L, eps_)),
        Step("Closed form", sympy.Eq(L, sympy.floor(sympy.log(eps_) / sympy.log(f)) + 1)
             if f != 0 else sympy.Eq(L, 1)),
        Step("Exact check: L works and L − 1 does not", sympy.And(
            sympy.StrictLessThan(sympy.Pow(f, n, evaluate=False), eps_, evaluate=False),
            sympy.GreaterThan(sympy.Pow(f, n - 1, evaluate=False), eps_, evaluate=False),
            evaluate=False) if n > 1 else None),
    )
    return DepthThreshold(Growth.VANISHING, f, eps_, n, steps)


def exploding_depth(factor: RealLike, size: RealLike) -> DepthThreshold:
    """The smallest integer L ≥ 1 with |factor|^L > size, for |factor| > 1 and size ≥ 1.

    >>> exploding_depth(2, 1024).depth   # 2**10 == 1024 is not > 1024
    11
    >>> exploding_depth(1.1, 1e6).depth
    145
    """
    f = sympy.Abs(as_exact_real(factor, "factor"))
    size_ = as_exact_real(size, "size", domain=sympy.Interval(1, sympy.oo))
    if not f > 1:
        raise InvalidArgument(
            f"factor must satisfy |factor| > 1 for the product to explode, got {describe(factor)}"
            " (use vanishing_depth for |factor| < 1)"
        )
    n = _threshold_depth(f, size_, Growth.EXPLODING)
    steps = (
        Step("Smallest L with", sympy.StrictGreaterThan(f**L, size_)),
        Step("Closed form", sympy.Eq(L, sympy.floor(sympy.log(size_) / sympy.log(f)) + 1)),
    )
    return DepthThreshold(Growth.EXPLODING, f, size_, n, steps)


# ---- the forward fixed point ----


@dataclass(frozen=True)
class FixedPoint(Record):
    """a* = φ(w a* + b): exact when SymPy solves it, else a certified bracket.

    ``value`` is exact (``exactness`` EXACT) or a SymPy Float inside ``bracket``, an
    interval of relative width < 10^−dps on whose ends g(a) = φ(w a + b) − a has
    opposite signs, so a root lies in it (each sign is evaluated at dps + 20 and at
    dps + 60 digits, and accepted only when both agree and |g| exceeds 100 times
    their difference).  ``reached``
    says whether the chain started at x settles there (within 10⁴ layers).
    """

    value: sympy.Expr
    preactivation: sympy.Expr
    slope: sympy.Expr
    exactness: Exactness
    bracket: tuple[sympy.Expr, sympy.Expr] | None
    reached: bool
    steps: tuple[Step, ...]

    def __float__(self) -> float:
        return float(self.value)

    def summary(self) -> list[tuple[str, Any]]:
        return [("a*", self.value), ("z* = w a* + b", self.preactivation),
                ("φ'(z*)", self.slope), ("exactness", self.exactness.value)]


def _exact_sign(expr: sympy.Expr) -> int | None:
    """The sign of a constant, decided by SymPy's assumptions, 60-digit evaluation away
    from 0, or ``simplify`` to 0; ``None`` when none of these decides."""
    if expr.is_zero:
        return 0
    if expr.is_positive:
        return 1
    if expr.is_negative:
        return -1
    approx = sympy.N(expr, 60)
    if approx.is_Float and abs(approx) > sympy.Float(10) ** -45:
        return 1 if approx > 0 else -1
    return 0 if sympy.simplify(expr) == 0 else None


def _exact_candidates(
    phi: Activation, w: sympy.Expr, b: sympy.Expr
) -> list[tuple[sympy.Expr, sympy.Expr, sympy.Expr]]:
    """(a*, z*, φ'(z*)) on pieces where φ is affine, and a* = 0 when φ(b) = 0."""
    found: list[tuple[sympy.Expr, sympy.Expr, sympy.Expr]] = []
    for piece in phi.pieces:
        expr = sympy.expand(piece.expr)
        if not expr.is_polynomial(z) or sympy.Poly(expr, z).degree() > 1:
            continue
        c1, c0 = expr.coeff(z, 1), expr.coeff(z, 0)
        if _exact_sign(1 - c1 * w) == 0:
            continue
        a_star = (c1 * b + c0) / (1 - c1 * w)
        zs = w * a_star + b
        # the pieces are lo < z ≤ hi, as the derivative's convention at kinks
        above = not piece.lo.is_finite or _exact_sign(zs - piece.lo) == 1
        below = not piece.hi.is_finite or _exact_sign(zs - piece.hi) in (-1, 0)
        if above and below:
            found.append((a_star, zs, c1))
    if all(a != 0 for a, _, _ in found) and _exact_sign(phi.expr.subs(z, b)) == 0:
        found.append((sympy.Integer(0), b, phi.derivative.subs(z, b)))
    return found


def _recognise(
    phi: Activation, w: sympy.Expr, b: sympy.Expr, root: Any, digits: int
) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr] | None:
    """A short closed form for a numeric fixed point (σ(2·½ − 1) = ½), proved exactly."""
    guess = sympy.nsimplify(sympy.Float(root, digits + 10), [sympy.pi, sympy.E],
                            tolerance=sympy.Float(10) ** -(digits + 5))
    if guess.is_Float or sympy.count_ops(guess) > 12:
        return None
    zs = w * guess + b
    residual = phi.expr.subs(z, zs) - guess
    if residual.is_zero or (residual.is_zero is None and sympy.simplify(residual) == 0):
        return guess, zs, sympy.simplify(phi.derivative.subs(z, zs))
    return None


def fixed_point(
    act: Activation | str, *, weight: RealLike, bias: RealLike = 0, x: RealLike = 1, dps: int = 30
) -> FixedPoint | None:
    """The fixed point a* = φ(w a* + b) the constant-weight chain from x settles at.

    ``None`` when no fixed point is found near the chain's iterates (it diverges or
    cycles).  Exact on affine pieces and at a* = 0; certified otherwise.

    >>> fixed_point("relu", weight=0.5, bias=1).value
    2
    >>> fp = fixed_point("sigmoid", weight=0.1)
    >>> fp.exactness.value, str(fp.value)[:12]
    ('numeric', '0.5128176319')
    """
    phi = as_activation(act)
    w = as_exact_real(weight, "weight")
    b = as_exact_real(bias, "bias")
    x0 = as_exact_real(x, "x")
    digits = as_positive_int(dps, "dps", minimum=5)
    work = digits + 20
    # constants evaluated once, precise enough for the dps + 60 check in _certain_sign
    _, fn, dfn = compiled(phi, int((work + 40) * 3.33) + 8)
    with mpmath.workdps(work):
        wm, bm = w._to_mpmath(mpmath.mp.prec), b._to_mpmath(mpmath.mp.prec)

        def g(a: Any) -> Any:
            return fn(wm * a + bm) - a

        a = x0._to_mpmath(mpmath.mp.prec)
        converged = False
        tol = mpmath.mpf(10) ** (-(digits + 10))
        big = mpmath.mpf(10) ** 50
        snapshots: list[Any] = []
        for i in range(1, _ITERATIONS + 1):
            nxt = fn(wm * a + bm)
            if not mpmath.isfinite(nxt) or abs(nxt) > big:
                return None
            if abs(nxt - a) <= tol * max(1, abs(nxt)):
                a, converged = nxt, True
                break
            a = nxt
            if i % 1000 == 0:
                snapshots.append(a)

        def settles_at(c: Any) -> bool:
            # Converged there, or the distance to c kept shrinking over the last 2000 layers.
            if converged:
                return bool(abs(c - a) <= mpmath.mpf(10) ** (-(digits // 2)) * max(1, abs(a)))
            d = [abs(s - c) for s in snapshots[-3:]]
            return len(d) == 3 and d[0] > d[1] > d[2]

        eq = sympy.Eq(_a, phi.expr.subs(z, w * _a + b))
        candidates = _exact_candidates(phi, w, b)
        if candidates:
            cand, zs, slope = min(
                candidates, key=lambda c: abs(c[0]._to_mpmath(mpmath.mp.prec) - a))
            reached = settles_at(cand._to_mpmath(mpmath.mp.prec))
            if reached or not converged:
                steps = (Step("Fixed-point equation", eq),
                         Step("Exact solution", sympy.Eq(_a, cand)))
                return FixedPoint(cand, zs, slope, Exactness.EXACT, None, reached, steps)
        # certified: refine, then bracket with a verified sign change
        try:
            root = mpmath.findroot(g, a, tol=mpmath.mpf(10) ** (-2 * work + 10))
        except (ValueError, ZeroDivisionError):
            root = a
        if not isinstance(root, mpmath.mpf):
            return None
        half = mpmath.mpf(10) ** (-(digits + 2)) * max(1, abs(root))
        lo, hi = root - half, root + half
        if not (_certain_sign(g, lo) * _certain_sign(g, hi) < 0):
            return None
        reached = settles_at(root)
        closed = _recognise(phi, w, b, root, digits)
        if closed is not None:
            steps = (Step("Fixed-point equation", eq),
                     Step("Exact solution (recognised, then checked exactly)",
                          sympy.Eq(_a, closed[0])))
            return FixedPoint(*closed, Exactness.EXACT, None, reached, steps)
        value = sympy.Float(root, digits)
        bracket = (sympy.Float(lo, digits + 4), sympy.Float(hi, digits + 4))
        steps = (
            Step("Fixed-point equation (no closed form found)", eq),
            Step(f"Sign change of φ(w a + b) − a verified at {work} and {work + 40} digits on",
                 sympy.Interval(*bracket)),
        )
        zm = wm * root + bm
        slope = sympy.Float(dfn(zm), digits)
        return FixedPoint(value, sympy.Float(zm, digits), slope, Exactness.NUMERIC, bracket,
                          reached, steps)


def _certain_sign(g: Any, a: Any) -> int:
    """The sign of g(a), or 0 when two precisions do not settle it."""
    low = g(a)
    with mpmath.extradps(40):
        high = g(a)
    if low == 0 or abs(low) <= 100 * abs(high - low):
        return 0
    return 1 if low > 0 else -1


# ---- the gradient product ----


@dataclass(frozen=True)
class GradientProduct(Record):
    """∂a_L/∂a₀ = ∏_{k=1}^{L} w_k φ'(z_k) for symbolic depth L, with what follows from it.

    ``product`` is the SymPy ``Product``; ``bound`` the worst case (|w|γ)^L; for a
    constant weight, ``fixed_point`` a* (or ``None``), ``factor`` = w φ'(z*), the
    asymptotic form ``asymptotic`` = factor^L, the decay ``rate`` = −ln|factor| per
    layer (negative: growth) and ``depth_scale`` = 1/|rate|.
    """

    activation: Activation
    depth: sympy.Symbol
    product: sympy.Expr
    gamma: sympy.Expr
    bound: sympy.Expr
    weight: sympy.Expr | None
    bias: sympy.Expr
    fixed_point: FixedPoint | None
    factor: sympy.Expr | None
    asymptotic: sympy.Expr | None
    rate: sympy.Expr | None
    depth_scale: sympy.Expr | None
    steps: tuple[Step, ...]

    def title(self) -> str:
        return f"Gradient product through depth, {self.activation.label}"

    def summary(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [("γ = sup|φ'|", self.gamma)]
        if self.factor is not None:
            out += [("a*", self.fixed_point.value if self.fixed_point else "none"),
                    ("w φ'(z*)", self.factor), ("rate −ln|w φ'(z*)|", self.rate)]
        return out


def gradient_product(
    act: Activation | str,
    *,
    weight: RealLike | None = None,
    bias: RealLike = 0,
    x: RealLike = 1,
    dps: int = 30,
) -> GradientProduct:
    """The gradient product through L layers, symbolic in L.

    Without ``weight`` the product keeps per-layer symbols w_k, z_k and the bound is
    (γ·max|w_k|)^L written with a symbol |w|.  With a constant ``weight`` it adds the
    forward fixed point and the geometric asymptotics (the chain's z_k → z*, so the
    product behaves like (w φ'(z*))^L).

    >>> gp = gradient_product("sigmoid", weight=4)
    >>> gp.bound
    1
    >>> gradient_product("relu", weight=0.5, bias=1).asymptotic
    (1/2)**L
    """
    phi = as_activation(act)
    ms = _max_slope(phi)
    gamma = sympy.sympify(ms.value)
    b = as_exact_real(bias, "bias")
    term = _w[k] * phi.derivative.subs(z, _z[k])
    product = sympy.Product(term, (k, 1, L))
    steps = [
        Step("Chain rule through the scalar chain (a_k = φ(w_k a_{k−1} + b_k))",
             sympy.Eq(sympy.Symbol(r"\frac{\partial a_L}{\partial a_0}"), product)),
    ]
    if weight is None:
        wabs = sympy.Symbol("|w|", nonnegative=True)
        bound = (wabs * gamma) ** L
        steps.append(Step("Worst case with |w_k| ≤ |w| and |φ'| ≤ γ", sympy.Le(
            sympy.Abs(product), bound)))
        return GradientProduct(phi, L, product, gamma, bound, None, b, None, None, None, None,
                               None, tuple(steps))
    w = as_exact_real(weight, "weight")
    bound = sympy.Pow(sympy.Abs(w) * gamma, L)
    steps.append(Step("Worst case, |φ'| ≤ γ", sympy.Le(sympy.Abs(product), bound)))
    fp = fixed_point(phi, weight=w, bias=b, x=x, dps=dps)
    factor = asymptotic = rate = scale = None
    if fp is not None:
        if fp.exactness is Exactness.EXACT:
            factor = w * fp.slope
        else:
            with mpmath.workdps(dps + 10):
                factor = sympy.Float(w._to_mpmath(mpmath.mp.prec)
                                     * fp.slope._to_mpmath(mpmath.mp.prec), dps)
        if fp.reached:
            asymptotic = sympy.Pow(factor, L)
        if factor == 0:
            rate, scale = sympy.oo, sympy.Integer(0)
        else:
            rate = -sympy.log(sympy.Abs(factor))
            scale = sympy.oo if rate == 0 else 1 / sympy.Abs(rate)
        steps.append(Step("Forward fixed point", sympy.Eq(_a, fp.value)))
        if asymptotic is not None:
            steps.append(Step("Geometric asymptotics (z_k → z*)", sympy.Eq(
                sympy.Symbol(r"\frac{\partial a_L}{\partial a_0}"), asymptotic)))
        else:
            steps.append(Step(f"The chain from x does not settle at a* within {_ITERATIONS}"
                              " layers (it cycles or drifts): no geometric asymptotics.", None))
    return GradientProduct(phi, L, product, gamma, bound, w, b, fp, factor, asymptotic, rate,
                           scale, tuple(steps))
