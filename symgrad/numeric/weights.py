"""Random weight matrices for simulated networks: the initialisation schemes.

``σ_w`` is the gain of every scheme (1 gives the textbook scheme):

=====================  ==============================================  =========================
:class:`Init`          W (shape (n_out, n_in))                         reference
=====================  ==============================================  =========================
``GAUSSIAN``           N(0, σ_w²/n_in)                                 Poole et al. 2016
``XAVIER_NORMAL``      N(0, σ_w²·2/(n_in+n_out))                       Glorot and Bengio 2010
``XAVIER_UNIFORM``     U(−b, b), b = σ_w·√(6/(n_in+n_out))             Glorot and Bengio 2010
``HE_NORMAL``          N(0, σ_w²·2/n_in)                               He et al. 2015
``HE_UNIFORM``         U(−b, b), b = σ_w·√(6/n_in)                     He et al. 2015
``ORTHOGONAL``         σ_w·Q, Q with orthonormal rows or columns       Saxe, McClelland and
                       (Haar, by QR with the sign fix of Mezzadri)     Ganguli 2014
=====================  ==============================================  =========================

>>> import numpy as np
>>> from symgrad.numeric._rng import root_seed
>>> w = draw_weights("orthogonal", 3, 3, sigma_w=2.0, seed=root_seed(0))
>>> bool(np.allclose(w @ w.T, 4 * np.eye(3)))
True
"""

from __future__ import annotations

import enum
import math

import numpy as np

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.errors import InvalidArgument
from symgrad.numeric._rng import normal_matrix, uniform_matrix
from symgrad.types import FloatArray

__all__ = ["Init", "as_init", "draw_weights", "weight_variance"]


class Init(enum.Enum):
    """Weight initialisation scheme (``σ_w`` is its gain)."""

    GAUSSIAN = "gaussian"
    XAVIER_NORMAL = "xavier_normal"
    XAVIER_UNIFORM = "xavier_uniform"
    HE_NORMAL = "he_normal"
    HE_UNIFORM = "he_uniform"
    ORTHOGONAL = "orthogonal"


def as_init(init: Init | str) -> Init:
    """Accept an :class:`Init` or its value (``"he_normal"``)."""
    if isinstance(init, Init):
        return init
    if isinstance(init, str):
        try:
            return Init(init)
        except ValueError:
            pass
    known = ", ".join(i.value for i in Init)
    raise InvalidArgument(f"unknown init {describe(init)}; known schemes: {known}")


def weight_variance(init: Init | str, n_out: int, n_in: int, *, sigma_w: float) -> float:
    """Var(W_ij) of a scheme (for ``ORTHOGONAL``, the mean of W_ij² = σ_w²/max(n_in, n_out)).

    >>> weight_variance("he_normal", 10, 100, sigma_w=1.0)
    0.02
    """
    scheme = as_init(init)
    n_out = as_positive_int(n_out, "n_out")
    n_in = as_positive_int(n_in, "n_in")
    sigma_w = as_float(sigma_w, "sigma_w", lower=0.0, strict=False)
    gain2 = sigma_w * sigma_w
    if scheme is Init.GAUSSIAN:
        return gain2 / n_in
    if scheme in (Init.XAVIER_NORMAL, Init.XAVIER_UNIFORM):
        return gain2 * 2.0 / (n_in + n_out)
    if scheme in (Init.HE_NORMAL, Init.HE_UNIFORM):
        return gain2 * 2.0 / n_in
    # σ_w·Q with Q min(n_in, n_out) orthonormal vectors: Σ W_ij² = σ_w²·min(n_in, n_out).
    return gain2 * min(n_in, n_out) / (n_in * n_out)


def draw_weights(
    init: Init | str, n_out: int, n_in: int, *, sigma_w: float, seed: np.random.SeedSequence,
    out: FloatArray | None = None,
) -> FloatArray:
    """One (n_out, n_in) weight matrix, a pure function of ``seed``.

    ``out``: a C-contiguous float64 array of that shape to draw into (returned).
    """
    scheme = as_init(init)
    n_out = as_positive_int(n_out, "n_out")
    n_in = as_positive_int(n_in, "n_in")
    if n_out * n_in > 2**28:
        raise InvalidArgument(f"a {n_out}×{n_in} matrix is over 2 GiB; the limit is 2**28 entries")
    sigma_w = as_float(sigma_w, "sigma_w", lower=0.0, strict=False)
    if not isinstance(seed, np.random.SeedSequence):
        raise InvalidArgument(f"seed must be a numpy.random.SeedSequence, got {describe(seed)}")
    if out is not None and (out.shape != (n_out, n_in) or out.dtype != np.float64
                            or not out.flags.c_contiguous):
        raise InvalidArgument(
            f"out must be a C-contiguous float64 array of shape {(n_out, n_in)}")
    if scheme in (Init.XAVIER_UNIFORM, Init.HE_UNIFORM):
        # U(−b, b) has variance b²/3, so b = √(3·Var).
        bound = math.sqrt(3.0 * weight_variance(scheme, n_out, n_in, sigma_w=sigma_w))
        return uniform_matrix(seed, n_out, n_in, out=out, scale=2.0 * bound, shift=-bound)
    if scheme is Init.ORTHOGONAL:
        tall = n_out >= n_in
        g = normal_matrix(seed, max(n_out, n_in), min(n_out, n_in))
        q, r = np.linalg.qr(g)
        # Multiplying column j by sign(R_jj) makes Q Haar-distributed (Mezzadri 2007).
        signs = np.sign(np.diag(r))
        signs[signs == 0] = 1.0
        q *= signs
        q *= sigma_w
        if out is None:
            return np.ascontiguousarray(q if tall else q.T)
        np.copyto(out, q if tall else q.T)
        return out
    return normal_matrix(seed, n_out, n_in, out=out,
                         scale=math.sqrt(weight_variance(scheme, n_out, n_in, sigma_w=sigma_w)))
