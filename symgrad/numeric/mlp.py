"""Does a wide network that runs agree?  Simulated MLPs with a hand-written backward pass.

Conventions (DESIGN.md, "Conventions for gradients", with vectors and matrices):
a₀ = x (the inputs, one row per batch item); for l = 1..depth

    z_l = W_l a_{l−1} + b_l,   u_l = BN(z_l) or z_l,   a_l = φ(u_l)   (+ a_{l−1} if residual)

with W_l of shape (n_l, n_{l−1}).  The loss is L = Σ_batch ⟨g, a_depth⟩ with the
upstream gradient g = ∂L/∂a_depth (standard normal unless given), so

    ∂L/∂u_l = ∂L/∂a_l ⊙ φ'(u_l),    ∂L/∂a_{l−1} = ∂L/∂z_l W_l  (+ ∂L/∂a_l if residual),

and with batch normalisation (per unit over the batch, no affine part, ε = 1e−5;
û = (z − μ)·s, s = (σ² + ε)^{−1/2})  ∂L/∂z = s·(∂L/∂û − mean(∂L/∂û) − û·mean(∂L/∂û ⊙ û))
(Ioffe and Szegedy 2015).  Per-layer gradient quantities are batch means of squared
Euclidean norms over the units.

Memory: only φ'(u_l) per layer is kept for the backward pass (plus û_l and s_l with
batch normalisation); a weight matrix is re-drawn from its own seed in the backward
pass unless the whole stack is small (``_KEEP_WEIGHTS_BYTES``) or ``record=True``.

Threads: a large layer is cut into row blocks run on symgrad's threads, one per core
(GEMM and ufuncs release the GIL), and the next weight matrix is drawn meanwhile.  While
that runs NumPy's BLAS is held to one thread per call, process-wide (through
threadpoolctl), and restored afterwards; a BLAS that spreads each small product over
all cores competes with the blocks and, on a busy machine, stalls on its own threads.

>>> from symgrad.numeric import simulate
>>> sim = simulate("relu", width=256, depth=4, sigma_w=2 ** 0.5, batch=64, rng=0)
>>> sim.grad_a_sq.shape
(4,)
>>> bool(0.7 < sim.preact_second_moment[-1] / sim.preact_second_moment[0] < 1.4)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import sympy

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument
from symgrad.networks.blocks import Block
from symgrad.numeric import memory
from symgrad.numeric._rng import child, normal_matrix, root_seed, seed_label
from symgrad.numeric.backprop import propagate
from symgrad.numeric.networks import NetworkSimulation, simulate_network
from symgrad.numeric.weights import Init, as_init, draw_weights
from symgrad.records import Provenances, Record, Simulated, Step, provenances
from symgrad.types import FloatArray, Seed

__all__ = ["Simulation", "as_matrix", "simulate", "widths_of"]

#: Weight stacks up to this size stay in memory between the passes; larger ones are
#: re-drawn from their seeds in the backward pass (one matrix at a time).
_KEEP_WEIGHTS_BYTES = 512 * 2**20

# Child indices of the root seed.
_INPUTS, _UPSTREAM, _WEIGHTS, _BIASES = 0, 1, 2, 3


#: Every per-layer number is a mean over one network's batch and units.
_ONE_NETWORK = provenances(**dict.fromkeys(
    ("preact_mean", "preact_second_moment", "grad_z_sq", "grad_a_sq", "grad_input_sq",
     "saturated_fraction", "slope_mean", "slope_second_moment"),
    Simulated(None, 1, "one network: means over its batch and units")))


@dataclass(frozen=True, eq=False)
class Simulation(Record):
    """One simulated network's per-layer statistics (arrays of length depth, layer 1 first).

    ``preact_mean`` / ``preact_second_moment``: mean and mean square of z_l over batch
    and units.  ``grad_z_sq`` / ``grad_a_sq``: batch-mean ‖∂L/∂z_l‖² and ‖∂L/∂a_l‖²
    (``grad_a_sq[-1]`` is the upstream's); ``grad_input_sq`` is ‖∂L/∂a₀‖².
    ``saturated_fraction``: share of (item, unit) pairs with |φ'(u_l)| < ``eps``.
    ``dead_fraction``: for relu-like φ (φ' ≡ 0 on a half-line), the share of units
    with φ' = 0 for every item of the batch; ``None`` otherwise.
    ``slope_mean`` / ``slope_second_moment``: mean of φ'(u_l) and of φ'(u_l)² over
    batch and units (the sample versions of E[φ'(√q Z)] and E[φ'(√q Z)²]).
    With ``record=True``: ``weights`` (W_l, shape (n_l, n_{l−1})), ``biases``,
    ``inputs`` (batch, n_0) and ``upstream`` (batch, n_depth).
    """

    activation: str
    init: Init
    widths: tuple[int, ...]
    batch: int
    sigma_w: float
    sigma_b: float
    residual: bool
    batchnorm: bool
    eps: float
    seed: str
    preact_mean: FloatArray
    preact_second_moment: FloatArray
    grad_z_sq: FloatArray
    grad_a_sq: FloatArray
    grad_input_sq: float
    saturated_fraction: FloatArray
    dead_fraction: FloatArray | None
    slope_mean: FloatArray
    slope_second_moment: FloatArray
    weights: list[FloatArray] | None = None
    biases: list[FloatArray] | None = None
    inputs: FloatArray | None = None
    upstream: FloatArray | None = None
    steps: tuple[Step, ...] = ()
    provenance: Provenances = _ONE_NETWORK

    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    def decay_per_layer(self) -> float:
        """Geometric-mean ratio ‖∂L/∂z_l‖²/‖∂L/∂z_{l+1}‖² over the stack (1 if depth is 1)."""
        if self.depth < 2:
            return 1.0
        ratio = self.grad_z_sq[0] / self.grad_z_sq[-1]
        return float(ratio ** (1.0 / (self.depth - 1)))

    def summary(self) -> list[tuple[str, Any]]:
        return [
            ("activation", self.activation),
            ("init", self.init.value),
            ("widths", str(self.widths)),
            ("batch", str(self.batch)),
            ("‖∂L/∂a_1‖² (batch mean)", sympy.Float(self.grad_a_sq[0])),
            ("‖∂L/∂a_depth‖² (batch mean)", sympy.Float(self.grad_a_sq[-1])),
            ("per-layer decay of ‖∂L/∂z‖²", sympy.Float(self.decay_per_layer())),
            ("seed", self.seed),
        ]


#: The deepest network simulated (one forward and one backward pass per layer).
MAX_DEPTH = 100_000
#: Memory a simulation may need for its activations and kept weights.
MAX_BYTES = 2 * 2**30


def check_size(widths: Sequence[int], batch: int) -> None:
    """Refuse up front a network whose arrays would exceed :data:`MAX_BYTES`."""
    activations = 3 * 8 * batch * sum(widths)  # z, φ'(z) kept per layer, a working copy
    weights = 8 * max(m * n for m, n in zip(widths[1:], widths[:-1], strict=True))
    need = activations + 2 * weights
    if need > MAX_BYTES:
        raise InvalidArgument(
            f"this network needs about {need / 2**30:.1f} GiB (batch {batch}, widths up to "
            f"{max(widths)}, {len(widths) - 1} layers); the limit is "
            f"{MAX_BYTES / 2**30:.0f} GiB: use a smaller batch, width or depth")


def widths_of(width: int | Sequence[int], depth: int) -> tuple[int, ...]:
    """(n_0, …, n_depth) from one width or a sequence of depth + 1 widths."""
    if isinstance(width, Sequence) and not isinstance(width, str | bytes):
        if len(width) != depth + 1:
            raise InvalidArgument(
                f"width as a sequence must list depth + 1 = {depth + 1} sizes (n_0 .. n_depth),"
                f" got {len(width)}"
            )
        return tuple(as_positive_int(w, f"width[{i}]") for i, w in enumerate(width))
    n = as_positive_int(width, "width")
    return (n,) * (depth + 1)


def as_matrix(value: Any, name: str, shape: tuple[int, int]) -> FloatArray:
    """A finite float64 array broadcast to ``shape`` (a fresh, contiguous copy)."""
    if isinstance(value, str | bytes | bool):
        raise InvalidArgument(f"{name} must be an array of numbers, got {describe(value)}")
    try:
        arr = np.asarray(value, dtype=np.float64)
        out = np.array(np.broadcast_to(arr, shape), dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"{name} must be an array of real numbers broadcastable to {shape},"
            f" got {describe(value)}"
        ) from None
    if not np.isfinite(out).all():
        raise InvalidArgument(f"{name} must be finite (no NaN or inf)")
    return out


@overload
def simulate(act: Block, *, width: int, batch: int, rng: Seed = None, q0: float = 1.0,
             upstream: Any = None, inputs: Any = None, trace: bool = False
             ) -> NetworkSimulation: ...


@overload
def simulate(act: Activation | str, *, width: int | Sequence[int], depth: int,
             sigma_w: float, sigma_b: float = 0.0, batch: int, init: Init | str = ...,
             residual: bool = False, batchnorm: bool = False, upstream: Any = None,
             inputs: Any = None, rng: Seed = None, record: bool = False, eps: float = 1e-3
             ) -> Simulation: ...


def simulate(
    act: Activation | str | Block,
    *,
    width: int | Sequence[int],
    depth: int | None = None,
    sigma_w: float | None = None,
    sigma_b: float = 0.0,
    batch: int,
    init: Init | str = Init.GAUSSIAN,
    residual: bool = False,
    batchnorm: bool = False,
    upstream: Any = None,
    inputs: Any = None,
    rng: Seed = None,
    record: bool = False,
    eps: float = 1e-3,
    q0: float | None = None,
    trace: bool = False,
) -> Simulation | NetworkSimulation:
    """Run one random network forward and backward; per-layer moments and gradient norms.

    ``simulate(net, width=…, batch=…, rng=…)`` with an architecture from
    :mod:`symgrad.networks` (``q0``, ``upstream``, ``inputs``, ``trace``) runs
    :func:`~symgrad.numeric.networks.simulate_network` and returns its record.

    Otherwise ``act`` is an activation and ``depth`` and ``sigma_w`` are required:
    ``width`` is one size for every layer or the sizes (n_0, …, n_depth).  Weights follow
    ``init`` with gain ``sigma_w`` (default N(0, σ_w²/n_in), see
    :mod:`symgrad.numeric.weights`), biases N(0, σ_b²).  ``inputs`` default to N(0, 1)
    entries (shape (batch, n_0)), ``upstream`` (∂L/∂a_depth) to N(0, 1) entries.
    ``rng``: a seed, ``SeedSequence`` or ``Generator``; the same seed gives bit-identical
    results on one machine, whatever the scheduling of its threads (the BLAS may round a
    product differently when a machine with another core count cuts the batch into
    another number of row blocks).  Residual blocks (a_l = a_{l−1} + φ(u_l), He et al.
    2016) need equal widths.

    >>> sim = simulate("tanh", width=64, depth=3, sigma_w=1.0, batch=8, rng=1, record=True)
    >>> [w.shape for w in sim.weights]
    [(64, 64), (64, 64), (64, 64)]
    >>> from symgrad import networks as nw
    >>> net = nw.repeat(nw.serial(nw.dense(1), nw.activation("tanh")), 3)
    >>> len(simulate(net, width=64, batch=8, rng=1).grad_h_sq)
    4
    """
    if isinstance(act, Block):
        mlp_only = [name for name, value, default in (
            ("depth", depth, None), ("sigma_w", sigma_w, None), ("sigma_b", sigma_b, 0.0),
            ("init", init, Init.GAUSSIAN), ("residual", residual, False),
            ("batchnorm", batchnorm, False), ("record", record, False), ("eps", eps, 1e-3))
            if value != default]
        if mlp_only:
            raise InvalidArgument(
                f"simulate(net, ...) takes width, batch, rng, q0, upstream, inputs and trace;"
                f" {', '.join(mlp_only)} belong to the architecture (set them in its blocks)")
        if not isinstance(width, int) or isinstance(width, bool):
            raise InvalidArgument(f"width of an architecture is one size, got {describe(width)}")
        return simulate_network(act, width=width, batch=batch, rng=rng,
                                q0=1.0 if q0 is None else q0, upstream=upstream,
                                inputs=inputs, trace=trace)
    if depth is None or sigma_w is None:
        raise InvalidArgument("simulate(activation, ...) needs depth= and sigma_w= (or pass an"
                              " architecture from symgrad.networks as the first argument)")
    if q0 is not None or trace:
        raise InvalidArgument("q0 and trace apply to architectures (symgrad.networks); for an"
                              " activation give inputs= instead")
    phi = as_activation(act)
    depth = as_positive_int(depth, "depth")
    if depth > MAX_DEPTH:
        raise InvalidArgument(f"depth must be at most {MAX_DEPTH} (one pass per layer), "
                              f"got {depth}")
    widths = widths_of(width, depth)
    batch = as_positive_int(batch, "batch")
    check_size(widths, batch)
    sigma_w = as_float(sigma_w, "sigma_w", lower=0.0)
    sigma_b = as_float(sigma_b, "sigma_b", lower=0.0, strict=False)
    eps = as_float(eps, "eps", lower=0.0)
    scheme = as_init(init)
    for flag, name in ((residual, "residual"), (batchnorm, "batchnorm"), (record, "record")):
        if not isinstance(flag, bool):
            raise InvalidArgument(f"{name} must be True or False, got {describe(flag)}")
    if residual and len(set(widths)) != 1:
        raise InvalidArgument(f"residual blocks need equal widths, got {widths}")
    if batchnorm and batch < 2:
        raise InvalidArgument("batchnorm needs batch >= 2 (statistics over the batch)")
    root = root_seed(rng)

    x = (normal_matrix(child(root, _INPUTS), batch, widths[0]) if inputs is None
         else as_matrix(inputs, "inputs", (batch, widths[0])))
    g = (normal_matrix(child(root, _UPSTREAM), batch, widths[-1]) if upstream is None
         else as_matrix(upstream, "upstream", (batch, widths[-1])))
    # Neither pass writes into x or g, so the record can keep them without copies.
    x_kept = x if record else None
    g_kept = g if record else None

    shapes = list(zip(widths[1:], widths[:-1], strict=True))
    weight_bytes = 8 * sum(m * n for m, n in shapes)
    keep = record or weight_bytes <= _KEEP_WEIGHTS_BYTES
    # Kept weights share one allocation: far fewer page faults than a matrix each.
    # (Recorded weights belong to the caller: never from or back to reuse_memory.)
    arena = (np.empty(weight_bytes // 8) if record else memory.take(weight_bytes // 8)
             if keep else None)
    slots = None if arena is None else memory.carve(arena, shapes)

    def weight(layer: int) -> FloatArray:
        m, n = shapes[layer]
        return draw_weights(scheme, m, n, sigma_w=sigma_w, seed=child(root, _WEIGHTS, layer),
                            out=None if slots is None else slots[layer])

    def bias(layer: int) -> FloatArray:
        if sigma_b == 0.0:
            return np.zeros(widths[layer + 1])
        out = normal_matrix(child(root, _BIASES, layer), 1, widths[layer + 1]).reshape(-1)
        out *= sigma_b
        return out

    # An overflow is caught below and refused with its layer, not left as a warning.
    with np.errstate(over="ignore", invalid="ignore"):
        run = propagate(
            phi, widths, weight, bias, x, g, residual=residual, batchnorm=batchnorm, eps=eps,
            keep_weights=keep, record=record,
            use_bias=sigma_b != 0.0,
        )
    if not record:
        run.weights.clear()  # views of the arena, which goes back for reuse
        del slots
        memory.give(arena)
    mean, second, grad_z, grad_a, saturated, dead = (
        run.mean, run.second, run.grad_z, run.grad_a, run.saturated, run.dead)
    slope1, slope2 = run.slope_mean, run.slope_second
    grad_in = run.grad_input
    kept_w, kept_b = run.weights, run.biases

    arrays = [mean, second, grad_z, grad_a, saturated, slope1, slope2]
    arrays += [dead] if dead is not None else []
    overflowed = np.flatnonzero(~(np.isfinite(second) & np.isfinite(grad_a)))
    if overflowed.size or not np.isfinite(grad_in):
        layer = int(overflowed[0]) + 1 if overflowed.size else 0
        raise InvalidArgument(
            f"float64 overflowed at layer {layer}: σ_w = {sigma_w:g}, σ_b = {sigma_b:g} over "
            f"{depth} layers make the activations or gradients exceed 1.8e308; use a smaller "
            "σ_w or fewer layers (symgrad.mean_field gives the growth per layer exactly)")
    for arr in arrays:
        arr.flags.writeable = False
    return Simulation(
        activation=phi.label, init=scheme, widths=widths, batch=batch, sigma_w=sigma_w,
        sigma_b=sigma_b, residual=residual, batchnorm=batchnorm, eps=eps,
        seed=seed_label(root), preact_mean=mean, preact_second_moment=second,
        grad_z_sq=grad_z, grad_a_sq=grad_a, grad_input_sq=grad_in,
        saturated_fraction=saturated, dead_fraction=dead, slope_mean=slope1,
        slope_second_moment=slope2, weights=kept_w if record else None,
        biases=kept_b if record else None, inputs=x_kept, upstream=g_kept,
        steps=(
            Step("Forward pass", "z_l = W_l a_{l-1} + b_l,\\ a_l = \\varphi(z_l)"),
            Step("Backward pass", "\\partial L/\\partial z_l = \\partial L/\\partial a_l"
                 " \\odot \\varphi'(z_l),\\ \\partial L/\\partial a_{l-1} = W_l^T"
                 " \\partial L/\\partial z_l"),
        ),
    )
