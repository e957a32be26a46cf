"""Reading a PyTorch model as a stack of layers symgrad models (torch imported lazily).

:func:`read` traces the model with ``torch.fx`` (``nn.Sequential`` and any module whose
``forward`` is a plain chain with residual additions trace) and walks the graph in
forward order.  Recognised: ``nn.Linear``; the catalogue's activations as modules
(ReLU, LeakyReLU, ELU, SELU, GELU in both approximations, SiLU, Mish, Softplus, Sigmoid,
Tanh, Hardtanh(−1, 1), Hardsigmoid, Softsign) and the plain functional forms
(``torch.tanh``, ``torch.sigmoid``, ``torch.relu``, ``F.relu``, ``F.gelu``, ``F.silu``,
``x.relu()``, …); ``nn.Identity`` and ``nn.Dropout`` in eval mode (no-ops);
``nn.LayerNorm`` over the last dimension and ``nn.BatchNorm1d`` in training mode, with
their affine parts at the identity (γ = 1, β = 0: a trained affine part is not modelled);
residual additions x + f(x) and x + s·f(x) with a constant s.  Anything else is named in
the result's ``unrecognised`` with the reason, never skipped.
"""

from __future__ import annotations

import functools
import math
import operator
import weakref
from dataclasses import dataclass, field
from typing import Any

from symgrad.errors import InvalidArgument
from symgrad.frameworks.architecture import Item, LinearSpec, PrimitiveSpec, SkipSpec
from symgrad.networks import Block, batchnorm, layernorm
from symgrad.networks import activation as _activation

__all__ = ["Graph", "Node", "activation_block", "read"]


@dataclass
class Node:
    """One traced operation with a tensor output: its layer name and kind, and what it is
    in symgrad's terms (``item``; None for a no-op, a scale or an unrecognised one)."""

    fx: Any
    name: str
    kind: str
    item: Item | None = None
    module: Any = None
    scale: float | None = None
    noop: bool = False


@dataclass
class Graph:
    """The traced module (None when tracing failed), its measured nodes in forward order,
    the recognised items (None when the model is not a chain) and the unrecognised."""

    module: Any
    nodes: list[Node] = field(default_factory=list)
    items: list[Item] | None = None
    unrecognised: list[str] = field(default_factory=list)


@functools.cache
def _activation_cached(name: str, params: tuple[tuple[str, float], ...]) -> Block:
    return _activation(name, **dict(params))


def activation(name: str, **params: float) -> Block:
    """The :mod:`symgrad.networks` activation block, derived once per (name, params)."""
    return _activation_cached(name, tuple(sorted(params.items())))


def _stats(values: Any) -> tuple[float, float]:
    """(mean, standard error) of a tensor's entries, squared."""
    sq = values.detach().double().pow(2).flatten()
    n = sq.numel()
    se = float(sq.std()) / math.sqrt(n) if n > 1 else 0.0
    return float(sq.mean()), se


def _linear(name: str, mod: Any) -> LinearSpec:
    w_mean, w_se = _stats(mod.weight)
    fan_in, fan_out = int(mod.in_features), int(mod.out_features)
    b_mean = b_se = None
    if mod.bias is not None:
        b_mean, b_se = _stats(mod.bias)
    return LinearSpec(name, fan_in, fan_out, fan_in * w_mean, fan_in * w_se, b_mean, b_se)


def activation_block(mod: Any) -> tuple[Block | None, str]:
    """The symgrad activation block of a torch activation module, or (None, reason)."""
    import torch.nn as nn

    simple = {nn.ReLU: "relu", nn.SELU: "selu", nn.SiLU: "silu", nn.Mish: "mish",
              nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Hardsigmoid: "hard_sigmoid",
              nn.Softsign: "softsign"}
    kind = type(mod)
    if kind in simple:
        return activation(simple[kind]), ""
    if kind is nn.LeakyReLU:
        return activation("leaky_relu", alpha=float(mod.negative_slope)), ""
    if kind is nn.ELU:
        return activation("elu", alpha=float(mod.alpha)), ""
    if kind is nn.GELU:
        return activation("gelu_tanh" if mod.approximate == "tanh" else "gelu"), ""
    if kind is nn.Softplus:
        # Above threshold/β torch returns z itself: a difference below e^{−threshold}.
        return activation("softplus", beta=float(mod.beta)), ""
    if kind is nn.Hardtanh:
        if (float(mod.min_val), float(mod.max_val)) == (-1.0, 1.0):
            return activation("hard_tanh"), ""
        return None, f"Hardtanh({mod.min_val}, {mod.max_val}): only the bounds ±1 are modelled"
    return None, "not a layer symgrad models"


def _functional(target: Any, kwargs: dict[str, Any]) -> Block | None:
    import torch
    import torch.nn.functional as F

    names = {torch.tanh: "tanh", torch.sigmoid: "sigmoid", torch.relu: "relu",
             F.relu: "relu", F.silu: "silu", F.mish: "mish", F.tanh: "tanh",
             F.sigmoid: "sigmoid", F.softsign: "softsign", F.selu: "selu",
             "relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}
    if target is F.gelu:
        return activation("gelu_tanh" if kwargs.get("approximate") == "tanh" else "gelu")
    extra = {k: v for k, v in kwargs.items() if k != "inplace"}
    try:
        name = names.get(target)
    except TypeError:  # an unhashable target is no activation
        name = None
    return None if name is None or extra else activation(name)


def _owner(fx_node: Any) -> str:
    stack = fx_node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path, kind = list(stack.values())[-1]
    return f"{path} ({getattr(kind, '__name__', kind)})"


def _module_node(gm: Any, n: Any, batch: int) -> tuple[Item | None, str, bool, str]:
    """(item, kind, no-op, reason when unrecognised) of a call_module node."""
    import torch.nn as nn

    mod = gm.get_submodule(n.target)
    kind = type(mod).__name__
    name = str(n.target)
    if isinstance(mod, nn.Linear):
        return _linear(name, mod), kind, False, ""
    if isinstance(mod, nn.Identity) or (isinstance(mod, nn.Dropout)
                                        and (not mod.training or mod.p == 0)):
        return None, kind, True, ""
    if isinstance(mod, nn.Dropout):
        return None, kind, False, (f"dropout (p = {mod.p:g}) in training mode is not modelled;"
                                   " diagnose the model in eval mode")
    if isinstance(mod, nn.LayerNorm):
        if len(mod.normalized_shape) != 1:
            return None, kind, False, "normalises over more than the last dimension"
        if not _identity_affine(mod):
            return None, kind, False, "its affine part is not the identity (γ ≠ 1 or β ≠ 0)"
        return PrimitiveSpec(name, layernorm(eps=float(mod.eps))), kind, False, ""
    if isinstance(mod, nn.BatchNorm1d):
        if not mod.training:
            return None, kind, False, ("eval mode normalises with running statistics; symgrad"
                                       " models the batch statistics of training mode")
        if not _identity_affine(mod):
            return None, kind, False, "its affine part is not the identity (γ ≠ 1 or β ≠ 0)"
        if not 4 <= batch <= 8192:
            return None, kind, False, f"batch {batch}: symgrad models batches of 4 … 8192"
        return PrimitiveSpec(name, batchnorm(batch, eps=float(mod.eps))), kind, False, ""
    block, reason = activation_block(mod)
    if block is None:
        return None, kind, False, reason
    return PrimitiveSpec(name, block), kind, False, ""


def _identity_affine(mod: Any) -> bool:
    import torch

    weight, bias = getattr(mod, "weight", None), getattr(mod, "bias", None)
    return ((weight is None or bool(torch.all(weight == 1)))
            and (bias is None or bool(torch.all(bias == 0))))


def _scalar(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


#: Traces by model, reused while its modules are the same objects (a training loop
#: diagnosing every few steps traces once).
_TRACES: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], Any]] = \
    weakref.WeakKeyDictionary()


def _trace(model: Any) -> Any:
    import torch.fx as fx

    key = tuple((name, id(mod)) for name, mod in model.named_modules())
    cached = _TRACES.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    gm = fx.symbolic_trace(model)
    _TRACES[model] = (key, gm)
    return gm


def read(model: Any, batch: int) -> Graph:
    """Trace ``model`` and recognise its layers (module docstring)."""
    import torch
    import torch.fx as fx

    try:
        gm = _trace(model)
    except Exception as exc:  # fx raises many kinds; the reason is reported
        g = Graph(None)
        g.unrecognised.append(f"{type(model).__name__}: torch.fx cannot trace it ({exc})")
        return g
    graph = Graph(gm)
    main: Any = None
    seq: list[tuple[Any, Node]] = []   # the main path: (fx node, its Node)
    chain_ok = True
    seen: dict[str, int] = {}
    adds = {operator.add, torch.add, operator.iadd}
    muls = {operator.mul, torch.mul}
    for n in gm.graph.nodes:
        if n.op == "placeholder":
            if main is not None:
                graph.unrecognised.append(f"{n.name}: a second input")
                chain_ok = False
            main = n
            continue
        if n.op == "output":
            if chain_ok and n.args[0] is not main:
                graph.unrecognised.append("output: not the end of the layer chain")
                chain_ok = False
            continue
        if n.op == "get_attr":
            continue
        owner = _owner(n)
        tensor_args = [a for a in n.args if isinstance(a, fx.Node)]
        if n.op == "call_module":
            base = str(n.target)
            item, kind, noop, reason = _module_node(gm, n, batch)
        else:
            op = getattr(n.target, "__name__", str(n.target))
            base = f"{owner.split(' ')[0]}.{op}" if owner else n.name
            item, kind, noop, reason = None, str(getattr(n.target, "__name__", n.target)), \
                False, ""
        count = seen.get(base, 0)
        seen[base] = count + 1
        name = base if count == 0 else f"{base}#{count + 1}"
        node = Node(n, name, kind)
        if n.op == "call_module":
            node.item, node.noop = _rename(item, name), noop
            if item is None and not noop:
                graph.unrecognised.append(f"{name} ({kind}): {reason}")
        elif n.target in adds and len(tensor_args) == 2:
            node.kind = "residual add"
        elif n.target in muls and len(tensor_args) == 1 and \
                any(_scalar(a) is not None for a in n.args):
            node.kind, node.scale = "scale", next(s for a in n.args
                                                   if (s := _scalar(a)) is not None)
        else:
            block = _functional(n.target, dict(n.kwargs))
            if block is None:
                graph.unrecognised.append(
                    f"{name} ({kind}{', in ' + owner if owner else ''}): not a layer symgrad"
                    " models")
            else:
                node.item, node.kind = PrimitiveSpec(name, block), kind
        graph.nodes.append(node)
        known = node.item is not None or node.noop or node.kind in ("residual add", "scale")
        if not (chain_ok and known):
            chain_ok = False
            continue
        chain_ok = _extend(seq, node, tensor_args, main, graph)
        main = n
    if chain_ok and not graph.unrecognised:
        graph.items = _items(seq, graph)
    return graph


def _rename(item: Item | None, name: str) -> Item | None:
    if isinstance(item, LinearSpec):
        return LinearSpec(name, item.fan_in, item.fan_out, item.weight_var, item.weight_se,
                          item.bias_var, item.bias_se)
    if isinstance(item, PrimitiveSpec):
        return PrimitiveSpec(name, item.block)
    return item


def _extend(seq: list[tuple[Any, Node]], node: Node, args: list[Any], main: Any,
            graph: Graph) -> bool:
    """Add ``node`` to the main path; a residual addition folds its branch.  False (with
    the reason recorded) when the graph is not a chain with skips."""
    if node.kind == "residual add":
        a, b = args
        other = a if b is main else b if a is main else None
        positions = {id(fx): i for i, (fx, _) in enumerate(seq)}
        if other is None or (id(other) not in positions and other.op != "placeholder"):
            graph.unrecognised.append(f"{node.name}: an addition that is not x + f(x)")
            return False
        start = positions.get(id(other), -1) + 1
        branch = [nd for _, nd in seq[start:]]
        del seq[start:]
        scale = 1.0
        if branch and branch[-1].scale is not None:
            scale = float(branch.pop().scale)  # type: ignore[arg-type]
        if any(nd.scale is not None for nd in branch):
            graph.unrecognised.append(f"{node.name}: a scale inside a residual branch")
            return False
        node.item = SkipSpec(node.name, tuple(nd.item for nd in branch if nd.item is not None),
                             scale)
        node.scale = None
        seq.append((node.fx, node))
        return True
    if len(args) != 1 or args[0] is not main:
        graph.unrecognised.append(f"{node.name}: its input is not the previous layer's output")
        return False
    seq.append((node.fx, node))
    return True


def _items(seq: list[tuple[Any, Node]], graph: Graph) -> list[Item] | None:
    out: list[Item] = []
    for _, node in seq:
        if node.scale is not None:
            graph.unrecognised.append(f"{node.name}: a scale outside a residual branch")
            return None
        if node.item is not None:
            out.append(node.item)
    for item in out:
        if isinstance(item, SkipSpec) and not item.branch:
            graph.unrecognised.append(f"{item.name}: a residual with an empty branch")
            return None
    if not out:
        raise InvalidArgument("the model has no layer symgrad models")
    return out
