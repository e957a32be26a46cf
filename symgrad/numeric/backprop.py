"""The engine of :func:`~symgrad.numeric.simulate`: one forward and one hand-written
backward pass through given layers.

Conventions are those of :mod:`symgrad.numeric.mlp` (DESIGN.md, "Conventions for
gradients"): z_l = W_l a_{l−1} + b_l, u_l = BN(z_l) or z_l, a_l = φ(u_l) (+ a_{l−1} if
residual); L = Σ_batch ⟨g, a_depth⟩;

    ∂L/∂u_l = ∂L/∂a_l ⊙ φ'(u_l),   ∂L/∂a_{l−1} = ∂L/∂z_l W_l  (+ ∂L/∂a_l if residual),

and under batch normalisation (per unit over the batch, no affine part, ε = 1e−5,
û = (z − μ)·s with s = (σ² + ε)^{−1/2}):
∂L/∂z = s·(∂L/∂û − mean(∂L/∂û) − û·mean(∂L/∂û ⊙ û)) (Ioffe and Szegedy 2015).

Only φ'(u_l) is kept between the passes (plus û_l and s_l under batch normalisation).

>>> import numpy as np
>>> from symgrad import activation
>>> w = [np.array([[2.0]])]
>>> run = propagate(activation("identity"), (1, 1), w.__getitem__, lambda l: np.zeros(1),
...                 np.ones((1, 1)), np.ones((1, 1)))
>>> run.loss, run.grad_input
(2.0, 4.0)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad.activations.record import Activation, split_pieces
from symgrad.numeric import memory
from symgrad.numeric._parallel import one_blas_thread, row_blocks, run_blocks, workers_for
from symgrad.numeric._rng import inner, prefetched
from symgrad.types import FloatArray

__all__ = ["BN_EPS", "Propagation", "is_relu_like", "propagate"]

#: Batch-normalisation ε (PyTorch's default).
BN_EPS = 1e-5


def is_relu_like(act: Activation) -> bool:
    """φ' vanishes identically on a half-line (relu, hard_tanh, hard_sigmoid, …)."""
    return _relu_like(act.expr)


@functools.lru_cache(maxsize=256)
def _relu_like(expr: sympy.Expr) -> bool:
    # Splitting φ into pieces is symbolic work: do it once per expression.
    return any(
        piece.derivative == 0 and (piece.lo == -sympy.oo or piece.hi == sympy.oo)
        for piece in split_pieces(sympy.piecewise_fold(expr.rewrite(sympy.Piecewise)))
    )


@dataclass(frozen=True, eq=False)
class Propagation:
    """What one forward and backward pass through given layers produced (internal record).

    ``trace=True`` keeps the full arrays ``z``, ``a`` (a_0 … a_depth), ``dz`` and ``da``
    (∂L/∂z_l and ∂L/∂a_l, l = 1..depth); ``loss`` is Σ_batch ⟨g, a_depth⟩.
    """

    loss: float
    mean: FloatArray
    second: FloatArray
    grad_z: FloatArray
    grad_a: FloatArray
    grad_input: float
    saturated: FloatArray
    dead: FloatArray | None
    slope_mean: FloatArray
    slope_second: FloatArray
    weights: list[FloatArray]
    biases: list[FloatArray]
    z: list[FloatArray] | None = None
    a: list[FloatArray] | None = None
    dz: list[FloatArray] | None = None
    da: list[FloatArray] | None = None


def _view(flat: FloatArray, batch: int, n: int) -> FloatArray:
    """The first batch·n entries of a flat workspace as a contiguous (batch, n) array."""
    return flat[: batch * n].reshape(batch, n)


def _row_inner(a: FloatArray) -> FloatArray:
    """Σ_j a_ij² for every row i."""
    out: FloatArray = np.einsum("ij,ij->i", a, a)
    return out


def _in_turn(*tasks: Callable[[int, int, int], None]) -> Callable[[int, int, int], None]:
    """One block task that runs ``tasks`` on the block, in order."""
    def run(k: int, lo: int, hi: int) -> None:
        for task in tasks:
            task(k, lo, hi)
    return run


# Always one BLAS thread, even for one block: a product's rounding may depend on the
# BLAS's thread count, which another simulation's limit could otherwise change.
@one_blas_thread
def propagate(
    phi: Activation,
    widths: tuple[int, ...],
    weight: Callable[[int], FloatArray],
    bias: Callable[[int], FloatArray],
    x: FloatArray,
    g: FloatArray,
    *,
    residual: bool = False,
    batchnorm: bool = False,
    eps: float = 1e-3,
    keep_weights: bool = True,
    record: bool = False,
    use_bias: bool = True,
    trace: bool = False,
    backward: bool = True,
    nudge: tuple[str, int, FloatArray] | None = None,
) -> Propagation:
    """The engine of :func:`simulate`: forward, then backward by hand (module docstring).

    ``weight(l)`` and ``bias(l)`` give layer l + 1's parameters (called again in the
    backward pass unless ``keep_weights``).  ``nudge=("z" | "a", l, v)`` adds ``v`` to
    z_l or a_l (l = 1..depth) in the forward pass: finite-difference tests of ∂L/∂z_l and
    ∂L/∂a_l use it.  ``backward=False`` stops after the loss.

    Large layers run as row blocks on symgrad's threads (:mod:`._parallel`); the BLAS is
    held to one thread throughout; statistics are summed per row and then over rows in a fixed
    order, so they do not depend on the cut.  Activations, pre-activations and gradients
    live in workspaces reused from layer to layer; only φ'(u_l) is kept per layer.
    """
    batch = x.shape[0]
    biggest = max(m * n for m, n in zip(widths[1:], widths[:-1], strict=True))
    blocks = row_blocks(batch, workers_for(batch, batch * biggest))
    depth = len(widths) - 1
    relu_like = is_relu_like(phi)
    mean, second, saturated = np.empty(depth), np.empty(depth), np.empty(depth)
    slope1, slope2 = np.empty(depth), np.empty(depth)
    dead = np.empty(depth) if relu_like else None
    kept_w: list[FloatArray] = []
    kept_b: list[FloatArray] = []
    slopes: list[FloatArray] = []
    norm_cache: list[tuple[FloatArray, FloatArray]] = []
    zs: list[FloatArray] = []
    acts: list[FloatArray] = [x] if trace else []

    # Workspaces: rows of every layer's arrays are views of these.  What is kept per
    # layer (φ'(u_l), and û_l under batchnorm) is cut from one allocation each: far
    # fewer page faults than an array per layer.
    flat = batch * max(widths)
    layer_shapes = [(batch, n) for n in widths[1:]]
    slope_arena = memory.take(batch * sum(widths[1:])) if backward else None
    uhat_arena = memory.take(batch * sum(widths[1:])) if batchnorm else None
    kept_slopes = None if slope_arena is None else memory.carve(slope_arena, layer_shapes)
    kept_uhat = None if uhat_arena is None else memory.carve(uhat_arena, layer_shapes)

    z_space, work, scratch = memory.take(flat), memory.take(flat), memory.take(flat)
    a_space = (memory.take(flat), memory.take(flat))
    mask_space = memory.take(-(-flat // 8))
    mask = mask_space.view(bool)[:flat]
    rows = np.empty((4, batch))
    counts = np.zeros(len(blocks), dtype=np.int64)
    alive: list[Any] = [None] * len(blocks)
    # One task does a whole layer per block unless something needs the whole z between
    # the GEMM and φ (a nudge, a trace copy, batch statistics).
    fused = not (batchnorm or trace or nudge is not None)

    # ---- forward: keep φ'(u_l) (and û_l, s_l under batchnorm) only ----
    a = x
    # Two ahead: the pool always has a draw to pick up when a layer's block ends early.
    forward_weights = prefetched(weight, range(depth), size=biggest, ahead=2)
    for layer in range(depth):
        n = widths[layer + 1]
        w = next(forward_weights)
        b = bias(layer) if use_bias or record else None
        if record:
            kept_b.append(b)  # type: ignore[arg-type]
        if keep_weights:
            kept_w.append(w)
        # Under batchnorm û_l is kept, so z_l gets its own array.
        z = _view(z_space, batch, n) if kept_uhat is None else kept_uhat[layer]
        out = _view(a_space[layer % 2], batch, n)
        slope = _view(scratch, batch, n) if kept_slopes is None else kept_slopes[layer]
        wk, mk = _view(work, batch, n), mask[: batch * n].reshape(batch, n)

        def gemm(k: int, lo: int, hi: int, a: FloatArray = a, w: FloatArray = w,
                 b: FloatArray | None = b, z: FloatArray = z) -> None:
            np.matmul(a[lo:hi], w.T, out=z[lo:hi])
            if use_bias and b is not None:
                z[lo:hi] += b

        def z_rows(k: int, lo: int, hi: int, z: FloatArray = z) -> None:
            rows[0, lo:hi] = z[lo:hi].sum(axis=1)
            rows[1, lo:hi] = _row_inner(z[lo:hi])

        def activate(k: int, lo: int, hi: int, a: FloatArray = a, z: FloatArray = z,
                     out: FloatArray = out, slope: FloatArray = slope, wk: FloatArray = wk,
                     mk: Any = mk) -> None:
            s = slope[lo:hi]
            phi.numpy_into(z[lo:hi], out[lo:hi], s, work=wk[lo:hi], mask=mk[lo:hi])
            np.abs(s, out=wk[lo:hi])
            counts[k] = np.count_nonzero(np.less(wk[lo:hi], eps, out=mk[lo:hi]))
            rows[2, lo:hi] = s.sum(axis=1)
            rows[3, lo:hi] = _row_inner(s)
            if relu_like:
                alive[k] = np.not_equal(s, 0.0, out=mk[lo:hi]).any(axis=0)
            if residual:
                out[lo:hi] += a[lo:hi]

        if fused:
            run_blocks(_in_turn(gemm, z_rows, activate), blocks)
        else:
            run_blocks(gemm, blocks)
            if nudge is not None and nudge[0] == "z" and nudge[1] == layer + 1:
                z += nudge[2]
            if trace:
                zs.append(z.copy())
            run_blocks(z_rows, blocks)
            if batchnorm:
                mu = z.mean(axis=0)
                inv = 1.0 / np.sqrt(z.var(axis=0) + BN_EPS)
                z -= mu
                z *= inv
                norm_cache.append((z, inv))
            run_blocks(activate, blocks)
        del w, b
        size = z.size
        mean[layer] = rows[0].sum() / size
        second[layer] = rows[1].sum() / size
        saturated[layer] = int(counts.sum()) / size
        slope1[layer] = rows[2].sum() / size
        slope2[layer] = rows[3].sum() / size
        if dead is not None:
            dead[layer] = np.count_nonzero(~np.logical_or.reduce(alive)) / n
        if backward:
            slopes.append(slope)
        a = out
        if nudge is not None and nudge[0] == "a" and nudge[1] == layer + 1:
            a += nudge[2]
        if trace:
            acts.append(a.copy())
    # Release the prefetcher: it still holds the last matrices it drew.
    forward_weights.close()
    loss = float(inner(g, a))

    # ---- backward: g = ∂L/∂a_l from the top; ∂L/∂z_l = BN'ᵀ(g ⊙ φ'(u_l)) ----
    grad_z, grad_a = np.full(depth, np.nan), np.full(depth, np.nan)
    dzs: list[FloatArray] = []
    das: list[FloatArray] = []
    grad_in = math.nan
    if backward:
        redrawn = None if keep_weights else prefetched(
            weight, range(depth - 1, -1, -1), size=biggest)
        # g_space[0] is free first: a_space is done with, so reuse it.
        g_space = a_space
        for step, layer in enumerate(range(depth - 1, -1, -1)):
            n_in = widths[layer]
            slope = slopes.pop()
            w = kept_w[layer] if redrawn is None else next(redrawn)
            dz = _view(z_space, batch, widths[layer + 1])
            back = _view(g_space[step % 2], batch, n_in)

            def scale(k: int, lo: int, hi: int, g: FloatArray = g, slope: FloatArray = slope,
                      dz: FloatArray = dz) -> None:
                rows[0, lo:hi] = _row_inner(g[lo:hi])
                np.multiply(g[lo:hi], slope[lo:hi], out=dz[lo:hi])

            def pull(k: int, lo: int, hi: int, g: FloatArray = g, w: FloatArray = w,
                     dz: FloatArray = dz, back: FloatArray = back) -> None:
                rows[1, lo:hi] = _row_inner(dz[lo:hi])
                np.matmul(dz[lo:hi], w, out=back[lo:hi])
                if residual:
                    back[lo:hi] += g[lo:hi]

            if batchnorm:
                run_blocks(scale, blocks)
                uhat, inv = norm_cache.pop()
                along = (dz * uhat).mean(axis=0)
                dz -= dz.mean(axis=0)
                dz -= uhat * along
                dz *= inv
                run_blocks(pull, blocks)
            else:
                run_blocks(_in_turn(scale, pull), blocks)
            grad_a[layer] = rows[0].sum() / batch
            grad_z[layer] = rows[1].sum() / batch
            if trace:
                dzs.append(dz.copy())
                das.append(g.copy())
            g = back
            del w
        grad_in = float(inner(g, g) / batch)
    del a, g, slope, slopes, norm_cache, kept_slopes, kept_uhat
    memory.give(slope_arena, uhat_arena, z_space, work, scratch, *a_space, mask_space)
    return Propagation(
        loss=loss, mean=mean, second=second, grad_z=grad_z, grad_a=grad_a,
        grad_input=grad_in, saturated=saturated, dead=dead, slope_mean=slope1,
        slope_second=slope2, weights=kept_w, biases=kept_b,
        z=zs if trace else None, a=acts if trace else None,
        dz=dzs[::-1] if trace else None, da=das[::-1] if trace else None,
    )
