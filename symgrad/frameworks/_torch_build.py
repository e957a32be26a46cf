"""symgrad architectures as PyTorch modules, and symgrad's advice applied to a model.

:func:`to_torch` writes a :mod:`symgrad.networks` architecture as an ``nn.Sequential`` of
``nn.Linear`` (W_ij drawn as the block's ``init`` says, with gain σ_w; biases
N(0, σ_b²), none when σ_b = 0), activation modules, ``nn.LayerNorm`` / ``nn.BatchNorm1d``
without affine parts, and :class:`Residual` modules (h + s·branch(h)); σ_w, σ_b and s
written in the depth symbol L are evaluated at the network's depth.  :func:`init_` reads a
model as :func:`symgrad.frameworks.torch.diagnose` does, asks
:func:`~symgrad.networks.advice.recommend_init` for σ_w and σ_b for that architecture and
draws every linear layer's weights N(0, σ_w²/fan_in) and biases N(0, σ_b²).
"""

from __future__ import annotations

import functools
from typing import Any

import sympy

from symgrad._core.validate import as_positive_int, describe
from symgrad.activations import Activation
from symgrad.errors import InvalidArgument
from symgrad.frameworks._torch_graph import read
from symgrad.frameworks.architecture import Item, LinearSpec, PrimitiveSpec, SkipSpec
from symgrad.networks import (
    Activate,
    BatchNorm,
    Block,
    Dense,
    Init,
    L,
    LayerNorm,
    Repeat,
    Residual,
    Serial,
    dense,
    repeat,
    residual,
    serial,
)
from symgrad.networks.advice import recommend_init
from symgrad.records import Record

__all__ = ["init_", "residual_module", "to_torch"]

#: Largest width :func:`to_torch` builds (predict's own limit).
MAX_WIDTH = 8192


@functools.cache
def residual_module() -> Any:
    """The ``Residual`` module class: forward(h) = h + scale·branch(h)."""
    import torch.nn as nn

    class Residual(nn.Module):  # type: ignore[misc, unused-ignore]
        def __init__(self, branch: Any, scale: float = 1.0) -> None:
            super().__init__()
            self.branch = branch
            self.scale = float(scale)

        def forward(self, h: Any) -> Any:
            if self.scale == 1.0:
                return h + self.branch(h)
            return h + self.scale * self.branch(h)

    return Residual


def _activation_module(act: Activation) -> Any:
    import torch.nn as nn

    params = {k: float(v) for k, v in act.params}
    plain = {"relu": nn.ReLU, "selu": nn.SELU, "silu": nn.SiLU, "mish": nn.Mish,
             "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "hard_sigmoid": nn.Hardsigmoid,
             "softsign": nn.Softsign, "hard_tanh": nn.Hardtanh, "identity": nn.Identity,
             "gelu": nn.GELU}
    if act.name in plain:
        return plain[act.name]()
    if act.name == "gelu_tanh":
        return nn.GELU(approximate="tanh")
    if act.name == "leaky_relu":
        return nn.LeakyReLU(params["alpha"])
    if act.name == "elu" and params["scale"] == 1.0:
        return nn.ELU(params["alpha"])
    if act.name == "softplus":
        return nn.Softplus(beta=params["beta"])
    if act.name == "swish" and params["beta"] == 1.0:
        return nn.SiLU()
    raise InvalidArgument(f"{act.label} has no PyTorch module; to_torch builds relu, "
                          "leaky_relu, elu (scale 1), selu, gelu, gelu_tanh, silu, mish, "
                          "softplus, sigmoid, tanh, hard_tanh, hard_sigmoid, softsign, identity")


def _at(value: sympy.Expr, depth: int) -> float:
    return float(sympy.sympify(value).subs(L, depth))


def _linear(block: Dense, width: int, depth: int, gen: Any, dtype: Any) -> Any:
    import torch
    import torch.nn as nn

    sw, sb = _at(block.sigma_w, depth), _at(block.sigma_b, depth)
    lin = nn.Linear(width, width, bias=sb != 0.0, dtype=dtype)
    w = lin.weight
    with torch.no_grad():
        if block.init is Init.GAUSSIAN:
            nn.init.normal_(w, 0.0, sw / width**0.5, generator=gen)
        elif block.init is Init.XAVIER_NORMAL:
            nn.init.xavier_normal_(w, gain=sw, generator=gen)
        elif block.init is Init.XAVIER_UNIFORM:
            nn.init.xavier_uniform_(w, gain=sw, generator=gen)
        elif block.init is Init.ORTHOGONAL:
            nn.init.orthogonal_(w, gain=sw, generator=gen)
        else:  # he: Var = 2/fan_in, times the gain σ_w²
            init = nn.init.kaiming_normal_ if block.init is Init.HE_NORMAL \
                else nn.init.kaiming_uniform_
            init(w, nonlinearity="relu", generator=gen)
            w.mul_(sw)
        if lin.bias is not None:
            nn.init.normal_(lin.bias, 0.0, sb, generator=gen)
    return lin


def _modules(block: Block, width: int, depth: int, gen: Any, dtype: Any) -> list[Any]:
    import torch.nn as nn

    if isinstance(block, Dense):
        return [_linear(block, width, depth, gen, dtype)]
    if isinstance(block, Activate):
        return [_activation_module(block.act)]
    if isinstance(block, LayerNorm):
        return [nn.LayerNorm(width, eps=float(block.eps), elementwise_affine=False,
                             dtype=dtype)]
    if isinstance(block, BatchNorm):
        return [nn.BatchNorm1d(width, eps=float(block.eps), affine=False, dtype=dtype)]
    if isinstance(block, Residual):
        inner = _modules(block.branch, width, depth, gen, dtype)
        branch = inner[0] if len(inner) == 1 else nn.Sequential(*inner)
        return [residual_module()(branch, _at(block.scale, depth))]
    if isinstance(block, Serial):
        return [m for layer in block.layers for m in _modules(layer, width, depth, gen, dtype)]
    if isinstance(block, Repeat):
        return [m for _ in range(block.depth)
                for m in _modules(block.block, width, depth, gen, dtype)]
    raise InvalidArgument(f"unknown block {describe(block)}")


def to_torch(net: Block, *, width: int, rng: int = 0, dtype: Any = None) -> Any:
    """The ``nn.Sequential`` of ``net`` at ``width`` with symgrad's initialisation
    (module docstring), weights drawn from a ``torch.Generator`` seeded with ``rng``;
    ``dtype`` defaults to float64, the precision of symgrad's own simulations.

    >>> import importlib.util
    >>> if importlib.util.find_spec("torch"):
    ...     from symgrad import networks as nw
    ...     m = to_torch(nw.repeat(nw.serial(nw.dense(1), nw.activation("tanh")), 3), width=8)
    ...     print(len(m), type(m[1]).__name__)
    ... else:
    ...     print(6, "Tanh")
    6 Tanh
    """
    if not isinstance(net, Block):
        raise InvalidArgument(f"net must be a symgrad.networks architecture, got {describe(net)}")
    n = as_positive_int(width, "width")
    if n > MAX_WIDTH:
        raise InvalidArgument(f"width must be at most {MAX_WIDTH}, got {n}")
    seed = as_positive_int(rng, "rng", minimum=0)
    import torch
    import torch.nn as nn

    gen = torch.Generator().manual_seed(seed)
    depth = len(net.blocks())
    return nn.Sequential(*_modules(net, n, depth, gen, dtype or torch.float64))


# ---- init_ ----

def _regained(items: list[Item], sw: float, sb: float) -> Block:
    """The recognised architecture with every linear layer at (σ_w, σ_b)."""
    parts: list[Block] = []
    for item in items:
        if isinstance(item, LinearSpec):
            parts.append(dense(sw, sb))
        elif isinstance(item, PrimitiveSpec):
            parts.append(item.block)
        elif isinstance(item, SkipSpec):
            parts.append(residual(_regained(list(item.branch), sw, sb), scale=item.scale))
    return parts[0] if len(parts) == 1 else serial(*parts)


def _layers(items: list[Item]) -> list[list[Item]]:
    """The items grouped into layers, as recommend_init counts depth: a new layer starts at
    each linear layer or residual block; what follows (activation, normalisation) belongs
    to it, and anything before the first one joins the first layer."""
    layers: list[list[Item]] = []
    leading: list[Item] = []
    for item in items:
        if isinstance(item, LinearSpec | SkipSpec):
            layers.append([*leading, item])
            leading = []
        elif layers:
            layers[-1].append(item)
        else:
            leading.append(item)
    if leading:
        layers.append(leading)
    return layers


def _first_activation(items: list[Item]) -> Activation | str:
    for item in items:
        if isinstance(item, PrimitiveSpec) and isinstance(item.block, Activate):
            return item.block.act
        if isinstance(item, SkipSpec):
            inner = _first_activation(list(item.branch))
            if inner != "identity":
                return inner
    return "identity"


def init_(model: Any, *, batch: int = 64, rng: int = 0, band: float = 10.0) -> Record:
    """Re-initialise ``model``'s linear layers with the σ_w, σ_b that
    :func:`~symgrad.networks.advice.recommend_init` advises for its architecture (module
    docstring) and return the advice.  ``batch``: the batch size BatchNorm layers will
    see (their finite-batch prediction depends on it).
    """
    import torch
    import torch.nn as nn

    if not isinstance(model, nn.Module):
        raise InvalidArgument(f"model must be a torch.nn.Module, got {describe(model)}")
    seed = as_positive_int(rng, "rng", minimum=0)
    graph = read(model, as_positive_int(batch, "batch", minimum=4))
    if graph.unrecognised or graph.items is None:
        raise InvalidArgument("init_ needs a model symgrad recognises; unrecognised: "
                              + "; ".join(graph.unrecognised or ["the model is not a chain"]))
    items = graph.items

    layers = _layers(items)

    shapes = [str(_regained(layer, 1.0, 0.0)) for layer in layers]  # names aside
    uniform = len(layers) > 1 and all(shape == shapes[0] for shape in shapes)

    def build(sw: float, sb: float = 0.0) -> Block:
        if uniform:  # the same layer L times: as recommend_init builds its own MLP
            return repeat(_regained(layers[0], sw, sb), len(layers))
        parts = [_regained(layer, sw, sb) for layer in layers]
        return parts[0] if len(parts) == 1 else serial(*parts)

    depth = len(layers)
    advice = recommend_init(_first_activation(items), depth=depth, net=build, band=band)
    sw, sb = float(advice.sigma_w), float(getattr(advice, "sigma_b", 0.0))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Linear):
                nn.init.normal_(mod.weight, 0.0, sw / mod.in_features**0.5, generator=gen)
                if mod.bias is not None:
                    if sb > 0:
                        nn.init.normal_(mod.bias, 0.0, sb, generator=gen)
                    else:
                        mod.bias.zero_()
    return advice
