"""From a framework's recognised layers to a :mod:`symgrad.networks` architecture.

A bridge (PyTorch today, JAX the same way) walks a model in forward order and describes
each layer framework-neutrally: a :class:`LinearSpec` (fans and the measured second
moments of its weights and biases), a :class:`PrimitiveSpec` (an activation, layernorm
or batchnorm block of :mod:`symgrad.networks`) or a :class:`SkipSpec` (a residual
addition h + s·branch(h)).  :func:`architecture` turns that into the network
:func:`symgrad.networks.predict` takes, and says which layer ends each top-level block.

Initialisation is read off the weights: σ_w² = fan_in·mean(W²) and σ_b² = mean(b²) per
layer, pooled over the layers of the same shape when they agree within 4.5 standard errors
(then equal blocks form a ``repeat`` and the depth law can be derived), each rounded to 4
significant digits (far below the sampling error of a layer's mean square).

``networks`` assumes equal widths N.  The first linear layer may read d_in ≠ N inputs
(the forward recursion K = σ_w²K' + σ_b² holds for any fan-in) and the last may write
d_out ≠ N outputs: per unit, the gradient below it is then d_out/N times the equal-width
one (E[(∂L/∂a)²] = fan_out·Var(W)·E[δ²]), a correction :attr:`Architecture.correction`
carries; anything else of unequal width is refused with the layer named.

>>> import sympy
>>> from symgrad.networks import activation
>>> lin = [LinearSpec(f"{i}", 16, 16, 1.0, 0.01, None, None) for i in range(3)]
>>> items = [lin[0], PrimitiveSpec("t0", activation("tanh")), lin[1],
...          PrimitiveSpec("t1", activation("tanh")), lin[2]]
>>> arch = architecture(items)
>>> str(arch.net), arch.ends
('serial(repeat(serial(dense(1), activation(tanh)), 2), dense(1))', ('t0', 't1', '2'))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import sympy

from symgrad.errors import InvalidArgument
from symgrad.networks import Block, dense, repeat, residual, serial

__all__ = ["Architecture", "Item", "LinearSpec", "PrimitiveSpec", "SkipSpec", "architecture"]

#: Standard errors two layers' σ² estimates may differ by and still be pooled.
POOL_Z = 4.5


@dataclass(frozen=True)
class LinearSpec:
    """A linear layer z = W a + b: fans, σ_w² = fan_in·mean(W²) with its standard error,
    σ_b² = mean(b²) with its standard error (None without a bias)."""

    name: str
    fan_in: int
    fan_out: int
    weight_var: float
    weight_se: float
    bias_var: float | None
    bias_se: float | None


@dataclass(frozen=True)
class PrimitiveSpec:
    """An activation, layernorm or batchnorm: the :mod:`symgrad.networks` block itself."""

    name: str
    block: Block


@dataclass(frozen=True)
class SkipSpec:
    """A residual addition h + scale·branch(h); ``name`` is the addition's."""

    name: str
    branch: tuple[Item, ...]
    scale: float = 1.0


Item: TypeAlias = LinearSpec | PrimitiveSpec | SkipSpec


@dataclass(frozen=True)
class Architecture:
    """The network, the layer ending each of its top-level blocks (``net.blocks()``
    order), the equal width N, and per block the factor multiplying the equal-width
    prediction of E[(∂L/∂h)²] (d_out/N below a last layer of d_out outputs)."""

    net: Block
    ends: tuple[str, ...]
    width: int
    correction: tuple[float, ...]
    #: Per linear layer: (block index, fan_in·fan_out/N²) to scale the predicted
    #: per-example weight gradient of that block.
    linear_blocks: tuple[tuple[str, int, float], ...]


def _linears(items: tuple[Item, ...] | list[Item]) -> list[LinearSpec]:
    out: list[LinearSpec] = []
    for item in items:
        if isinstance(item, LinearSpec):
            out.append(item)
        elif isinstance(item, SkipSpec):
            out.extend(_linears(item.branch))
    return out


def _rounded(value: float) -> sympy.Rational:
    """``value`` to 4 significant digits, exactly (0 stays 0)."""
    return sympy.Rational(f"{value:.4g}") if value > 0 else sympy.Integer(0)


def _pooled(values: list[tuple[tuple[int, int], float, float]]) -> list[sympy.Rational]:
    """Each (fans, estimate, SE), or the mean of the layers with the same fans when they
    all agree with it within POOL_Z standard errors (frameworks' default schemes scale
    with the fans, so layers of other shapes are pooled apart)."""
    out: list[sympy.Rational] = []
    for fans, value, _ in values:
        group = [(v, se) for f, v, se in values if f == fans]
        mean = sum(v for v, _ in group) / len(group)
        agree = all(abs(v - mean) <= POOL_Z * max(se, 1e-12 * abs(mean)) for v, se in group)
        out.append(_rounded(mean if agree else value))
    return out


def _width(linears: list[LinearSpec], items: list[Item]) -> int:
    """The equal width N, checked: only the first fan-in and the last fan-out may differ,
    and only outside residual branches."""
    if not linears:
        raise InvalidArgument("the model has no linear layer: nothing to predict")
    n = linears[0].fan_out
    inside = {lin.name for item in items if isinstance(item, SkipSpec)
              for lin in _linears(item.branch)}
    for i, lin in enumerate(linears):
        free_in = i == 0 and lin.name not in inside
        free_out = i == len(linears) - 1 and lin.name not in inside
        if (lin.fan_in != n and not free_in) or (lin.fan_out != n and not free_out):
            raise InvalidArgument(
                f"layer {lin.name!r} maps {lin.fan_in} → {lin.fan_out} units inside a stack of"
                f" width {n}: symgrad.networks predicts equal widths (only the first layer's"
                " inputs and the last layer's outputs may differ)")
    return n


def _branch_block(items: tuple[Item, ...], sw: dict[str, Block]) -> Block:
    parts: list[Block] = []
    for item in items:
        if isinstance(item, LinearSpec):
            parts.append(sw[item.name])
        elif isinstance(item, PrimitiveSpec):
            parts.append(item.block)
        else:
            parts.append(residual(_branch_block(item.branch, sw), scale=item.scale))
    return parts[0] if len(parts) == 1 else serial(*parts)


def architecture(items: list[Item]) -> Architecture:
    """The :mod:`symgrad.networks` architecture of ``items`` (module docstring).

    Top-level items are grouped into units that start at each linear layer or residual
    addition (what follows a linear layer, its activation or normalisation, belongs to
    it); runs of equal units become a ``repeat``.  Raises :class:`InvalidArgument` when
    the stack cannot be written with equal widths.
    """
    if not items:
        raise InvalidArgument("the model has no recognised layer")
    linears = _linears(items)
    n = _width(linears, items)
    weights = _pooled([((lin.fan_in, lin.fan_out), lin.weight_var, lin.weight_se)
                       for lin in linears])
    with_bias = [lin for lin in linears if lin.bias_var is not None]
    biases = dict(zip((lin.name for lin in with_bias),
                      _pooled([((lin.fan_in, lin.fan_out), float(lin.bias_var or 0.0),
                                float(lin.bias_se or 0.0)) for lin in with_bias]),
                      strict=True))
    dense_of: dict[str, Block] = {
        lin.name: dense(sympy.sqrt(w), sympy.sqrt(biases.get(lin.name, sympy.Integer(0))))
        for lin, w in zip(linears, weights, strict=True)}

    # Units: a linear layer or a residual starts one; primitives join the current unit.
    units: list[list[Item]] = []
    for item in items:
        if not units or isinstance(item, LinearSpec | SkipSpec):
            units.append([item])
        else:
            units[-1].append(item)
    units = _split_tails(units)
    blocks = [_branch_block(tuple(u), dense_of) for u in units]

    parts: list[Block] = []
    ends: list[str] = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and blocks[j + 1] == blocks[i]:
            j += 1
        if j > i:  # a run: one top-level block per unit
            parts.append(repeat(blocks[i], j - i + 1))
            ends += [units[k][-1].name for k in range(i, j + 1)]
        else:      # a lone unit: serial() splits it into its items
            parts.append(blocks[i])
            ends += [it.name for it in units[i]]
        i = j + 1
    net = parts[0] if len(parts) == 1 else serial(*parts)
    if len(net.blocks()) != len(ends):  # a lone residual inside serial stays whole
        raise InvalidArgument("could not align the model's layers with the architecture's"
                              " blocks")
    last = linears[-1]
    # Blocks strictly below the last linear layer get d_out/N (module docstring).
    below = ends.index(last.name) if last.name in ends else len(ends) - 1
    factor = last.fan_out / n
    correction = tuple(factor if k < below else 1.0 for k in range(len(ends)))
    linear_blocks = []
    names = set(ends)
    for lin in linears:
        block = _block_of(lin.name, items, ends, names)
        linear_blocks.append((lin.name, block, lin.fan_in * lin.fan_out / n**2))
    if not all(math.isfinite(c) and c > 0 for c in correction):
        raise InvalidArgument("a layer has no outputs")
    return Architecture(net, tuple(ends), n, correction, tuple(linear_blocks))


def _split_tails(units: list[list[Item]]) -> list[list[Item]]:
    """A residual's trailing primitives stay with it only where a neighbouring residual
    unit has the same tail (post-LN: residual, layernorm, repeated); otherwise (a final
    layernorm after pre-LN blocks) they form their own unit, so the run stays whole."""
    def tail(u: list[Item]) -> list[Block]:
        return [it.block for it in u[1:] if isinstance(it, PrimitiveSpec)]

    out: list[list[Item]] = []
    for k, u in enumerate(units):
        if not isinstance(u[0], SkipSpec) or len(u) == 1:
            out.append(u)
            continue
        mates = [units[j] for j in (k - 1, k + 1) if 0 <= j < len(units)
                 and isinstance(units[j][0], SkipSpec)]
        if any(tail(m) == tail(u) for m in mates):
            out.append(u)
        else:
            out += [u[:1], u[1:]]
    return out


def _block_of(name: str, items: list[Item], ends: list[str], names: set[str]) -> int:
    """The top-level block holding layer ``name`` (the first block ending at or after it)."""
    order: list[str] = []

    def walk(seq: tuple[Item, ...] | list[Item]) -> None:
        for item in seq:
            if isinstance(item, SkipSpec):
                walk(item.branch)
            order.append(item.name)

    walk(items)
    at = order.index(name)
    for k, end in enumerate(ends):
        if order.index(end) >= at:
            return k
    return len(ends) - 1
