"""The fast mode's correlation fixed point c* and χ_{c*} (Hermite series and 2-D rule)
against references derived here, independently of the code under test:

* erf: every Gaussian kernel in closed form (Price's theorem / the arc-sine kernel,
  Williams 1997): E[erf(u₁)erf(u₂)] = (2/π)·asin(2qc/(1 + 2q)),
  E[erf'(u₁)erf'(u₂)] = (4/π)/√((1 + 2q)² − (2qc)²) for u₁, u₂ of variance q and
  correlation c; q* and c* by bisection in mpmath at 40 digits;
* hard_tanh: the inner expectation in closed form, E[clip(X, −1, 1)] for X ~ N(a, b²)
  = −1 + E[(X + 1)⁺] − E[(X − 1)⁺] with E[(X − t)⁺] = (a − t)Φ((a − t)/b) + b·φ((a − t)/b),
  the outer one by mpmath.quad at 30 digits split at the kinks.

Each number must be within its own error estimate (floored at 1e-15, float64's
resolution) of the reference: the estimates are honest, not merely small.
"""

from __future__ import annotations

from typing import Any

import mpmath
import pytest

from symgrad import mean_field


def _bisect(f: Any, lo: Any, hi: Any, steps: int = 200) -> Any:
    f_lo = f(lo)
    for _ in range(steps):
        mid = (lo + hi) / 2
        if (f(mid) > 0) == (f_lo > 0):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _erf_reference(sw: str, sb: str) -> dict[str, Any]:
    with mpmath.workdps(40):
        w2, b2 = mpmath.mpf(sw) ** 2, mpmath.mpf(sb) ** 2

        def kernel(q: Any, c: Any) -> Any:
            return 2 / mpmath.pi * mpmath.asin(2 * q * c / (1 + 2 * q))

        def slope_kernel(q: Any, c: Any) -> Any:
            return 4 / mpmath.pi / mpmath.sqrt((1 + 2 * q) ** 2 - (2 * q * c) ** 2)

        q = _bisect(lambda x: w2 * kernel(x, 1) + b2 - x, mpmath.mpf(2) ** -30,
                    mpmath.mpf(10) ** 6)
        # c* is the root below 1: h(0) ≥ 0 and h < 0 just below c = 1 (χ₁ > 1)
        c = _bisect(lambda x: (w2 * kernel(q, x) + b2) / q - x, mpmath.mpf(0),
                    1 - mpmath.mpf(2) ** -30)
        return {"q_star": q, "chi1": w2 * slope_kernel(q, 1), "c_star": c,
                "chi_c": w2 * slope_kernel(q, c)}


def _check(mf: Any, ref: dict[str, Any]) -> None:
    for name, value in ref.items():
        got = float(getattr(mf, name))
        error = abs(got - float(value)) / abs(float(value)) if value else abs(got)
        assert error <= max(mf.error(name), 1e-15), (name, got, value, error, mf.error(name))


@pytest.mark.parametrize(("sw", "sb"), [
    ("2", "0.2"),  # c* ≈ 0.093: a few Hermite terms
    ("3", "1"),  # c* ≈ 0.40
    ("0.95", "0.01"),  # just chaotic (χ₁ ≈ 1.005), c* ≈ 0.33
    ("1", "0.05"),  # c* ≈ 0.91: hundreds of terms
])
def test_erf_correlation_fixed_point_matches_the_closed_form(sw: str, sb: str) -> None:
    mf = mean_field("erf", sigma_w=float(sw), sigma_b=float(sb), mode="fast")
    assert mf.phase.value == "chaotic"
    _check(mf, _erf_reference(sw, sb))


def test_erf_near_one_falls_back_to_the_two_dimensional_rule() -> None:
    # c* ≈ 0.989 at q* ≈ 5.9: the series would need thousands of terms, so the 2-D rule
    # decides; it gets the same honest check.
    mf = mean_field("erf", sigma_w=2, sigma_b=1.7, mode="fast")
    ref = _erf_reference("2", "1.7")
    assert float(ref["c_star"]) > 0.98
    _check(mf, ref)


def _hard_tanh_reference(sw: str, sb: str, q: Any, start: float) -> dict[str, Any]:
    with mpmath.workdps(25):
        w2, b2, q = mpmath.mpf(sw) ** 2, mpmath.mpf(sb) ** 2, mpmath.mpf(q)
        r = mpmath.sqrt(q)

        def plus(a: Any, b: Any, t: Any) -> Any:  # E[(X − t)⁺], X ~ N(a, b²)
            d = (a - t) / b
            return (a - t) * mpmath.ncdf(d) + b * mpmath.npdf(d)

        def inner(a: Any, b: Any) -> tuple[Any, Any]:
            value = -1 + plus(a, b, -1) - plus(a, b, 1)
            slope = mpmath.ncdf((1 - a) / b) - mpmath.ncdf((-1 - a) / b)
            return value, slope

        def outer(c: Any, which: int) -> Any:
            b = r * mpmath.sqrt(1 - c * c)

            def f(t: Any) -> Any:
                u = r * t
                if which == 0:
                    return max(-1, min(1, u)) * inner(r * c * t, b)[0] * mpmath.npdf(t)
                return (inner(r * c * t, b)[1] if -1 < u <= 1 else 0) * mpmath.npdf(t)

            # φ(√q t) is linear on |t| < 1/√q and constant outside: split there
            return mpmath.quad(f, [-mpmath.inf, -1 / r, 0, 1 / r, mpmath.inf])

        # the root below 1 is unique (C convex, C(1) = 1, C'(1) > 1): start near it
        c = mpmath.findroot(lambda x: (w2 * outer(x, 0) + b2) / q - x, mpmath.mpf(start))
        return {"c_star": c, "chi_c": w2 * outer(c, 1)}


def test_hard_tanh_correlation_fixed_point_matches_a_semi_closed_form() -> None:
    # A kinked φ: the Hermite coefficients decay slowly, the bound decides how many.
    mf = mean_field("hard_tanh", sigma_w=2, sigma_b=0.1, mode="fast")
    ref = _hard_tanh_reference("2", "0.1", float(mf.q_star), float(mf.c_star))
    _check(mf, ref)


def test_odd_activation_without_bias_has_c_star_zero_and_chi_c_the_mean_slope_squared() -> None:
    # φ odd, σ_b = 0: C(0) = 0, so c* = 0 and χ_c* = σ_w²·E[φ'(u)]² (independent u's).
    mf = mean_field("erf", sigma_w=2, sigma_b=0, mode="fast")
    with mpmath.workdps(30):
        q = mpmath.mpf(str(float(mf.q_star)))
        mean_slope = 2 / mpmath.sqrt(mpmath.pi) / mpmath.sqrt(1 + 2 * q)  # E[erf'(√q Z)]
    assert abs(float(mf.c_star)) <= 1e-15
    assert abs(float(mf.chi_c) / float(4 * mean_slope**2) - 1) <= max(mf.error("chi_c"), 1e-14)


# SELU's constants (Klambauer et al. 2017), to 32 digits
_SELU_SCALE = "1.0507009873554804934193349852946"
_SELU_ALPHA = "1.6732632423543772848170429916717"


def _selu_reference(sw: str, sb: str, q_start: float, c_start: float) -> dict[str, Any]:
    with mpmath.workdps(30):
        lam, alpha = mpmath.mpf(_SELU_SCALE), mpmath.mpf(_SELU_ALPHA)
        w2, b2 = mpmath.mpf(sw) ** 2, mpmath.mpf(sb) ** 2

        def phi(u: Any) -> Any:
            return lam * u if u > 0 else lam * alpha * mpmath.expm1(u)

        def slope(u: Any) -> Any:
            return lam if u > 0 else lam * alpha * mpmath.exp(u)

        def gauss(f: Any, q: Any, weight: Any = None) -> Any:
            # E[f(√q Z)·weight(Z)], split at the kink Z = 0 and the exponential's scale
            r = mpmath.sqrt(q)
            pts = [-mpmath.inf, -4 / r, -1 / r, 0, 1 / r, 4 / r, mpmath.inf]
            return mpmath.quad(lambda t: f(r * t) * (weight(t) if weight else 1)
                               * mpmath.npdf(t), sorted(pts))

        # q* by Newton on G(q) − q, d/dq E[g(√q Z)] = E[g(√q Z)(Z² − 1)]/(2q)
        q = mpmath.mpf(q_start)
        for _ in range(20):
            m = gauss(lambda u: phi(u) ** 2, q)
            dm = gauss(lambda u: phi(u) ** 2, q, lambda t: t * t - 1) / (2 * q)
            step = (w2 * m + b2 - q) / (w2 * dm - 1)
            q -= step
            if abs(step) < mpmath.mpf(10) ** -28 * q:
                break
        r = mpmath.sqrt(q)

        def inner(a: Any, b: Any) -> tuple[Any, Any]:
            # E[φ(X)] and E[φ'(X)] for X ~ N(a, b²) in closed form:
            # E[X⁺] = aΦ(a/b) + b·pdf(a/b), E[e^X; X ≤ 0] = e^{a + b²/2}Φ(−(a + b²)/b)
            low = mpmath.exp(a + b * b / 2) * mpmath.ncdf(-(a + b * b) / b)
            value = (lam * (a * mpmath.ncdf(a / b) + b * mpmath.npdf(a / b))
                     + lam * alpha * (low - mpmath.ncdf(-a / b)))
            return value, lam * mpmath.ncdf(a / b) + lam * alpha * low

        def kernels(c: Any) -> tuple[Any, Any]:
            b = r * mpmath.sqrt(1 - c * c)
            K = gauss(lambda u: phi(u) * inner(c * u, b)[0], q)
            D = gauss(lambda u: slope(u) * inner(c * u, b)[1], q)
            return K, D

        # c* by Newton on (σ_w²K(c) + σ_b²)/q − c, whose slope is σ_w²D(c)/q − 1
        c = mpmath.mpf(c_start)
        for _ in range(4):
            K, D = kernels(c)
            step = ((w2 * K + b2) / q - c) / (w2 * D / q - 1)
            c -= step
            if abs(step) < mpmath.mpf(10) ** -25:
                break
        return {"q_star": q, "chi1": w2 * gauss(lambda u: slope(u) ** 2, q), "c_star": c,
                "chi_c": w2 * kernels(c)[1]}


def test_selu_mean_field_matches_a_semi_closed_form() -> None:
    # The kinked, exponential φ of the slowest fast-mode record: every number, q* and χ₁
    # included, within its own error estimate of a reference at 30 digits.
    mf = mean_field("selu", sigma_w=1.2, sigma_b=0.1, mode="fast")
    assert mf.phase.value == "chaotic"
    _check(mf, _selu_reference("1.2", "0.1", float(mf.q_star), float(mf.c_star)))
