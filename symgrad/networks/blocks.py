"""Architectures as values: blocks composed like neural-tangents' ``stax``.

Every block is a frozen, hashable record; a network is a block.  Conventions
(DESIGN.md, "Architectures"): h_0 is the input, h_l the output of block l, all
widths equal (N).

==================================  ===============================================
constructor                         what it computes
==================================  ===============================================
``dense(σ_w, σ_b=0, init=...)``     z = W a + b, W_ij of variance v·σ_w²/N, b_i ~ N(0, σ_b²)
``activation(φ)``                   a = φ(z), elementwise
``layernorm(eps=0)``                (x − mean)/√(var + ε) over the units of one example
``batchnorm(batch=None, eps=0)``    (x − mean)/√(var + ε) over the batch, per unit
                                    (``batch=None``: the infinite-batch limit)
``residual(branch, scale=1)``       h + s·branch(h)
``serial(*layers)``                 the layers in order
``repeat(block, depth)``            the block ``depth`` times (independent weights)
==================================  ===============================================

``init`` names the weight scheme (σ_w is its gain); at equal widths Xavier's variance
2/(n_in + n_out) is 1/N, so v = 1 for ``gaussian``, ``xavier_*`` and ``orthogonal``
and v = 2 for ``he_*``.  σ_w, σ_b and ``scale`` may be SymPy expressions in the depth
symbol :data:`L` (the number of top-level blocks), so recipes that scale with depth are
values too: ``residual(branch, scale=1 / sympy.sqrt(L))``.

The pre-LN block h_{l+1} = h_l + s·(W φ(LN(h_l)) + b), the post-LN block
h_{l+1} = LN(h_l + W φ(h_l) + b) and the plain residual h_{l+1} = h_l + s·W φ(h_l):

>>> pre_ln = residual(serial(layernorm(), activation("relu"), dense(1)), scale=1)
>>> post_ln = serial(residual(serial(activation("relu"), dense(1))), layernorm())
>>> net = repeat(pre_ln, 40)
>>> len(net.blocks()), str(pre_ln)
(40, 'residual(serial(layernorm(), activation(relu), dense(1)))')
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import sympy

from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad.activations import Activation, as_activation
from symgrad.activations import activation as _activation
from symgrad.errors import InvalidArgument

__all__ = [
    "Activate",
    "BatchNorm",
    "Block",
    "Dense",
    "Init",
    "L",
    "LayerNorm",
    "Repeat",
    "Residual",
    "Serial",
    "activation",
    "batchnorm",
    "dense",
    "layernorm",
    "repeat",
    "residual",
    "serial",
]

#: The depth symbol: the number of top-level blocks of the network it appears in.
L = sympy.Symbol("L", positive=True, integer=True)

#: Largest depth ``repeat`` accepts (``predict`` runs in seconds up to here).
MAX_DEPTH = 10**6
_MAX_PARAM = sympy.Integer(10) ** 6


class Init(enum.Enum):
    """Weight scheme of a dense layer (σ_w is its gain); values as in ``simulate``."""

    GAUSSIAN = "gaussian"
    XAVIER_NORMAL = "xavier_normal"
    XAVIER_UNIFORM = "xavier_uniform"
    HE_NORMAL = "he_normal"
    HE_UNIFORM = "he_uniform"
    ORTHOGONAL = "orthogonal"

    @property
    def factor(self) -> int:
        """N·Var(W_ij)/σ_w² at equal widths (dedupe: numeric.weights.weight_variance)."""
        return 2 if self in (Init.HE_NORMAL, Init.HE_UNIFORM) else 1


def _init(value: Any) -> Init:
    if isinstance(value, Init):
        return value
    try:
        return Init(value)
    except ValueError:
        known = ", ".join(i.value for i in Init)
        raise InvalidArgument(f"unknown init {describe(value)}; known schemes: {known}") from None


def _param(value: Any, name: str, *, allow_zero: bool) -> sympy.Expr:
    """An exact real ≥ 0 (> 0 unless ``allow_zero``), or a SymPy expression in :data:`L`
    that is so for every depth (checked at L = 1, 10, …, 10⁶)."""
    low = sympy.Interval(0, _MAX_PARAM) if allow_zero else sympy.Interval.Lopen(0, _MAX_PARAM)
    if isinstance(value, sympy.Basic) and getattr(value, "free_symbols", None):
        if not isinstance(value, sympy.Expr) or value.free_symbols != {L}:
            raise InvalidArgument(
                f"{name} may depend on the depth symbol L only, got {describe(value)}")
        for depth in (1, 10, 100, 10**4, 10**6):
            at = sympy.N(value.subs(L, depth), 20)
            if not (at.is_real and at.is_finite and low.contains(at) == sympy.true):
                raise InvalidArgument(
                    f"{name} must be {'>= 0' if allow_zero else '> 0'} and at most 1e6 for"
                    f" every depth, got {value} = {at} at L = {depth}")
        return value
    return as_exact_real(value, name, domain=low)


class Block:
    """Base of every architecture value."""

    def blocks(self) -> tuple[Block, ...]:
        """The top-level blocks h_{l−1} → h_l, l = 1 … depth: a top-level ``serial`` is
        split into its items and a ``repeat`` into copies of its block (kept whole)."""
        return (self,)

    def parts(self) -> tuple[Block, ...]:
        """The blocks directly inside this one."""
        return ()

    def walk(self) -> tuple[Block, ...]:
        """This block and every block inside it, depth first."""
        out: list[Block] = [self]
        for part in self.parts():
            out.extend(part.walk())
        return tuple(out)

    def has_dense(self) -> bool:
        return any(isinstance(b, Dense) for b in self.walk())


def _text(value: sympy.Expr) -> str:
    return str(sympy.sstr(value))


@dataclass(frozen=True)
class Dense(Block):
    """z = W a + b, W_ij of variance ``init.factor``·σ_w²/N, b_i ~ N(0, σ_b²)."""

    sigma_w: sympy.Expr
    sigma_b: sympy.Expr
    init: Init

    def __str__(self) -> str:
        extra = f", {_text(self.sigma_b)}" if self.sigma_b != 0 else ""
        scheme = "" if self.init is Init.GAUSSIAN else f", init={self.init.value}"
        return f"dense({_text(self.sigma_w)}{extra}{scheme})"


@dataclass(frozen=True)
class Activate(Block):
    """a = φ(z), elementwise."""

    act: Activation

    def __str__(self) -> str:
        return f"activation({self.act.label})"


@dataclass(frozen=True)
class LayerNorm(Block):
    """Normalisation over the units of each example (no affine part)."""

    eps: sympy.Expr

    def __str__(self) -> str:
        return "layernorm()" if self.eps == 0 else f"layernorm(eps={_text(self.eps)})"


@dataclass(frozen=True)
class BatchNorm(Block):
    """Normalisation of each unit over the batch (no affine part); ``batch=None`` is the
    infinite-batch limit."""

    batch: int | None
    eps: sympy.Expr

    def __str__(self) -> str:
        args = [] if self.batch is None else [f"batch={self.batch}"]
        args += [] if self.eps == 0 else [f"eps={_text(self.eps)}"]
        return f"batchnorm({', '.join(args)})"


@dataclass(frozen=True)
class Residual(Block):
    """h + s·branch(h)."""

    branch: Block
    scale: sympy.Expr

    def parts(self) -> tuple[Block, ...]:
        return (self.branch,)

    def __str__(self) -> str:
        extra = "" if self.scale == 1 else f", scale={_text(self.scale)}"
        return f"residual({self.branch}{extra})"


@dataclass(frozen=True)
class Serial(Block):
    """The layers in order."""

    layers: tuple[Block, ...]

    def parts(self) -> tuple[Block, ...]:
        return self.layers

    def blocks(self) -> tuple[Block, ...]:
        out: list[Block] = []
        for layer in self.layers:
            out.extend(layer.blocks())
        return tuple(out)

    def __str__(self) -> str:
        return f"serial({', '.join(map(str, self.layers))})"


@dataclass(frozen=True)
class Repeat(Block):
    """``block`` ``depth`` times, with independent weights in every copy."""

    block: Block
    depth: int

    def parts(self) -> tuple[Block, ...]:
        return (self.block,)

    def blocks(self) -> tuple[Block, ...]:
        # The repeated block stays whole: repeat(serial(dense, φ), 20) has 20 blocks.
        return (self.block,) * self.depth

    def __str__(self) -> str:
        return f"repeat({self.block}, {self.depth})"


def _block(value: Any, name: str) -> Block:
    if not isinstance(value, Block):
        raise InvalidArgument(f"{name} must be a block (dense, activation, …), got"
                              f" {describe(value)}")
    return value


def dense(sigma_w: Any, sigma_b: Any = 0, *, init: Init | str = Init.GAUSSIAN) -> Dense:
    """A dense layer z = W a + b (W_ij ~ N(0, v·σ_w²/N) for the Gaussian schemes).

    >>> dense(1, init="he_normal").init.factor
    2
    """
    return Dense(_param(sigma_w, "sigma_w", allow_zero=True),
                 _param(sigma_b, "sigma_b", allow_zero=True), _init(init))


def activation(act: Activation | str, **params: Any) -> Activate:
    """φ elementwise: an :class:`~symgrad.activations.Activation` or a registered name
    (with family parameters, as :func:`symgrad.activation`).

    >>> str(activation("leaky_relu", alpha=0.2))
    'activation(leaky_relu(alpha=1/5))'
    """
    if params:
        if not isinstance(act, str):
            raise InvalidArgument("family parameters go with an activation name")
        return Activate(_activation(act, **params))
    return Activate(as_activation(act))


def layernorm(*, eps: Any = 0) -> LayerNorm:
    """Layer normalisation (x − mean)/√(var + ε) over the units (no gain or bias).

    ε = 0 by default, the mean-field theory's LN (PyTorch's default is 1e−5)."""
    return LayerNorm(as_exact_real(eps, "eps", domain=sympy.Interval(0, 1)))


def batchnorm(batch: int | None = None, *, eps: Any = 0) -> BatchNorm:
    """Batch normalisation per unit over the batch (no gain or bias; ε = 0 by default).

    ``batch=None``: the infinite-batch limit; an integer ≥ 4: that batch size (the
    finite-batch corrections of :mod:`symgrad.networks.prediction` need B ≥ 4)."""
    size = None if batch is None else as_positive_int(batch, "batch", minimum=4)
    if size is not None and size > 8192:
        raise InvalidArgument(f"batch must be at most 8192, got {size}")
    return BatchNorm(size, as_exact_real(eps, "eps", domain=sympy.Interval(0, 1)))


def residual(branch: Block, scale: Any = 1) -> Residual:
    """h + s·branch(h).  The branch needs a dense layer (its zero-mean weights make the
    skip and the branch uncorrelated); ``scale`` = 0 is ReZero / SkipInit at init.

    >>> str(residual(serial(activation("tanh"), dense(1)), scale=0))
    'residual(serial(activation(tanh), dense(1)), scale=0)'
    """
    b = _block(branch, "branch")
    if not b.has_dense():
        raise InvalidArgument("a residual branch needs a dense layer (e.g. serial(activation("
                              "'relu'), dense(1))); without one the skip and the branch are"
                              " correlated and the mean-field recursion does not close")
    return Residual(b, _param(scale, "scale", allow_zero=True))


def serial(*layers: Block) -> Serial:
    """The layers in order (at least one)."""
    if not layers:
        raise InvalidArgument("serial needs at least one layer")
    return Serial(tuple(_block(x, f"layer {i}") for i, x in enumerate(layers)))


def repeat(block: Block, depth: int) -> Repeat:
    """``block`` ``depth`` times (1 ≤ depth ≤ 10⁶), each copy with its own weights."""
    n = as_positive_int(depth, "depth")
    if n > MAX_DEPTH:
        raise InvalidArgument(f"depth must be at most {MAX_DEPTH}, got {n}")
    return Repeat(_block(block, "block"), n)
