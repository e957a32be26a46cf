"""What happens to a gradient after L layers?  The product in closed form.

Conventions (``DESIGN.md``): a₀ = x, z_k = w_k a_{k−1} + b_k, a_k = φ(z_k), so the
gradient reaching the input is ∂L/∂a₀ = g·∏_{k=1}^{L} w_k φ'(z_k) (Bengio, Simard and
Frasconi 1994).  With a constant weight the chain settles at a fixed point
a* = φ(w a* + b), and the product behaves like (w φ'(z*))^L (at a kink z*, the slope of
the side the chain approaches from, or the geometric mean of both when it alternates
sides); every factor is at most
|w|·γ (γ = sup|φ'|), so it is at most (|w|γ)^L.  Bounds: :mod:`symgrad.depth.bounds`;
traces: :mod:`symgrad.depth.trace`.

>>> gradient_product("sigmoid", weight=0.1).bound
(1/40)**L
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from symgrad._core.symbols import z
from symgrad._core.validate import as_exact_real, as_positive_int
from symgrad._exact.mpforms import compiled
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.records import Exactness, Record, Step
from symgrad.slopes.sup import max_slope
from symgrad.types import RealLike

__all__ = ["FixedPoint", "GradientProduct", "fixed_point", "gradient_product"]

#: The symbolic depth and layer index used in every closed form.
L = sympy.Symbol("L", integer=True, positive=True)
k = sympy.Symbol("k", integer=True, positive=True)
_w = sympy.IndexedBase("w", real=True)
_z = sympy.IndexedBase("z", real=True)
_a = sympy.Symbol("a", real=True)
_ITERATIONS = 10_000  # forward layers tried before a chain is said not to settle


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
    _, fn, dfn = compiled(phi.expr, phi.derivative, int((work + 40) * 3.33) + 8)
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


# ---- a fixed point at a kink ----


def _kink_factor(
    phi: Activation, w: sympy.Expr, b: sympy.Expr, x: RealLike, fp: FixedPoint, dps: int
) -> tuple[sympy.Expr, Step] | None:
    """The factor per layer when z* is a kink, φ'(z*−) = s₋ ≠ s₊ = φ'(z*+), and the chain
    does not land on it (``None`` otherwise: then every factor is w φ'(z*) from the kink's
    convention, or z* is no kink).

    Near z*, u_k = z_k − z* follows u_{k+1} ≈ w s_± u_k, the slope of u_k's side.  A side
    with w s > 0 keeps the chain on it (factor w s); with w s < 0 it sends the chain
    across; both < 0, the sides alternate and two layers multiply by w² s₋ s₊, i.e. by
    −|w|√(s₋ s₊) per layer; w s = 0 lands on z* (the convention's slope from then on).
    """
    if fp.exactness is not Exactness.EXACT:
        return None
    zs = fp.preactivation
    s_minus, s_plus = phi.one_sided_derivatives(zs)
    if _exact_sign(s_minus - s_plus) == 0:
        return None
    side = _side_near(phi, w, b, x, zs, dps)
    slope = {-1: s_minus, 1: s_plus}
    sign: dict[int, int] = {}
    for s in (-1, 1):
        decided = _exact_sign(w * slope[s])
        if decided is None:
            return None
        sign[s] = decided
    if side == 0 or sign[side] == 0:
        return None
    if sign[side] < 0:  # sent across
        side = -side
        if sign[side] == 0:
            return None
        if sign[side] < 0:
            factor = -sympy.Abs(w) * sympy.sqrt(s_minus * s_plus)
            return factor, Step(
                "z* is a kink and the chain alternates sides, so two layers multiply by"
                " w² φ'(z*−) φ'(z*+): per layer",
                sympy.Eq(sympy.Symbol("f"), factor))
    which = "below" if side < 0 else "above"
    factor = w * slope[side]
    return factor, Step(
        f"z* is a kink and the chain approaches it from {which}: the one-sided slope",
        sympy.Eq(sympy.Symbol("f"), factor))


def _side_near(
    phi: Activation, w: sympy.Expr, b: sympy.Expr, x: RealLike, zs: sympy.Expr, dps: int
) -> int:
    """The side of z* (−1, +1) of the chain's first z_k within 10^−dps of z*; 0 when the
    chain lands on z* or does not come that close within the layers tried."""
    work = dps + 20
    _, fn, _ = compiled(phi.expr, phi.derivative, int(work * 3.33) + 8)
    with mpmath.workdps(work):
        prec = mpmath.mp.prec
        wm, bm = w._to_mpmath(prec), b._to_mpmath(prec)
        target = zs._to_mpmath(prec)
        close = mpmath.mpf(10) ** -dps * max(1, abs(target))
        a = as_exact_real(x, "x")._to_mpmath(prec)
        for _ in range(_ITERATIONS):
            zk = wm * a + bm
            if zk == target:
                return 0
            if abs(zk - target) <= close:
                return 1 if zk > target else -1
            a = fn(zk)
    return 0


# ---- the gradient product ----


@dataclass(frozen=True)
class GradientProduct(Record):
    """∂a_L/∂a₀ = ∏_{k=1}^{L} w_k φ'(z_k) for symbolic depth L, with what follows from it.

    ``product`` is the SymPy ``Product``; ``bound`` the worst case (|w|γ)^L; for a
    constant weight, ``fixed_point`` a* (or ``None``), ``factor`` = w φ'(z*) (at a kink
    the factor per layer the chain sees there, see :func:`_kink_factor`), the
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
                    ("factor per layer f (w φ'(z*) off kinks)", self.factor),
                    ("rate −ln|f|", self.rate)]
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

    Leaky ReLU with w = −½ alternates sides of its kink at 0, slopes 1/100 and 1:

    >>> gradient_product("leaky_relu", weight=-0.5).factor
    -1/20
    """
    phi = as_activation(act)
    ms = max_slope(phi)
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
        kink = _kink_factor(phi, w, b, x, fp, dps) if fp.reached else None
        if kink is not None:
            factor = kink[0]
            steps.append(kink[1])
        elif fp.exactness is Exactness.EXACT:
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
