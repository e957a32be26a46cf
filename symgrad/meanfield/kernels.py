"""Gaussian kernels in closed form, derived with SymPy: the integrals mean-field theory needs.

For u₁, u₂ jointly Gaussian with E[u₁²] = E[u₂²] = q and E[u₁u₂] = ρ = c·q:

* V(q) = E[φ(u)²] and S(q) = E[φ'(u)²]  (variance map and χ₁),
* K(q, c) = E[φ(u₁)φ(u₂)] and D(q, c) = E[φ'(u₁)φ'(u₂)]  (correlation map and χ_c).

The two-point kernels come from Price's theorem (Price 1958): ∂K/∂ρ = E[φ'(u₁)φ'(u₂)],
so K(ρ) = K(0) + ∫₀^ρ D, with K(0) = E[φ(u)]² (independent Gaussians).

* identity: direct integration.
* leaky_relu (relu is α = 0): φ' = α + (1 − α)·H(u), so D needs P(u₁ > 0, u₂ > 0), which is
  Price's theorem again (∂P/∂ρ = p(0, 0) = 1/(2π√(q² − ρ²)), P(0) = 1/4): Sheppard's
  formula 1/4 + asin(c)/(2π); integrating once more gives the arc-cosine kernel
  (Cho and Saul 2009).
* erf: φ'(u₁)φ'(u₂) = (4/π)·exp(−u₁² − u₂²), whose Gaussian expectation SymPy integrates
  (conditioning u₂ on u₁); integrating over ρ gives the arc-sine kernel (Williams 1997).

>>> k = closed_kernels(activation("relu"))
>>> k.V
q/2
>>> sympy.simplify(k.K.subs(C, 0))
q/(2*pi)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from symgrad._core.symbols import z
from symgrad.activations.record import Activation
from symgrad.activations.registry import activation
from symgrad.records import Step

__all__ = ["C", "ClosedKernels", "Q", "closed_kernels"]

#: The variance q > 0 and the correlation c ∈ [−1, 1] the kernels are written in.
Q = sympy.Symbol("q", positive=True)
C = sympy.Symbol("c", real=True)
_R = sympy.Symbol("rho", real=True)
_U = sympy.Symbol("u", real=True)
_W = sympy.Symbol("w", real=True)
_K = sympy.Symbol("k", positive=True)


@dataclass(frozen=True)
class ClosedKernels:
    """V(q), S(q), K(q, c), D(q, c) as SymPy expressions in :data:`Q` and :data:`C`."""

    V: sympy.Expr
    S: sympy.Expr
    K: sympy.Expr
    D: sympy.Expr
    #: V(q) = slope·q exactly (positively homogeneous φ): the variance map is linear.
    linear: bool
    steps: tuple[Step, ...]


def _gauss(expr: sympy.Expr, var: sympy.Symbol, variance: sympy.Expr,
           lo: sympy.Expr = -sympy.oo, hi: sympy.Expr = sympy.oo) -> sympy.Expr:
    """∫_lo^hi expr · N(var; 0, variance) d var, simplified."""
    pdf = sympy.exp(-var**2 / (2 * variance)) / sympy.sqrt(2 * sympy.pi * variance)
    closed = _gaussian_moment(expr * pdf, var, lo, hi)
    if closed is not None:
        return sympy.simplify(closed)
    return sympy.simplify(sympy.integrate(expr * pdf, (var, lo, hi)))


def _gaussian_moment(integrand: sympy.Expr, var: sympy.Symbol, lo: sympy.Expr,
                     hi: sympy.Expr) -> sympy.Expr | None:
    """The two Gaussian integrals the kernels need, in closed form, for k free of x and
    a > 0 proven by SymPy's assumptions:

    * ∫_ℝ k·e^{−a x² + b x + c} dx = k·√(π/a)·e^{c + b²/(4a)} (completing the square);
    * ∫_0^∞ k·xⁿ·e^{−a x² + c} dx = k·e^c·Γ((n+1)/2)/(2a^{(n+1)/2}) for an integer n ≥ 0
      (the substitution t = a x²), (−1)ⁿ times it over (−∞, 0], and (1 + (−1)ⁿ) times it
      over ℝ (the two half lines).

    None for any other integrand or range: SymPy's ``integrate`` then does it, the same
    result in seconds rather than milliseconds (its Meijer-G route, for e^{−2u²}·e^{−u²/(2q)}
    or u²·e^{−u²/(2q)} on a half line).
    """
    k, power, exps = sympy.Integer(1), sympy.Integer(0), []
    for factor in sympy.Mul.make_args(sympy.powsimp(integrand, combine="exp")):
        if not factor.has(var):
            k *= factor
        elif factor == var:
            power += 1
        elif factor.is_Pow and factor.base == var and factor.exp.is_Integer:
            power += factor.exp
        else:
            exps.append(factor)
    if len(exps) != 1 or not isinstance(exps[0], sympy.exp) or power < 0:
        return None
    exponent = sympy.Poly(sympy.expand(exps[0].args[0]), var)
    if exponent.degree() != 2:
        return None
    a2, b, c = exponent.all_coeffs()
    a = -a2
    if a.is_positive is not True or any(t.has(var) for t in (a, b, c)):
        return None
    whole = lo == -sympy.oo and hi == sympy.oo
    if whole and power == 0:
        return k * sympy.sqrt(sympy.pi / a) * sympy.exp(c + b**2 / (4 * a))
    side = {(sympy.Integer(0), sympy.oo): 1, (-sympy.oo, sympy.Integer(0)): (-1) ** int(power)}
    if b != 0 or not (whole or (lo, hi) in side):
        return None
    half = (power + 1) / sympy.Integer(2)
    # the whole line is the two half lines: 2× the half-line moment for n even, 0 for n odd
    sign = (1 + (-1) ** int(power)) if whole else side[(lo, hi)]
    return sign * k * sympy.exp(c) * sympy.gamma(half) / (2 * a**half)


def _from_zero(f: sympy.Expr) -> sympy.Expr:
    """∫₀^ρ f(r) dr (ρ = r = :data:`_R`), term by term, for the integrands Price's theorem
    meets here, with A, B, s, α, β free of r and s, α, β > 0 proven by SymPy's assumptions:

    * ∫₀^ρ A dr = A·ρ;
    * ∫₀^ρ B·asin(r/s) dr = B·(ρ·asin(ρ/s) + √(s² − ρ²) − s)  (by parts, |ρ| ≤ s);
    * ∫₀^ρ B/√(α − β r²) dr = B·asin(ρ√β/√α)/√β  (r = √(α/β)·sin t, |ρ| < √(α/β)).

    Any other term is left to SymPy's ``integrate`` (the same antiderivatives in tenths of
    a second each, by its heuristics).
    """
    total, rest = sympy.Integer(0), sympy.Integer(0)
    for term in sympy.Add.make_args(sympy.expand(f)):
        coeff, g = term.as_independent(_R, as_Add=False)
        found = _antiderivative(g)
        if found is None:
            rest += term
        else:
            total += coeff * found
    if rest != 0:
        total += sympy.integrate(rest, (_R, 0, _R))
    return total


def _antiderivative(g: sympy.Expr) -> sympy.Expr | None:
    """∫₀^ρ g for g = 1, asin(r/s) or (α − β r²)^(−1/2) (:func:`_from_zero`), else None."""
    if g == 1:
        return _R
    if isinstance(g, sympy.asin):
        inv = sympy.cancel(g.args[0] / _R)  # 1/s
        s = 1 / inv
        if not inv.has(_R) and s.is_positive is True:
            return _R * g + sympy.sqrt(s**2 - _R**2) - s
        return None
    if g.is_Pow and g.exp == sympy.Rational(-1, 2) and g.base.is_polynomial(_R):
        poly = sympy.Poly(g.base, _R)
        if poly.degree() != 2:
            return None
        m2, m1, alpha = poly.all_coeffs()
        beta = -m2
        if m1 != 0 or alpha.is_positive is not True or beta.is_positive is not True:
            return None
        return sympy.asin(_R * sympy.sqrt(beta) / sympy.sqrt(alpha)) / sympy.sqrt(beta)
    return None


def _price(D: sympy.Expr, K0: sympy.Expr) -> sympy.Expr:
    """K(ρ) = K(0) + ∫₀^ρ D(r) dr, written in c = ρ/q (Price's theorem)."""
    integral = _from_zero(D.subs(C, _R / Q))
    return sympy.simplify(K0 + integral.subs(_R, C * Q))


def _identity() -> ClosedKernels:
    V = _gauss(_U**2, _U, Q)
    steps = (Step("E[u²] for u ~ N(0, q)", sympy.Eq(sympy.Symbol("V"), V)),)
    return ClosedKernels(V, sympy.Integer(1), C * Q, sympy.Integer(1), True, steps)


def _leaky_relu(alpha: sympy.Expr) -> ClosedKernels:
    # ---- one point: integrate over the two pieces ----
    neg, pos = (-sympy.oo, sympy.Integer(0)), (sympy.Integer(0), sympy.oo)
    V = sympy.factor(_gauss(alpha**2 * _U**2, _U, Q, *neg) + _gauss(_U**2, _U, Q, *pos))
    S = sympy.factor(_gauss(alpha**2, _U, Q, *neg) + _gauss(sympy.Integer(1), _U, Q, *pos))
    mean = sympy.simplify(_gauss(alpha * _U, _U, Q, -sympy.oo, 0) + _gauss(_U, _U, Q, 0, sympy.oo))
    # ---- two points: Sheppard's orthant probability by Price's theorem ----
    density00 = 1 / (2 * sympy.pi * sympy.sqrt(Q**2 - _R**2))
    orthant = sympy.Rational(1, 4) + _from_zero(density00)
    orthant_c = sympy.simplify(orthant.subs(_R, C * Q))
    # φ' = α + (1 − α)H(u): E[φ'φ'] = α² + 2α(1 − α)P(u > 0) + (1 − α)² P(u₁ > 0, u₂ > 0).
    D = sympy.expand(alpha**2 + alpha * (1 - alpha) + (1 - alpha) ** 2 * orthant_c)
    K = _price(D, mean**2)
    steps = (
        Step("E[φ(u)²] over the two pieces", sympy.Eq(sympy.Symbol("V"), V)),
        Step("E[φ'(u)²]", sympy.Eq(sympy.Symbol("S"), S)),
        Step("Sheppard: P(u₁>0, u₂>0) = 1/4 + ∫₀^ρ p(0,0) dρ'", orthant_c),
        Step("Price's theorem: K = E[φ]² + ∫₀^ρ E[φ'φ'] (arc-cosine kernel)",
             sympy.Eq(sympy.Symbol("K"), K)),
    )
    return ClosedKernels(V, S, K, D, True, steps)


def _erf() -> ClosedKernels:
    slope2 = 4 / sympy.pi  # erf'(u)² = (4/π) e^{−2u²}
    S = _gauss(slope2 * sympy.exp(-2 * _U**2), _U, Q)
    # E[e^{−u₁²−u₂²}]: u₂ = a + b·w with a = c·u₁, b = √(q(1−c²)), w ~ N(0, 1) independent.
    a, b, k = sympy.Symbol("a", real=True), sympy.Symbol("b", positive=True), _K
    inner = _gauss(sympy.exp(-((a + b * _W) ** 2)), _W, sympy.Integer(1))
    # inner = e^{−a²/(1+2b²)}/√(1+2b²); with a = c·u₁ the u₁-integral is E[e^{−k u₁²}].
    scale = inner.subs(a, 0)  # 1/√(1+2b²)
    rate = sympy.simplify(-sympy.expand_log(sympy.log(inner / scale), force=True) / a**2)
    outer = _gauss(sympy.exp(-k * _U**2), _U, Q)
    joint = (scale * outer.subs(k, 1 + C**2 * rate)).subs(b, sympy.sqrt(Q * (1 - C**2)))
    # joint > 0, so joint = 1/√(1/joint²): one radicand, a polynomial in q and c.
    radicand = sympy.expand(sympy.cancel(sympy.powsimp(1 / joint**2, force=True)))
    D = slope2 / sympy.sqrt(radicand)
    K = _price(D, sympy.Integer(0))  # erf is odd: E[erf(u)] = 0
    V = sympy.simplify(K.subs(C, 1))
    steps = (
        Step("E[erf'(u)²] for u ~ N(0, q)", sympy.Eq(sympy.Symbol("S"), S)),
        Step("E[erf'(u₁)erf'(u₂)] by conditioning u₂ on u₁", sympy.Eq(sympy.Symbol("D"), D)),
        Step("Price's theorem from K(0) = E[erf]² = 0: the arc-sine kernel",
             sympy.Eq(sympy.Symbol("K"), K)),
        Step("V = K at c = 1", sympy.Eq(sympy.Symbol("V"), V)),
    )
    return ClosedKernels(V, S, K, D, False, steps)


@lru_cache(maxsize=64)
def closed_kernels(act: Activation) -> ClosedKernels | None:
    """The closed-form kernels of ``act``, or None when symgrad has none for it.

    Recognised: identity, the leaky_relu family (relu included) and erf, each only
    when ``act.expr`` is the catalogue expression (a user's look-alike is integrated
    numerically instead).
    """
    if act.family == "identity" and act.expr == z:
        return _identity()
    if act.family == "erf" and act.expr == sympy.erf(z):
        return _erf()
    if act.family == "leaky_relu":
        alpha = act.param("alpha")
        if act.expr == activation("leaky_relu", alpha=alpha).expr:
            return _leaky_relu(alpha)
    return None
