"""Diagnose a real PyTorch model: measured gradients beside symgrad's prediction.

PyTorch is an optional extra (``pip install 'symgrad[torch]'``); this module imports it
only inside its functions, so it can be imported (and its records inspected) without it.

* :func:`diagnose` runs one forward and backward pass of ``model`` on ``inputs`` with
  tensor hooks on every layer's output and returns a
  :class:`~symgrad.frameworks.diagnosis.Diagnosis`: per layer E[h²], E[(∂L/∂h)²],
  ‖∂L/∂W‖², ‖∂L/∂b‖² (:mod:`symgrad.frameworks.diagnosis`), the fitted depth law with its
  interval, the :func:`symgrad.networks.predict` record of the same architecture and
  initialisation when the model is a stack symgrad recognises
  (:mod:`symgrad.frameworks._torch_graph`), the verdict and a figure.  Without ``loss``
  the loss is L = Σ_batch ⟨g, model(x)⟩ with g standard normal (seeded by ``rng``), the
  convention of ``predict``; with it, L = loss(model(x), targets) (or loss(model(x))).
  The model's parameters, their ``.grad`` and its BatchNorm running statistics are left
  as they were.
* :func:`to_torch` builds the ``nn.Sequential`` of a :mod:`symgrad.networks` architecture
  with symgrad's initialisation; :func:`init_` re-initialises a model's linear layers
  with :func:`symgrad.networks.advice.recommend_init`'s σ_w and σ_b for its architecture.

>>> import importlib.util
>>> importlib.util.find_spec("torch") is None or callable(diagnose)
True
"""

from __future__ import annotations

from typing import Any

from symgrad._core.validate import as_positive_int, describe
from symgrad.errors import InvalidArgument
from symgrad.frameworks._torch_build import init_, to_torch
from symgrad.frameworks._torch_graph import Graph, Node, read
from symgrad.frameworks.diagnosis import Diagnosis, LayerStats, diagnosis

__all__ = ["diagnose", "init_", "to_torch"]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise InvalidArgument("symgrad.frameworks.torch needs PyTorch: pip install "
                              "'symgrad[torch]'") from None
    return torch


def _check(model: Any, inputs: Any) -> int:
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        raise InvalidArgument(f"model must be a torch.nn.Module, got {describe(model)}")
    if not isinstance(inputs, torch.Tensor) or inputs.ndim != 2 or \
            not inputs.dtype.is_floating_point:
        raise InvalidArgument("inputs must be a floating-point tensor of shape (batch, "
                              f"features), got {describe(inputs)}")
    batch = int(inputs.shape[0])
    if batch < 2:
        raise InvalidArgument(f"inputs must hold at least 2 examples, got {batch}")
    return batch


class _Taps:
    """What the hooks collect per measured node: sums kept as tensors until the end."""

    def __init__(self) -> None:
        self.act: dict[str, Any] = {}
        self.grad: dict[str, Any] = {}
        self.a_norm: dict[str, Any] = {}
        self.d_norm: dict[str, Any] = {}

    def tap(self, name: str, out: Any, linear_input: Any | None) -> None:
        self.act[name] = out.detach().pow(2).mean()
        if linear_input is not None:
            self.a_norm[name] = linear_input.detach().pow(2).sum(-1)

        def hook(grad: Any) -> None:
            g = grad.detach()
            self.grad[name] = g.pow(2).mean()
            if name in self.a_norm:
                self.d_norm[name] = g.pow(2).sum(-1)

        out.register_hook(hook)


def _run(graph: Graph, model: Any, x: Any, taps: _Taps) -> Any:
    """The forward pass, tapping every measured node (fx) or every leaf module (hooks)."""
    torch = _torch()
    if graph.module is not None:
        import torch.fx as fx

        by_fx = {id(node.fx): node for node in graph.nodes}

        class Recorder(fx.Interpreter):  # type: ignore[misc, unused-ignore]
            def run_node(self, n: Any) -> Any:
                out = super().run_node(n)
                node: Node | None = by_fx.get(id(n))
                if node is not None and isinstance(out, torch.Tensor) and out.requires_grad:
                    inp = None
                    if node.kind == "Linear":
                        inp = self.env[n.args[0]] if n.args else None
                    taps.tap(node.name, out, inp)
                return out

        return Recorder(graph.module).run(x)
    handles = []
    for name, mod in model.named_modules():
        if next(mod.children(), None) is not None:
            continue

        def hook(m: Any, args: Any, out: Any, name: str = name) -> None:
            if isinstance(out, torch.Tensor) and out.requires_grad:
                linear = isinstance(m, torch.nn.Linear)
                taps.tap(name, out, args[0] if linear and args else None)

        handles.append(mod.register_forward_hook(hook))
        graph.nodes.append(Node(None, name, type(mod).__name__))
    try:
        return model(x)
    finally:
        for h in handles:
            h.remove()


def diagnose(model: Any, inputs: Any, *, loss: Any = None, targets: Any = None,
             rng: int = 0, band: float = 10.0, predict: bool = True) -> Diagnosis:
    """Measure ``model``'s gradients on ``inputs`` and set them beside the prediction for
    its architecture (module docstring); ``band``: a stage vanishes below 1/band and
    explodes above band times the top stage's E[(∂L/∂h)²].

    ``inputs``: a (batch, features) tensor; ``loss``: a callable (an ``nn.Module`` loss
    or a function) of the output (and ``targets`` when given) returning a scalar;
    ``predict=False`` skips the prediction (the measurement, fit and verdict only: what a
    training loop can afford every few steps).
    """
    torch = _torch()
    batch = _check(model, inputs)
    seed = as_positive_int(rng, "rng", minimum=0)
    if loss is not None and not callable(loss):
        raise InvalidArgument(f"loss must be callable, got {describe(loss)}")
    if not isinstance(predict, bool):
        raise InvalidArgument(f"predict must be True or False, got {describe(predict)}")
    if targets is not None and loss is None:
        raise InvalidArgument("targets go with a loss; without one the loss is ⟨g, model(x)⟩")
    graph = read(model, batch)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise InvalidArgument("model has no trainable parameter: no gradient to measure")
    running = {k: v.detach().clone() for k, v in model.state_dict().items()
               if "running_" in k or "num_batches_tracked" in k}
    taps = _Taps()
    try:
        out = _run(graph, model, inputs, taps)
        if not isinstance(out, torch.Tensor):
            raise InvalidArgument(f"model(inputs) must be a tensor, got {describe(out)}")
        if loss is None:
            gen = torch.Generator(device=out.device).manual_seed(seed)
            upstream = torch.randn(out.shape, generator=gen, dtype=out.dtype,
                                   device=out.device)
            value = (upstream * out).sum()
            loss_text = "Σ_batch ⟨g, model(x)⟩, g ~ N(0, 1) per unit (seed " f"{seed})"
        else:
            value = loss(out) if targets is None else loss(out, targets)
            loss_text = getattr(loss, "__name__", type(loss).__name__)
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            raise InvalidArgument(f"the loss must be a scalar tensor, got {describe(value)}")
        grads = torch.autograd.grad(value, params, allow_unused=True)
    finally:
        with torch.no_grad():
            state = model.state_dict()
            for k, v in running.items():
                state[k].copy_(v)
    grad_of = {id(p): g for p, g in zip(params, grads, strict=True)}
    layers = _layers(graph, model, taps, grad_of)
    q0 = float(inputs.detach().double().pow(2).mean())
    return diagnosis(layers, model=type(model).__name__, items=graph.items,
                     unrecognised=graph.unrecognised, q0=q0, batch=batch, loss=loss_text,
                     band=band, predict_=predict)


def _sq(t: Any) -> float | None:
    return None if t is None else float(t.detach().double().pow(2).sum())


def _layers(graph: Graph, model: Any, taps: _Taps, grad_of: dict[int, Any]
            ) -> list[LayerStats]:
    modules = dict(model.named_modules())
    if graph.module is not None:
        modules.update(dict(graph.module.named_modules()))
    out = []
    for node in graph.nodes:
        if node.name not in taps.act or node.name not in taps.grad:
            continue
        target = str(node.fx.target) if node.fx is not None and node.fx.op == "call_module" \
            else node.name if node.fx is None else None
        mod = modules.get(target) if target is not None else None
        w = getattr(mod, "weight", None) if mod is not None else None
        b = getattr(mod, "bias", None) if mod is not None else None
        per_example = None
        if node.name in taps.d_norm:
            per_example = float((taps.d_norm[node.name].double()
                                 * taps.a_norm[node.name].double()).mean())
        out.append(LayerStats(
            node.name, node.kind, float(taps.act[node.name]), float(taps.grad[node.name]),
            grad_weight_sq=_sq(grad_of.get(id(w))) if w is not None else None,
            grad_bias_sq=_sq(grad_of.get(id(b))) if b is not None else None,
            grad_weight_sq_per_example=per_example))
    if not out:
        raise InvalidArgument("no layer output carried a gradient")
    return out
