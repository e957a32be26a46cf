"""Stable float64 NumPy kernels for the catalogue: each φ beside its φ'.

Every kernel is exact to float64 rounding in the bulk and stays finite, with no
overflow warning, for |z| up to 1e4 and beyond: exponentials are only ever taken
of non-positive numbers.  The conventions at kinks follow the SymPy ``Piecewise``
of the family (the derivative at a kink is that of the piece containing it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad.types import FloatArray

try:  # SciPy's erf is vectorized C; the fallback is exact but slower.
    from scipy.special import erf as _erf_vec
    from scipy.special import erfc as _erfc_vec
except ImportError:  # pragma: no cover - exercised only without SciPy

    def _erf_vec(x: Any) -> FloatArray:
        # math.erf mapped over a list: the same values as np.vectorize, 1.5× faster
        a = np.asarray(x, dtype=np.float64)
        return np.fromiter(map(math.erf, a.ravel().tolist()), np.float64, a.size).reshape(a.shape)

    def _erfc_vec(x: Any) -> FloatArray:
        a = np.asarray(x, dtype=np.float64)
        return np.fromiter(map(math.erfc, a.ravel().tolist()), np.float64,
                           a.size).reshape(a.shape)

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _exp_neg_abs(x: FloatArray) -> FloatArray:
    """exp(−|x|) ∈ (0, 1]: never overflows."""
    return np.exp(-np.abs(x))


def _logistic(x: FloatArray) -> FloatArray:
    # σ(x) = 1/(1+e^{−x}) for x ≥ 0 and e^{x}/(1+e^{x}) for x < 0, with e = e^{−|x|}.
    e = _exp_neg_abs(x)
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logistic_slope(x: FloatArray) -> FloatArray:
    # σ'(x) = σ(x)(1 − σ(x)) = e^{−|x|}/(1 + e^{−|x|})², even in x.
    e = _exp_neg_abs(x)
    return e / (1.0 + e) ** 2


def _sech2(x: FloatArray) -> FloatArray:
    # sech² x = 1 − tanh² x = 4e/(1+e)² with e = e^{−2|x|} (no cancellation for large |x|).
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / (1.0 + e) ** 2


def _softplus1(x: FloatArray) -> FloatArray:
    # log(1 + e^x) = max(x, 0) + log1p(e^{−|x|}).
    return np.maximum(x, 0.0) + np.log1p(_exp_neg_abs(x))


# ---- smooth saturating ----


def identity(x: FloatArray, **_: Any) -> FloatArray:
    return np.array(x, dtype=np.float64, copy=True)


def identity_prime(x: FloatArray, **_: Any) -> FloatArray:
    return np.ones_like(x, dtype=np.float64)


def sigmoid(x: FloatArray, **_: Any) -> FloatArray:
    return _logistic(x)


def sigmoid_prime(x: FloatArray, **_: Any) -> FloatArray:
    return _logistic_slope(x)


def tanh(x: FloatArray, **_: Any) -> FloatArray:
    return np.tanh(x)


def tanh_prime(x: FloatArray, **_: Any) -> FloatArray:
    return _sech2(x)


def erf(x: FloatArray, **_: Any) -> FloatArray:
    return np.asarray(_erf_vec(x), dtype=np.float64)


def erf_prime(x: FloatArray, **_: Any) -> FloatArray:
    # erf'(x) = 2/√π · e^{−x²}
    return _TWO_OVER_SQRT_PI * np.exp(-np.square(x))


def softsign(x: FloatArray, **_: Any) -> FloatArray:
    return x / (1.0 + np.abs(x))


def softsign_prime(x: FloatArray, **_: Any) -> FloatArray:
    return 1.0 / np.square(1.0 + np.abs(x))


# ---- piecewise linear ----


def hard_sigmoid(x: FloatArray, **_: Any) -> FloatArray:
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def hard_sigmoid_prime(x: FloatArray, **_: Any) -> FloatArray:
    # Pieces z ≤ −3 | −3 < z ≤ 3 | z > 3.
    return np.where((x > -3.0) & (x <= 3.0), 1.0 / 6.0, 0.0)


def hard_tanh(x: FloatArray, **_: Any) -> FloatArray:
    return np.clip(x, -1.0, 1.0)


def hard_tanh_prime(x: FloatArray, **_: Any) -> FloatArray:
    return np.where((x > -1.0) & (x <= 1.0), 1.0, 0.0)


def leaky_relu(x: FloatArray, *, alpha: float, **_: Any) -> FloatArray:
    return np.where(x <= 0, alpha * x, x)


def leaky_relu_prime(x: FloatArray, *, alpha: float, **_: Any) -> FloatArray:
    return np.where(x <= 0, alpha, 1.0)


def elu(x: FloatArray, *, alpha: float, scale: float, **_: Any) -> FloatArray:
    # expm1 of min(x, 0): no overflow for large positive x on the unused branch.
    return scale * np.where(x <= 0, alpha * np.expm1(np.minimum(x, 0.0)), x)


def elu_prime(x: FloatArray, *, alpha: float, scale: float, **_: Any) -> FloatArray:
    return scale * np.where(x <= 0, alpha * np.exp(np.minimum(x, 0.0)), 1.0)


# ---- smooth non-monotone ----


def gelu(x: FloatArray, **_: Any) -> FloatArray:
    # x·Φ(x) with Φ(x) = erfc(−x/√2)/2 (accurate in the left tail).
    return x * 0.5 * np.asarray(_erfc_vec(-x / _SQRT2), dtype=np.float64)


def gelu_prime(x: FloatArray, **_: Any) -> FloatArray:
    # Φ(x) + x·φ(x)
    cdf = 0.5 * np.asarray(_erfc_vec(-x / _SQRT2), dtype=np.float64)
    return cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * np.square(x))


_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715


def gelu_tanh(x: FloatArray, **_: Any) -> FloatArray:
    # (1 + tanh u)/2 = σ(2u): no cancellation where tanh u ≈ −1.
    u = _GELU_C * (x + _GELU_K * x**3)
    return x * _logistic(2.0 * u)


def gelu_tanh_prime(x: FloatArray, **_: Any) -> FloatArray:
    u = _GELU_C * (x + _GELU_K * x**3)
    du = _GELU_C * (1.0 + 3.0 * _GELU_K * np.square(x))
    return _logistic(2.0 * u) + 0.5 * x * _sech2(u) * du


def softplus(x: FloatArray, *, beta: float, **_: Any) -> FloatArray:
    return _softplus1(beta * x) / beta


def softplus_prime(x: FloatArray, *, beta: float, **_: Any) -> FloatArray:
    return _logistic(beta * x)


def swish(x: FloatArray, *, beta: float, **_: Any) -> FloatArray:
    return x * _logistic(beta * x)


def swish_prime(x: FloatArray, *, beta: float, **_: Any) -> FloatArray:
    # σ(βx) + βx·σ'(βx)
    bx = beta * x
    return _logistic(bx) + bx * _logistic_slope(bx)


def mish(x: FloatArray, **_: Any) -> FloatArray:
    return x * np.tanh(_softplus1(x))


def mish_prime(x: FloatArray, **_: Any) -> FloatArray:
    # tanh(sp(x)) + x·sech²(sp(x))·σ(x)
    sp = _softplus1(x)
    return np.tanh(sp) + x * _sech2(sp) * _logistic(x)


# ---- φ and φ' together, written into preallocated arrays ----
#
# The simulation engine needs both on every layer.  These versions allocate nothing
# (fresh temporaries of a few MiB cost page faults that take longer than the arithmetic)
# and perform the same floating-point operations, in the same order, as the pairs
# above, so their results are bit-identical to them.  ``work`` is float64 scratch and
# ``mask`` bool scratch, both of x's shape.


def identity_into(x: FloatArray, value: FloatArray, slope: FloatArray, work: FloatArray,
                  mask: Any, **_: Any) -> None:
    np.copyto(value, x)
    slope.fill(1.0)


def tanh_into(x: FloatArray, value: FloatArray, slope: FloatArray, work: FloatArray,
              mask: Any, **_: Any) -> None:
    np.tanh(x, out=value)
    # _sech2: e = e^{−2|x|}, then 4e/(1+e)².
    np.abs(x, out=work)
    work *= -2.0
    np.exp(work, out=work)
    np.add(work, 1.0, out=slope)
    np.square(slope, out=slope)
    work *= 4.0
    np.divide(work, slope, out=slope)


def sigmoid_into(x: FloatArray, value: FloatArray, slope: FloatArray, work: FloatArray,
                 mask: Any, **_: Any) -> None:
    # _logistic and _logistic_slope: e = e^{−|x|}; σ = 1/(1+e) or e/(1+e); σ' = e/(1+e)².
    np.abs(x, out=work)
    np.negative(work, out=work)
    np.exp(work, out=work)
    np.add(work, 1.0, out=slope)
    np.greater_equal(x, 0.0, out=mask)
    np.copyto(value, work)
    np.copyto(value, 1.0, where=mask)
    np.divide(value, slope, out=value)
    np.square(slope, out=slope)
    np.divide(work, slope, out=slope)


def leaky_relu_into(x: FloatArray, value: FloatArray, slope: FloatArray, work: FloatArray,
                    mask: Any, *, alpha: float, **_: Any) -> None:
    np.less_equal(x, 0.0, out=mask)
    np.copyto(value, x)
    np.multiply(x, alpha, out=value, where=mask)
    slope.fill(1.0)
    np.copyto(slope, alpha, where=mask)


def gelu_into(x: FloatArray, value: FloatArray, slope: FloatArray, work: FloatArray,
              mask: Any, **_: Any) -> None:
    # gelu and gelu_prime share Φ(x) = erfc(−x/√2)/2, the costly part: computed once.
    np.negative(x, out=work)
    work /= _SQRT2
    cdf = np.asarray(_erfc_vec(work), dtype=np.float64)
    np.multiply(x, 0.5, out=value)
    value *= cdf
    np.multiply(cdf, 0.5, out=slope)
    # + (x/√(2π))·e^{−x²/2}
    np.square(x, out=work)
    work *= -0.5
    np.exp(work, out=work)
    work *= x * _INV_SQRT_2PI
    slope += work


#: In-place (φ, φ') evaluators by the value kernel they reproduce.
INTO = {identity: identity_into, tanh: tanh_into, sigmoid: sigmoid_into,
        leaky_relu: leaky_relu_into, gelu: gelu_into}
