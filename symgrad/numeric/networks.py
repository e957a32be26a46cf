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

Every number is one network's mean over its batch and units (provenance *simulated*,
without a standard error: the spread across networks is what the cross-checks of
:mod:`symgrad.numeric.checks.networks` measure with independent networks).

The engine (:mod:`symgrad.numeric._network_engine`) runs row blocks on symgrad's threads
with the BLAS held to one thread, draws the next weight matrices two ahead, keeps
weights up to 512 MiB (re-drawn from their seeds in the backward pass above that) and
takes its large arrays through :func:`symgrad.numeric.reuse_memory`.  Memory is refused
up front beyond 2 GiB.  ``symgrad.simulate(net, width=…, batch=…, rng=…)`` calls this.

>>> from symgrad.networks import activation, dense, layernorm, repeat, residual, serial
>>> net = repeat(residual(serial(layernorm(), activation("relu"), dense(1))), 4)
>>> sim = simulate_network(net, width=64, batch=16, rng=0)
>>> len(sim.grad_h_sq), len(sim.grad_w_sq), sim.how("grad_h_sq").kind.value
(5, 4, 'simulated')
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import sympy

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.errors import InvalidArgument
from symgrad.networks.blocks import BatchNorm, Block, Dense, L, LayerNorm, Repeat, Residual
from symgrad.numeric import memory
from symgrad.numeric._network_engine import Lane, count, kept_arrays, kept_vectors, workspaces
from symgrad.numeric._parallel import one_blas_thread, row_blocks, run_blocks, workers_for
from symgrad.numeric._rng import child, normal_matrix, prefetched, root_seed, seed_label
from symgrad.numeric.weights import draw_weights
from symgrad.records import Record, Simulated, Step, provenances
from symgrad.types import FloatArray, Seed

__all__ = ["NetworkSimulation", "simulate_network"]

_INPUTS, _UPSTREAM, _WEIGHTS, _BIASES = 0, 1, 2, 3
_KEEP_WEIGHTS_BYTES = 512 * 2**20
_MAX_BYTES = 2 * 2**30
_ARRAYS = ("second_moment", "preact_second_moment", "grad_h_sq", "grad_z_sq", "grad_w_sq")
_ONE = Simulated(None, 1, "one network: means over its batch and units")


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

    @property
    def jacobian(self) -> FloatArray:
        """The measured J^{L,l} = grad_h_sq[l]/grad_h_sq[L], l = 0 … L."""
        out: FloatArray = self.grad_h_sq / self.grad_h_sq[-1]
        return out

    def title(self) -> str:
        return f"Simulated {self.network}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("width", str(self.width)), ("batch", str(self.batch)),
                ("‖∂L/∂h_0‖²/‖∂L/∂h_L‖²", sympy.Float(self.grad_h_sq[0] / self.grad_h_sq[-1])),
                ("‖∂L/∂W_1‖²/‖∂L/∂W_L‖²", sympy.Float(self.grad_w_sq[0] / self.grad_w_sq[-1])),
                ("seed", self.seed)]

    def as_dict(self) -> dict[str, Any]:
        """Every field JSON-ready (arrays as lists, non-finite entries as strings); the
        traced arrays (``hidden``, ``grads``) as nested lists when kept."""
        out = super().as_dict()
        for name in _ARRAYS:
            out[name] = [v if math.isfinite(v) else str(v)
                         for v in np.asarray(getattr(self, name)).tolist()]
        for name in ("hidden", "grads"):
            kept = getattr(self, name)
            out[name] = None if kept is None else [np.asarray(a).tolist() for a in kept]
        return out


class _Shared:
    """What every lane reads (weights, parameters) and writes (row statistics)."""

    def __init__(self, depth: int, dense: int, batch: int) -> None:
        self.depth = depth
        self.params: dict[int, float] = {}
        self.weights: dict[int, FloatArray] = {}
        self.biases: dict[int, FloatArray] = {}
        self.a_rows = np.zeros((dense, batch))
        self.z_rows = np.zeros((dense, batch))
        self.d_rows = np.zeros((dense, batch))


@functools.lru_cache(maxsize=1024)
def _param(expr: Any, depth: int) -> float:
    # Cached: SymPy's subs costs a third of a millisecond, once per dense layer and
    # network otherwise (a fifth of a small network's simulation).  The value is a pure
    # function of the (immutable) expression and the depth.
    return float(expr.subs(L, depth)) if hasattr(expr, "subs") else float(expr)


class _Plan(NamedTuple):
    """What a simulation needs to know of the architecture (the same for every call)."""
    blocks: tuple[Block, ...]
    dense: tuple[Dense, ...]
    #: (first, last + 1) dense layer of every top-level block.
    ranges: tuple[tuple[int, int], ...]
    has_bn: bool
    spaces: int
    kept: int
    vectors: int
    #: The residual scales and norm epsilons the lanes read (``Lane.param``).
    params: tuple[Any, ...]


_PLANS: dict[int, tuple[Block, _Plan]] = {}


def _plan(net: Block) -> _Plan:
    """``net``'s plan, kept for the last few networks simulated (a loop over seeds walks
    the block tree once, not once per network).  Looked up by identity, so the plan is
    always that of this very object."""
    got = _PLANS.get(id(net))
    if got is not None and got[0] is net:
        return got[1]
    blocks = net.blocks()
    ranges, at = [], 0
    for b in blocks:
        n = count(b, Dense)
        ranges.append((at, at + n))
        at += n
    params = {id(e): e for b in net.walk() for e in (
        (b.scale,) if isinstance(b, Residual) else (b.eps,) if isinstance(b, LayerNorm | BatchNorm)
        else ())}
    plan = _Plan(blocks, tuple(_dense_layers(net)), tuple(ranges), count(net, BatchNorm) > 0,
                 max(workspaces(b) for b in set(blocks)), kept_arrays(net), kept_vectors(net),
                 tuple(params.values()))
    if len(_PLANS) >= 16:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[id(net)] = (net, plan)
    return plan


def _dense_layers(block: Block) -> list[Dense]:
    """The dense layers ``block`` runs, in execution order (through repeats)."""
    out: list[Dense] = []

    def walk(b: Block) -> None:
        if isinstance(b, Dense):
            out.append(b)
        elif isinstance(b, Repeat):
            for _ in range(b.depth):
                walk(b.block)
        else:
            for p in b.parts():
                walk(p)

    walk(block)
    return out


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

    if not isinstance(net, Block):
        raise InvalidArgument(f"net must be a block (symgrad.networks), got {describe(net)}")
    width = as_positive_int(width, "width")
    batch = as_positive_int(batch, "batch")
    for value, name in ((width, "width"), (batch, "batch")):
        if value > 8192:
            raise InvalidArgument(f"{name} must be at most 8192, got {value}")
    q0 = as_float(q0, "q0", lower=0.0)
    if not isinstance(trace, bool):
        raise InvalidArgument(f"trace must be True or False, got {describe(trace)}")
    plan = _plan(net)
    blocks, dense, spaces = plan.blocks, plan.dense, plan.spaces
    depth = len(blocks)
    if plan.has_bn and batch < 2:
        raise InvalidArgument("batchnorm needs batch >= 2 (statistics over the batch)")
    weight_bytes = 8 * len(dense) * width * width
    keep = weight_bytes <= _KEEP_WEIGHTS_BYTES
    need = 8 * batch * width * (plan.kept + spaces + 4 + (2 * depth + 2 if trace else 0))
    need += (weight_bytes if keep else 24 * width * width) + 24 * len(dense) * batch
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
    # Batch normalisation mixes the rows: one lane holds the whole batch.
    cuts = [(0, batch)] if plan.has_bn else row_blocks(batch, workers_for(
        batch, batch * width * width))
    shared = _Shared(depth, len(dense), batch)
    # What Lane.param would compute (the same float(expr.subs(L, depth))), from the cache.
    shared.params.update((id(e), _param(e, depth)) for e in plan.params)
    lanes = [Lane(shared, lo, hi, width, plan.kept, plan.vectors, spaces) for lo, hi in cuts]
    arena = memory.take(len(dense) * width * width) if keep else None
    slots = (None if arena is None else
             memory.carve(arena, [(width, width)] * len(dense)))
    try:
        stats = _run(shared, lanes, cuts, plan, x, g, root, slots, trace)
    finally:
        for lane in lanes:
            lane.release()
        shared.weights.clear()
        del slots
        memory.give(arena)
    second, pre, gh, gz, gw, loss, hidden, grads = stats
    for arr in (second, pre, gh, gz, gw):
        arr.flags.writeable = False
    prov = provenances(loss=_ONE, **dict.fromkeys(_ARRAYS, _ONE))
    return NetworkSimulation(
        network=str(net), width=width, batch=batch, q0=q0, seed=seed_label(root),
        second_moment=second, preact_second_moment=pre, grad_h_sq=gh, grad_z_sq=gz,
        grad_w_sq=gw, loss=loss, provenance=prov,
        steps=(Step("forward block by block: h_l = B_l(h_{l−1})", "h_l = B_l(h_{l-1})"),
               Step("backward by hand from g = ∂L/∂h_L (norms: symgrad.numeric.norms)",
                    "\\partial L/\\partial h_{l-1} = (\\partial B_l/\\partial h_{l-1})^{T}"
                    "\\,\\partial L/\\partial h_l"),
               Step("weights: per-example ‖δ_b‖²‖a_b‖², batch mean",
                    "\\|\\partial L/\\partial W\\|^2 = \\frac1B\\sum_b \\|\\delta_b\\|^2"
                    "\\|a_b\\|^2")),
        hidden=hidden, grads=grads)


def _run(shared: _Shared, lanes: list[Lane], cuts: list[tuple[int, int]], plan: _Plan,
         x: FloatArray, g: FloatArray, root: np.random.SeedSequence,
         slots: list[FloatArray] | None, trace: bool) -> Any:
    blocks, dense, ranges = plan.blocks, plan.dense, plan.ranges
    depth, (batch, width) = len(blocks), x.shape

    def draw(i: int) -> FloatArray:
        d = dense[i]
        return draw_weights(d.init.value, width, width, sigma_w=_param(d.sigma_w, depth),
                            seed=child(root, _WEIGHTS, i), out=None if slots is None else slots[i])

    def bias(i: int) -> FloatArray | None:
        sb = _param(dense[i].sigma_b, depth)
        if sb == 0.0:
            return None
        out = normal_matrix(child(root, _BIASES, i), 1, width).reshape(-1)
        out *= sb
        return out

    h_rows, g_rows = np.empty((depth + 1, batch)), np.empty((depth + 1, batch))
    loss_rows = np.empty(batch)
    h_rows[0] = np.einsum("ij,ij->i", x, x)
    hidden = [x.copy()] + [np.empty_like(x) for _ in range(depth)] if trace else None
    grads = [np.empty_like(x) for _ in range(depth)] + [g.copy()] if trace else None
    cur: list[tuple[FloatArray, bool]] = [(x[lo:hi], False) for lo, hi in cuts]
    ahead = prefetched(draw, range(len(dense)), size=width * width, ahead=2)
    for i, b in enumerate(blocks):
        for j in range(*ranges[i]):
            shared.weights[j] = next(ahead)
            shared.biases[j] = bias(j)  # type: ignore[assignment]

        def forward(k: int, lo: int, hi: int, i: int = i, b: Block = b) -> None:
            lane = lanes[k]
            h, owned = cur[k]
            out, out_owned = lane.fwd(b, h)
            if owned:
                lane.put(h)
            cur[k] = (out, out_owned)
            h_rows[i + 1, lo:hi] = np.einsum("ij,ij->i", out, out)
            if hidden is not None:
                hidden[i + 1][lo:hi] = out
            if i == depth - 1:
                loss_rows[lo:hi] = np.einsum("ij,ij->i", g[lo:hi], out)

        run_blocks(forward, cuts)
        if slots is None:
            for j in range(*ranges[i]):
                del shared.weights[j]
    ahead.close()
    loss = float(loss_rows.sum())
    for k, lane in enumerate(lanes):
        if cur[k][1]:
            lane.put(cur[k][0])
    g_rows[depth] = np.einsum("ij,ij->i", g, g)
    back: list[tuple[FloatArray, bool]] = [(g[lo:hi], False) for lo, hi in cuts]
    redrawn = None if slots is not None else prefetched(
        draw, range(len(dense) - 1, -1, -1), size=width * width, ahead=2)
    gw, gz, pre = np.zeros(depth), np.full(depth, math.nan), np.full(depth, math.nan)
    for i in range(depth - 1, -1, -1):
        if redrawn is not None:
            for j in range(ranges[i][1] - 1, ranges[i][0] - 1, -1):
                shared.weights[j] = next(redrawn)

        def backward(k: int, lo: int, hi: int, i: int = i) -> None:
            lane = lanes[k]
            gk, owned = back[k]
            out, out_owned = lane.bwd(blocks[i], gk)
            if owned:
                lane.put(gk)
            back[k] = (out, out_owned)
            g_rows[i, lo:hi] = np.einsum("ij,ij->i", out, out)
            if grads is not None:
                grads[i][lo:hi] = out

        run_blocks(backward, cuts)
        lo_j, hi_j = ranges[i]
        if redrawn is not None:
            for j in range(lo_j, hi_j):
                del shared.weights[j]
        if hi_j > lo_j:
            gw[i] = float(np.einsum("jb,jb->", shared.d_rows[lo_j:hi_j],
                                    shared.a_rows[lo_j:hi_j])) / batch
            gz[i] = float(shared.d_rows[hi_j - 1].sum()) / (batch * width)
            pre[i] = float(shared.z_rows[hi_j - 1].sum()) / (batch * width)
    if redrawn is not None:
        redrawn.close()
    second = h_rows.sum(axis=1) / (batch * width)
    gh = g_rows.sum(axis=1) / (batch * width)
    return second, pre, gh, gz, gw, loss, hidden, grads


def _matrix(value: Any, name: str, shape: tuple[int, int]) -> FloatArray:
    """A finite float64 array broadcast to ``shape`` (a fresh, contiguous copy)."""
    if isinstance(value, str | bytes | bool):
        raise InvalidArgument(f"{name} must be an array of numbers, got {describe(value)}")
    try:
        out = np.array(np.broadcast_to(np.asarray(value, dtype=np.float64), shape),
                       dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} must be an array of real numbers broadcastable to"
                              f" {shape}, got {describe(value)}") from None
    if not np.isfinite(out).all():
        raise InvalidArgument(f"{name} must be finite (no NaN or inf)")
    return out
