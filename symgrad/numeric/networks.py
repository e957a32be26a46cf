"""Do the architectures of :mod:`symgrad.networks` agree when they run?  One random network
of any block structure, forward and backward by hand.

Conventions (DESIGN.md, "Architectures"): h_0 = x (inputs N(0, q0) per entry, one row
per batch item), h_l the output of top-level block l; the loss is
L = Σ_batch ⟨g, h_L⟩ with g = ∂L/∂h_L standard normal (unless given).  Per block
(``dense`` z = a Wᵀ + b; ``activation`` φ; ``layernorm`` / ``batchnorm`` from
:mod:`symgrad.numeric.norms`; ``residual`` h + s·branch(h)) the backward pass is

    ∂L/∂a = ∂L/∂z W,   ∂L/∂z = ∂L/∂φ ⊙ φ'(z),   ∂L/∂h = g + s·∂L/∂h|branch(s·g),

and the per-example weight gradient of a dense layer is δ_b a_bᵀ, with squared
Frobenius norm ‖δ_b‖²·‖a_b‖² (δ = ∂L/∂z).  Recorded per layer (batch means):

* ``second_moment[l]``, ``grad_h_sq[l]`` (l = 0 … L): mean over batch and units of
  h_l² and (∂L/∂h_l)² (so ``grad_h_sq[L]`` ≈ 1 and J^{L,l} ≈ grad_h_sq[l]/grad_h_sq[L]);
* per block: ``preact_second_moment`` and ``grad_z_sq`` (mean of z² and (∂L/∂z)² at the
  block's last dense layer), ``grad_w_sq`` (batch mean of Σ_dense ‖δ_b‖²‖a_b‖²).

GEMMs and row-wise work run as row blocks on symgrad's threads with the BLAS held to one
thread (:mod:`symgrad.numeric._parallel`); batch normalisation's column statistics run
on the whole batch.  Weights are kept when the stack is ≤ 512 MiB, else re-drawn from
their seeds in the backward pass.  Memory is refused up front beyond 2 GiB.

>>> from symgrad.networks import activation, dense, layernorm, repeat, residual, serial
>>> net = repeat(residual(serial(layernorm(), activation("relu"), dense(1))), 4)
>>> sim = simulate_network(net, width=64, batch=16, rng=0)
>>> len(sim.grad_h_sq), len(sim.grad_w_sq)
(5, 4)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.errors import InvalidArgument
from symgrad.networks.blocks import (
    Activate,
    BatchNorm,
    Block,
    Dense,
    L,
    LayerNorm,
    Repeat,
    Residual,
    Serial,
)
from symgrad.networks.blocks import Block as _Block
from symgrad.numeric import norms
from symgrad.numeric._parallel import one_blas_thread, row_blocks, run_blocks, workers_for
from symgrad.numeric._rng import child, normal_matrix, root_seed, seed_label
from symgrad.numeric.mlp import as_matrix
from symgrad.numeric.weights import draw_weights
from symgrad.records import Record, Simulated, Step, provenances
from symgrad.types import FloatArray, Seed

__all__ = ["NetworkSimulation", "simulate_network"]

_INPUTS, _UPSTREAM, _WEIGHTS, _BIASES = 0, 1, 2, 3
_KEEP_WEIGHTS_BYTES = 512 * 2**20
_MAX_BYTES = 2 * 2**30
_ARRAYS = ("second_moment", "preact_second_moment", "grad_h_sq", "grad_z_sq", "grad_w_sq")


@dataclass(frozen=True, eq=False)
class NetworkSimulation(Record):
    """One simulated network's per-layer statistics (module docstring)."""
    network: str
    width: int
    batch: int
    q0: float
    seed: str
    second_moment: FloatArray
    preact_second_moment: FloatArray
    grad_h_sq: FloatArray
    grad_z_sq: FloatArray
    grad_w_sq: FloatArray
    loss: float
    provenance: Any
    steps: tuple[Step, ...] = ()
    #: With ``trace=True``: h_0 … h_L and ∂L/∂h_0 … ∂L/∂h_L (arrays (batch, width)).
    hidden: list[FloatArray] | None = field(default=None, repr=False)
    grads: list[FloatArray] | None = field(default=None, repr=False)

    @property
    def depth(self) -> int:
        return len(self.grad_w_sq)

    def title(self) -> str:
        return f"Simulated {self.network}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("width", str(self.width)), ("batch", str(self.batch)),
                ("‖∂L/∂h_0‖²/‖∂L/∂h_L‖²", sympy.Float(self.grad_h_sq[0] / self.grad_h_sq[-1])),
                ("‖∂L/∂W_1‖²/‖∂L/∂W_L‖²", sympy.Float(self.grad_w_sq[0] / self.grad_w_sq[-1])),
                ("seed", self.seed)]

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        for name in _ARRAYS:
            out[name] = [v if math.isfinite(v) else str(v)
                         for v in np.asarray(getattr(self, name)).tolist()]
        out.pop("hidden", None)
        out.pop("grads", None)
        return out


def _mean_rows(rows: FloatArray, n: int) -> float:
    return float(rows.sum() / (rows.size * n))


class _Engine:
    """One forward and one backward pass; the tape is a stack (backward pops it)."""
    def __init__(self, width: int, batch: int, root: np.random.SeedSequence, depth: int,
                 keep: bool) -> None:
        self.n, self.batch, self.root, self.depth, self.keep = width, batch, root, depth, keep
        self.blocks = row_blocks(batch, workers_for(batch, batch * width * width))
        self.tape: list[Any] = []
        self.dense_count = 0
        self.weights: dict[int, FloatArray] = {}
        self.rows = np.empty(batch)
        self.rows2 = np.empty(batch)
        # per top-level block, filled while it runs
        self.w_sum = 0.0
        self.last: tuple[float, float] | None = None

    def param(self, expr: Any) -> float:
        return float(expr.subs(L, self.depth)) if hasattr(expr, "subs") else float(expr)

    def weight(self, b: Dense, index: int) -> FloatArray:
        got = self.weights.get(index)
        if got is None:
            got = draw_weights(b.init.value, self.n, self.n, sigma_w=self.param(b.sigma_w),
                               seed=child(self.root, _WEIGHTS, index))
            if self.keep:
                self.weights[index] = got
        return got

    def bias(self, b: Dense, index: int) -> FloatArray | None:
        sb = self.param(b.sigma_b)
        if sb == 0.0:
            return None
        out = normal_matrix(child(self.root, _BIASES, index), 1, self.n).reshape(-1)
        out *= sb
        return out

    # ---- forward ----
    def fwd(self, block: Block, h: FloatArray) -> FloatArray:
        if isinstance(block, Dense):
            index = self.dense_count
            self.dense_count += 1
            w, bias = self.weight(block, index), self.bias(block, index)
            z = np.empty_like(h)
            a_rows = np.empty(self.batch)

            def gemm(k: int, lo: int, hi: int) -> None:
                a_rows[lo:hi] = np.einsum("ij,ij->i", h[lo:hi], h[lo:hi])
                np.matmul(h[lo:hi], w.T, out=z[lo:hi])
                if bias is not None:
                    z[lo:hi] += bias

            run_blocks(gemm, self.blocks)
            self.tape.append((index, block, a_rows))
            self.last_fwd_k = float(np.einsum("ij,ij->", z, z)) / z.size
            return z
        if isinstance(block, Activate):
            out, slope = np.empty_like(h), np.empty_like(h)

            def act(k: int, lo: int, hi: int) -> None:
                block.act.numpy_into(h[lo:hi], out[lo:hi], slope[lo:hi])

            run_blocks(act, self.blocks)
            self.tape.append(slope)
            return out
        if isinstance(block, LayerNorm):
            xhat = np.empty_like(h)
            s = np.empty(self.batch)
            eps = self.param(block.eps)

            def ln(k: int, lo: int, hi: int) -> None:
                s[lo:hi] = norms.layernorm_forward(h[lo:hi], eps, xhat[lo:hi])

            run_blocks(ln, self.blocks)
            self.tape.append((xhat, s))
            return xhat
        if isinstance(block, BatchNorm):
            xhat = np.empty_like(h)
            s = norms.batchnorm_forward(h, self.param(block.eps), xhat)
            self.tape.append((xhat, s))
            return xhat
        if isinstance(block, Residual):
            branch = self.fwd(block.branch, h)
            scale = self.param(block.scale)
            branch *= scale
            branch += h
            self.tape.append(scale)
            return branch
        if isinstance(block, Serial):
            for layer in block.layers:
                h = self.fwd(layer, h)
            return h
        if isinstance(block, Repeat):
            for _ in range(block.depth):
                h = self.fwd(block.block, h)
            return h
        raise InvalidArgument(f"unknown block {describe(block)}")  # pragma: no cover

    # ---- backward ----
    def bwd(self, block: Block, g: FloatArray) -> FloatArray:
        if isinstance(block, Dense):
            index, b, a_rows = self.tape.pop()
            w = self.weight(b, index)
            back = np.empty_like(g)
            d_rows = np.empty(self.batch)

            def pull(k: int, lo: int, hi: int) -> None:
                d_rows[lo:hi] = np.einsum("ij,ij->i", g[lo:hi], g[lo:hi])
                np.matmul(g[lo:hi], w, out=back[lo:hi])

            run_blocks(pull, self.blocks)
            self.w_sum += float(np.dot(d_rows, a_rows)) / self.batch
            if self.last is None:
                self.last = (float(d_rows.sum()) / g.size, 0.0)
            return back
        if isinstance(block, Activate):
            slope = self.tape.pop()
            out = np.empty_like(g)
            np.multiply(g, slope, out=out)
            return out
        if isinstance(block, LayerNorm):
            xhat, s = self.tape.pop()
            out = np.empty_like(g)

            def ln(k: int, lo: int, hi: int) -> None:
                norms.layernorm_backward(g[lo:hi], xhat[lo:hi], s[lo:hi], out[lo:hi])

            run_blocks(ln, self.blocks)
            return out
        if isinstance(block, BatchNorm):
            xhat, s = self.tape.pop()
            out = np.empty_like(g)
            norms.batchnorm_backward(g, xhat, s, out)
            return out
        if isinstance(block, Residual):
            scale = self.tape.pop()
            inner = self.bwd(block.branch, g * scale)
            inner += g
            return inner
        if isinstance(block, Serial):
            for layer in reversed(block.layers):
                g = self.bwd(layer, g)
            return g
        if isinstance(block, Repeat):
            for _ in range(block.depth):
                g = self.bwd(block.block, g)
            return g
        raise InvalidArgument(f"unknown block {describe(block)}")  # pragma: no cover


def _count(block: Block, kind: type) -> int:
    if isinstance(block, Repeat):
        return block.depth * _count(block.block, kind)
    return int(isinstance(block, kind)) + sum(_count(p, kind) for p in block.parts())


def _last_dense_k(engine: _Engine, before: int) -> float:
    return engine.last_fwd_k if engine.dense_count > before else math.nan


@one_blas_thread
def simulate_network(
    net: Block,
    *,
    width: int,
    batch: int,
    rng: Seed = None,
    q0: float = 1.0,
    upstream: Any = None,
    inputs: Any = None,
    trace: bool = False,
    nudge: Callable[[FloatArray], None] | None = None,
) -> NetworkSimulation:
    """Run one random network of ``net``'s architecture forward and backward.

    ``width`` N (1 … 8192) for every layer, ``batch`` B (1 … 8192; batchnorm needs
    B ≥ 2); inputs N(0, q0) per entry unless ``inputs`` (shape (B, N)); ``upstream``
    g = ∂L/∂h_L, N(0, 1) entries unless given; ``rng`` a seed, ``SeedSequence`` or
    ``Generator`` (the same seed gives the same network).  ``trace=True`` keeps every
    h_l and ∂L/∂h_l; ``nudge(x)`` edits the inputs in place before the forward pass
    (finite-difference tests use it).
    """

    if not isinstance(net, _Block):
        raise InvalidArgument(f"net must be a block (symgrad.networks), got {describe(net)}")
    width = as_positive_int(width, "width")
    batch = as_positive_int(batch, "batch")
    for value, name in ((width, "width"), (batch, "batch")):
        if value > 8192:
            raise InvalidArgument(f"{name} must be at most 8192, got {value}")
    q0 = as_float(q0, "q0", lower=0.0)
    if not isinstance(trace, bool):
        raise InvalidArgument(f"trace must be True or False, got {describe(trace)}")
    blocks = net.blocks()
    depth = len(blocks)
    if _count(net, BatchNorm) and batch < 2:
        raise InvalidArgument("batchnorm needs batch >= 2 (statistics over the batch)")
    dense_n = _count(net, Dense)
    kept = _count(net, Activate) + _count(net, LayerNorm) + _count(net, BatchNorm)
    weight_bytes = 8 * dense_n * width * width
    keep = weight_bytes <= _KEEP_WEIGHTS_BYTES
    need = 8 * batch * width * (kept + 6 + (2 * depth + 2 if trace else 0))
    need += weight_bytes if keep else 16 * width * width
    if need > _MAX_BYTES:
        raise InvalidArgument(
            f"this simulation needs about {need / 2**30:.2f} GiB; at most 2 GiB (reduce"
            " width, batch or depth)")
    root = root_seed(rng)
    x = (normal_matrix(child(root, _INPUTS), batch, width, scale=math.sqrt(q0))
         if inputs is None else _matrix(inputs, "inputs", (batch, width)))
    g = (normal_matrix(child(root, _UPSTREAM), batch, width) if upstream is None
         else _matrix(upstream, "upstream", (batch, width)))
    if nudge is not None:
        nudge(x)
    engine = _Engine(width, batch, root, depth, keep)
    second, pre = np.empty(depth + 1), np.full(depth, np.nan)
    gh, gz, gw = np.empty(depth + 1), np.full(depth, np.nan), np.empty(depth)
    hidden: list[FloatArray] = [x] if trace else []
    h = x
    second[0] = float(np.einsum("ij,ij->", h, h)) / h.size
    for i, b in enumerate(blocks):
        before = engine.dense_count
        h = engine.fwd(b, h)
        second[i + 1] = float(np.einsum("ij,ij->", h, h)) / h.size
        pre[i] = _last_dense_k(engine, before)
        if trace:
            hidden.append(h.copy())
    loss = float(np.einsum("ij,ij->", g, h))
    grads: list[FloatArray] = [g] if trace else []
    gh[depth] = float(np.einsum("ij,ij->", g, g)) / g.size
    for i in range(depth - 1, -1, -1):
        engine.w_sum, engine.last = 0.0, None
        g = engine.bwd(blocks[i], g)
        gh[i] = float(np.einsum("ij,ij->", g, g)) / g.size
        gw[i] = engine.w_sum
        if engine.last is not None:
            gz[i] = engine.last[0]
        if trace:
            grads.append(g.copy())
    for arr in (second, pre, gh, gz, gw):
        arr.flags.writeable = False
    how = Simulated(math.nan, batch, "one network: batch means; SE over networks is"
                    " estimated by the cross-checks, which run independent networks")
    return NetworkSimulation(
        network=str(net), width=width, batch=batch, q0=q0, seed=seed_label(root),
        second_moment=second, preact_second_moment=pre, grad_h_sq=gh, grad_z_sq=gz,
        grad_w_sq=gw, loss=loss, provenance=provenances(**{n: how for n in _ARRAYS}),
        steps=(Step("forward block by block; backward by hand (norms: "
                    "symgrad.numeric.norms)"),),
        hidden=hidden if trace else None, grads=grads[::-1] if trace else None)


def _matrix(value: Any, name: str, shape: tuple[int, int]) -> FloatArray:
    return as_matrix(value, name, shape)
