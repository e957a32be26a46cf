"""Simulated input-output Jacobians, their singular values, and gradient norms of many nets.

:func:`simulate_jacobians` builds J = ∂h_L/∂h_0 = W_L D_L ⋯ W_1 D_1 (D_l = diag(φ'(h_{l−1})),
h_0 ~ N(0, q0·I), h_l = W_l φ(h_{l−1}) + b_l: the convention of
:mod:`symgrad.spectrum.jacobian`) by forward propagation of the identity, J ← W_l·(D_l J),
one layer at a time, and returns the squared singular values of each network
(``numpy.linalg.svd``).  Networks run in blocks on symgrad's threads with the BLAS held to
one thread; network i draws from ``child(seed, i)`` alone, so results do not depend on the
number of threads.

:func:`simulate_gradient_norms` returns X = ‖J u‖², J = ∂h_L/∂x (the convention of
:mod:`symgrad.spectrum.gradnorm`: widths n_0 … n_L, input x with σ_w²‖x‖²/n_0 + σ_b² =
``q_input``, u ⟂ x a unit vector), for many independent Gaussian-weight networks:

* ``matrices``: every W_l drawn in full, networks batched along a leading axis;
* ``rows``: exactly the same law with O(n) work per layer.  Given the past, W_l enters only
  through (W_l a_{l−1}, W_l y_{l−1}) (y = D v the tangent), whose rows are i.i.d. Gaussian
  with covariance (σ_w²/n_{l−1})·Gram(a, y); they are drawn from that 2 × 2 Gram matrix.

>>> s = simulate_jacobians("identity", width=64, depth=2, sigma_w=1.0, networks=2, rng=0)
>>> s.squared.shape, bool(abs(s.moment(1).mean() - 1) < 0.2)
((2, 64), True)
>>> x = simulate_gradient_norms("relu", (16, 16, 16), sigma_w=2**0.5, networks=100, rng=1)
>>> x.values.shape
(100,)
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.activations import Activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.numeric import _rng
from symgrad.numeric._parallel import blas_one_thread, run_blocks
from symgrad.numeric._rng import child, generator, root_seed, seed_label
from symgrad.types import FloatArray, Seed

__all__ = [
    "GradientNormSamples",
    "JacobianSamples",
    "NormSampler",
    "forward_jacobian",
    "simulate_gradient_norms",
    "simulate_jacobians",
]

MAX_WIDTH = 2048
#: networks·(depth + 2)·width³ (GEMMs and the SVD, in multiply-adds) allowed per call.
MAX_JACOBIAN_WORK = 2**38
#: networks·Σ n_l n_{l−1} (matrices) or networks·Σ n_l (rows) normals allowed per call.
MAX_NORM_WORK = 2**29


class NormSampler(enum.Enum):
    """How :func:`simulate_gradient_norms` draws the weights (module docstring)."""

    MATRICES = "matrices"
    ROWS = "rows"


@dataclass(frozen=True)
class JacobianSamples:
    """Squared singular values ``squared`` (networks × width, ascending per row)."""

    activation: str
    width: int
    depth: int
    sigma_w: float
    sigma_b: float
    q0: float
    weights: str
    seed: str
    squared: FloatArray

    def moment(self, k: int) -> FloatArray:
        """m_k = tr((JJᵀ)^k)/N of each network."""
        return np.asarray(np.mean(self.squared**k, axis=1), dtype=np.float64)

    def ratio(self, k: int) -> FloatArray:
        """m_k/m_1^k of each network (normalised by its own m_1)."""
        return self.moment(k) / self.moment(1) ** k

    def edge(self) -> FloatArray:
        """λ_max/m_1 of each network."""
        return np.asarray(self.squared[:, -1] / self.moment(1), dtype=np.float64)


@dataclass(frozen=True)
class GradientNormSamples:
    """X = ‖J u‖² of independent networks (0 for dead ones)."""

    activation: str
    widths: tuple[int, ...]
    sigma_w: float
    sigma_b: float
    sampler: str
    seed: str
    values: FloatArray

    def log_stats(self) -> tuple[float, float, float, float, int]:
        """(mean of ln X, its SE, variance of ln X, its SE, count) over the networks with
        X > 0.  SE of the variance: √((m₄ − s⁴)/k), m₄ the fourth central moment."""
        logs = np.log(self.values[self.values > 0])
        k = logs.size
        if k < 4:
            raise InvalidArgument("fewer than 4 networks with X > 0")
        mean = float(logs.mean())
        centred = logs - mean
        var = float(centred.var(ddof=1))
        m4 = float(np.mean(centred**4))
        return (mean, math.sqrt(var / k), var, math.sqrt(max(m4 - var * var, 0.0) / k), k)


# ---- Jacobians ----


def _haar(gen: np.random.Generator, n: int) -> FloatArray:
    # dedupe: symgrad.numeric.weights.draw_weights (drawn here from the network's own
    # generator: its pool-threaded filler must not run inside a pool task).
    q, r = np.linalg.qr(gen.standard_normal((n, n)))
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return np.asarray(q * signs, dtype=np.float64)  # Haar (Mezzadri 2007)


def forward_jacobian(act: Activation | str, weights: Sequence[FloatArray],
                     biases: Sequence[FloatArray], h0: FloatArray) -> FloatArray:
    """J = ∂h_L/∂h_0 of the network with these weights and biases at input h0:
    J ← W_l·(D_l J), D_l = diag(φ'(h_{l−1})), h_l = W_l φ(h_{l−1}) + b_l.

    >>> w = [np.eye(2) * 2.0]
    >>> forward_jacobian("tanh", w, [np.zeros(2)], np.zeros(2)).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    a = as_activation(act)
    h = np.asarray(h0, dtype=np.float64)
    jac: FloatArray | None = None
    for w, b in zip(weights, biases, strict=True):
        slope = a.numpy_prime(h)
        jac = w * slope[None, :] if jac is None else w @ (slope[:, None] * jac)
        h = w @ a.numpy(h) + b
    if jac is None:
        raise InvalidArgument("a network needs at least one layer")
    return jac


def _one_jacobian(act: Activation, n: int, depth: int, sigma_w: float, sigma_b: float,
                  q0: float, orthogonal: bool, seed: np.random.SeedSequence) -> FloatArray:
    gen = generator(seed)
    h = gen.standard_normal(n) * math.sqrt(q0)
    jac: FloatArray | None = None
    for _ in range(depth):  # forward_jacobian, one layer at a time (weights not kept)
        slope = act.numpy_prime(h)
        w = (sigma_w * _haar(gen, n) if orthogonal
             else gen.standard_normal((n, n)) * (sigma_w / math.sqrt(n)))
        jac = w * slope[None, :] if jac is None else w @ (slope[:, None] * jac)
        h = w @ act.numpy(h)
        if sigma_b:
            h += sigma_b * gen.standard_normal(n)
    if jac is None:  # pragma: no cover - depth ≥ 1
        raise InvalidArgument("depth must be >= 1")
    s = np.linalg.svd(jac, compute_uv=False)
    return np.sort(s * s)


def simulate_jacobians(act: Activation | str, *, width: int, depth: int, sigma_w: float,
                       sigma_b: float = 0.0, q0: float = 1.0, weights: str = "gaussian",
                       networks: int = 1, rng: Seed = None) -> JacobianSamples:
    """Squared singular values of J for ``networks`` independent nets (module docstring).

    ``q0``: variance of the input pre-activations h_0 (pass q* to start at the fixed
    point).  Width ≤ 2048; networks·(depth + 2)·width³ ≤ 2³⁸.
    """
    a = as_activation(act)
    n = as_positive_int(width, "width", minimum=2)
    if n > MAX_WIDTH:
        raise InvalidArgument(f"width must be <= {MAX_WIDTH}, got {n}")
    L = as_positive_int(depth, "depth")
    k = as_positive_int(networks, "networks")
    sw = as_float(sigma_w, "sigma_w", lower=0.0)
    sb = as_float(sigma_b, "sigma_b", lower=0.0, strict=False)
    q = as_float(q0, "q0", lower=0.0)
    if weights not in ("gaussian", "orthogonal"):
        raise InvalidArgument(f"weights must be 'gaussian' or 'orthogonal', got "
                              f"{describe(weights)}")
    if k * (L + 2) * n**3 > MAX_JACOBIAN_WORK:
        raise InvalidArgument(f"networks·(depth + 2)·width³ = {k * (L + 2) * n**3:.3g} exceeds "
                              f"{MAX_JACOBIAN_WORK:.3g}: fewer networks, layers or units")
    root = root_seed(rng)
    out = np.empty((k, n), dtype=np.float64)

    def task(_: int, lo: int, hi: int) -> None:
        for i in range(lo, hi):
            out[i] = _one_jacobian(a, n, L, sw, sb, q, weights == "orthogonal", child(root, i))

    parts = min(k, _rng.worker_count())
    cuts = [k * j // parts for j in range(parts + 1)]
    with blas_one_thread():
        run_blocks(task, [(cuts[j], cuts[j + 1]) for j in range(parts)])
    return JacobianSamples(a.label, n, L, sw, sb, q, weights, seed_label(root), out)


# ---- gradient norms ----


def _norm_widths(widths: Any) -> tuple[int, ...]:
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence):
        raise InvalidArgument(f"widths must be a sequence of integers, got {describe(widths)}")
    out = tuple(as_positive_int(v, "each width") for v in widths)
    if len(out) < 2 or out[0] < 2 or max(out) > 4096:
        raise InvalidArgument("widths must be n_0 ≥ 2, n_1, …, n_L (L ≥ 1), each <= 4096, "
                              f"got {describe(widths)}")
    return out


def _norms_matrices(a: Activation, ns: tuple[int, ...], sw: float, sb: float, x2: float,
                    gen: np.random.Generator, count: int) -> FloatArray:
    act = np.zeros((count, ns[0]))
    act[:, 0] = math.sqrt(x2)
    tangent = np.zeros((count, ns[0]))
    tangent[:, 1] = 1.0
    for layer in range(1, len(ns)):
        w = gen.standard_normal((count, ns[layer], ns[layer - 1]))
        w *= sw / math.sqrt(ns[layer - 1])
        hv = np.matmul(w, np.stack([act, tangent], axis=-1))
        h = hv[..., 0] + sb * gen.standard_normal((count, ns[layer]))
        v = hv[..., 1]
        if layer == len(ns) - 1:
            return np.asarray(np.einsum("bi,bi->b", v, v), dtype=np.float64)
        act, tangent = a.numpy(h), a.numpy_prime(h) * v
    raise InvalidArgument("widths must list at least one layer")  # pragma: no cover


def _norms_rows(a: Activation, ns: tuple[int, ...], sw: float, sb: float, x2: float,
                gen: np.random.Generator, count: int) -> FloatArray:
    aa = np.full(count, x2)
    yy = np.ones(count)
    ay = np.zeros(count)  # u ⟂ x
    for layer in range(1, len(ns)):
        scale = sw * sw / ns[layer - 1]
        l11 = np.sqrt(scale * aa)
        l21 = np.divide(scale * ay, l11, out=np.zeros(count), where=l11 > 0)
        l22 = np.sqrt(np.maximum(scale * yy - l21 * l21, 0.0))
        z1 = gen.standard_normal((count, ns[layer]))
        z2 = gen.standard_normal((count, ns[layer]))
        h = l11[:, None] * z1 + sb * gen.standard_normal((count, ns[layer]))
        v = l21[:, None] * z1 + l22[:, None] * z2
        if layer == len(ns) - 1:
            return np.asarray(np.einsum("bi,bi->b", v, v), dtype=np.float64)
        phi, y = a.numpy(h), a.numpy_prime(h) * v
        aa = np.einsum("bi,bi->b", phi, phi)
        yy = np.einsum("bi,bi->b", y, y)
        ay = np.einsum("bi,bi->b", phi, y)
    raise InvalidArgument("widths must list at least one layer")  # pragma: no cover


def simulate_gradient_norms(act: Activation | str, widths: Sequence[int], *, sigma_w: float,
                            sigma_b: float = 0.0, q_input: float = 1.0, networks: int,
                            sampler: NormSampler | str = NormSampler.ROWS, rng: Seed = None
                            ) -> GradientNormSamples:
    """X = ‖J u‖² for ``networks`` independent Gaussian-weight nets (module docstring).

    ``q_input`` ≥ σ_b² (and > 0) sets the input's norm: σ_w²‖x‖²/n_0 + σ_b² = q_input.
    Work is bounded: networks·Σ n_l n_{l−1} (matrices) or networks·Σ n_l (rows) ≤ 2²⁹.
    """
    a = as_activation(act)
    ns = _norm_widths(widths)
    sw = as_float(sigma_w, "sigma_w", lower=0.0)
    sb = as_float(sigma_b, "sigma_b", lower=0.0, strict=False)
    q = as_float(q_input, "q_input", lower=0.0)
    if q < sb * sb:
        raise InvalidArgument(f"q_input must be >= sigma_b² = {sb * sb:g}, got {q:g}")
    count = as_positive_int(networks, "networks", minimum=2)
    try:
        mode = sampler if isinstance(sampler, NormSampler) else NormSampler(sampler)
    except ValueError:
        raise InvalidArgument(f"sampler must be 'matrices' or 'rows', got {describe(sampler)}"
                              ) from None
    per_net = (sum(ns[i] * ns[i - 1] for i in range(1, len(ns))) if mode is NormSampler.MATRICES
               else 3 * sum(ns[1:]))
    if count * per_net > MAX_NORM_WORK:
        raise InvalidArgument(f"networks × work per network = {count * per_net:.3g} exceeds "
                              f"{MAX_NORM_WORK:.3g}: fewer networks or narrower layers")
    x2 = ns[0] * (q - sb * sb) / (sw * sw)
    root = root_seed(rng)
    # Fixed chunks (a function of the widths only), chunk j drawn from child(root, j).
    chunk = max(1, (1 << 22) // max(per_net, 1))
    run = _norms_matrices if mode is NormSampler.MATRICES else _norms_rows
    parts = []
    with np.errstate(over="ignore", under="ignore"):
        for j, lo in enumerate(range(0, count, chunk)):
            size = min(chunk, count - lo)
            parts.append(run(a, ns, sw, sb, x2, generator(child(root, j)), size))
    return GradientNormSamples(a.label, ns, sw, sb, mode.value, seed_label(root),
                               np.concatenate(parts))
