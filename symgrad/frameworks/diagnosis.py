"""Are a real model's gradients vanishing?  The diagnosis record, framework-neutral.

A bridge (:mod:`symgrad.frameworks.torch`; a JAX one would do the same) runs one forward
and backward pass and measures, for every layer in forward order, batch means of

* ``activation_sq`` = mean over batch and units of h², ``grad_output_sq`` = the same of
  (∂L/∂h)² (per unit, as :func:`symgrad.networks.predict` reports them);
* ``grad_weight_sq`` = ‖∂L/∂W‖²_F and ``grad_bias_sq`` = ‖∂L/∂b‖² — the gradient an
  optimizer sees — and ``grad_weight_sq_per_example`` = the batch mean of
  ‖δ_b a_bᵀ‖²_F = ‖δ_b‖²‖a_b‖² (δ = ∂L/∂z), what ``predict``'s ``grad_w_sq`` predicts.

:func:`diagnosis` adds, when the bridge recognised the model
(:mod:`symgrad.frameworks.architecture`), the ``predict`` record of the same architecture
and initialisation, per layer beside the measurement.  ``predict`` takes the gradient
arriving at the output as 1 per unit and its recursion is linear in it, so the
predictions are scaled by the measured E[(∂L/∂h_L)²] (whatever the loss).  Then it fits
the depth law of the measurement and gives the verdict.

The law: over the "stages" (the outputs of the architecture's top-level blocks below the
model's output, else the outputs of the layers holding weights), the per-stage factor
f = g_{l−1}/g_l of g_l = E[(∂L/∂h_l)²].  At finite width each layer's factor fluctuates
independently around its mean, so log f is estimated by the mean of the log increments,
with a Student-t 95 % interval from their spread (one network: the interval says how
steady the decay is across layers, not how it varies between networks).

The verdict: a stage whose gradient is below 1/band (above band) times that of the top
stage vanishes (explodes); band = 10 as :func:`symgrad.networks.advice.recommend_init`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._core.format import jsonable
from symgrad._core.plot import Figure
from symgrad.errors import InvalidArgument
from symgrad.frameworks.architecture import Architecture, Item, architecture
from symgrad.networks import Prediction, predict
from symgrad.records import NO_NUMBERS, How, Record, Simulated, Step, provenances

__all__ = ["DepthFit", "Diagnosis", "LayerStats", "Trend", "Verdict", "diagnosis"]


class Trend(enum.StrEnum):
    """What the gradient does on its way to the first layers."""

    VANISHING = "vanishing"
    EXPLODING = "exploding"
    HEALTHY = "healthy"


@dataclass(frozen=True)
class LayerStats:
    """One layer's measured squared norms (module docstring) and, where the architecture
    has a top-level block ending at this layer, the prediction beside them."""

    name: str
    kind: str
    activation_sq: float
    grad_output_sq: float
    grad_weight_sq: float | None = None
    grad_bias_sq: float | None = None
    grad_weight_sq_per_example: float | None = None
    predicted_activation_sq: float | None = None
    predicted_grad_output_sq: float | None = None
    predicted_grad_weight_sq_per_example: float | None = None
    #: Index of the top-level block this layer ends (None inside a block).
    block: int | None = None


@dataclass(frozen=True, eq=False)
class DepthFit(Record):
    """The measured per-stage factor of E[(∂L/∂h)²] going one stage back, with its 95 %
    interval, over ``stages`` stages (module docstring); ``predicted_factor`` is the
    prediction's geometric mean over the same stages."""

    factor: float
    lower: float
    upper: float
    stages: int
    predicted_factor: float | None
    provenance: Any
    steps: tuple[Step, ...] = ()

    def title(self) -> str:
        return "Fitted depth law: exponential"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [
            ("per-stage factor", sympy.Float(self.factor, 6)),
            ("95 % interval", f"[{self.lower:.4g}, {self.upper:.4g}]"),
            ("stages", str(self.stages))]
        if self.predicted_factor is not None:
            rows.append(("predicted factor", sympy.Float(self.predicted_factor, 6)))
        return rows


@dataclass(frozen=True)
class Verdict:
    """The trend, the stages that vanish or explode, the first-to-top ratio and why."""

    trend: Trend
    layers: tuple[str, ...]
    ratio: float
    band: float
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, eq=False)
class Diagnosis(Record):
    """A model's measured gradients, the prediction for its architecture, the fitted law
    and the verdict (module docstring)."""

    model: str
    layers: tuple[str, ...]
    measured: tuple[LayerStats, ...]
    predicted: Prediction | None
    architecture: str | None
    unrecognised: tuple[str, ...]
    note: str
    fit: DepthFit | None
    verdict: Verdict
    batch: int
    loss: str
    q0: float
    provenance: Any
    steps: tuple[Step, ...] = ()

    def layer(self, name: str) -> LayerStats:
        """The measurement of layer ``name``."""
        for row in self.measured:
            if row.name == name:
                return row
        raise KeyError(f"no layer {name!r}; layers: {', '.join(self.layers)}")

    def title(self) -> str:
        return f"Gradient diagnosis of {self.model}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("verdict", self.verdict.text),
                                       ("batch", str(self.batch)), ("loss", self.loss)]
        if self.fit is not None:
            rows.append(("per-stage factor (95 %)", f"{self.fit.factor:.4g} "
                         f"[{self.fit.lower:.4g}, {self.fit.upper:.4g}]"))
        if self.predicted is not None:
            rows.append(("architecture", str(self.architecture)))
            if self.fit is not None and self.fit.predicted_factor is not None:
                rows.append(("predicted factor", sympy.Float(self.fit.predicted_factor, 6)))
            if self.predicted.law is not None:
                rows.append(("predicted law", f"{self.predicted.law.kind.value}: "
                             f"{self.predicted.law.statement}"))
        if self.unrecognised:
            rows.append(("unrecognised", "; ".join(self.unrecognised)))
        if self.note:
            rows.append(("note", self.note))
        return rows

    def table(self) -> tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]:
        head = ("layer", "kind", "E[h²]", "E[(∂L/∂h)²]", "predicted", "‖∂L/∂W‖²",
                "per example", "predicted", "‖∂L/∂b‖²")
        rows = tuple((r.name, r.kind, _g(r.activation_sq), _g(r.grad_output_sq),
                      _g(r.predicted_grad_output_sq), _g(r.grad_weight_sq),
                      _g(r.grad_weight_sq_per_example),
                      _g(r.predicted_grad_weight_sq_per_example), _g(r.grad_bias_sq))
                     for r in self.measured)
        return head, rows

    def figure_svg(self) -> str:
        """E[(∂L/∂h)²] per layer, measured and predicted, and the weight gradients."""
        return _figure(self)

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out["measured"] = [{k: jsonable(v) for k, v in dataclasses.asdict(r).items()}
                           for r in self.measured]
        out["verdict"] = {"trend": self.verdict.trend.value, "layers": list(self.verdict.layers),
                          "ratio": jsonable(self.verdict.ratio), "band": self.verdict.band,
                          "text": self.verdict.text}
        return out


def _g(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


# ---- the fit ----

@functools.cache
def _t95(dof: int) -> float:
    """The two-sided 95 % Student-t quantile (bisection on the regularised incomplete
    beta function: P(|T| > t) = I_{ν/(ν+t²)}(ν/2, 1/2))."""
    with mpmath.workdps(20):
        lo, hi = mpmath.mpf(0), mpmath.mpf(1000)
        for _ in range(45):  # 1000·2⁻⁴⁵: far below the digits shown
            mid = (lo + hi) / 2
            tail = mpmath.betainc(dof / 2, 0.5, 0, dof / (dof + mid**2), regularized=True)
            lo, hi = (mid, hi) if tail > 0.05 else (lo, mid)
        return float((lo + hi) / 2)


def _fit(g: np.ndarray, predicted: np.ndarray | None) -> DepthFit | None:
    if len(g) < 3 or not np.all(np.isfinite(g)) or not np.all(g > 0):
        return None
    steps = np.log(g[:-1]) - np.log(g[1:])  # log of g_{l−1}/g_l
    n = len(steps)
    mean = float(np.mean(steps))
    se = float(np.std(steps, ddof=1) / math.sqrt(n))
    half = _t95(n - 1) * se
    pred = None
    if predicted is not None and np.all(predicted > 0):
        pred = float(np.exp(np.mean(np.log(predicted[:-1]) - np.log(predicted[1:]))))
    factor = math.exp(mean)
    how = Simulated(factor * se, n, "mean log increment over stages, one network")
    return DepthFit(factor, math.exp(mean - half), math.exp(mean + half), len(g), pred,
                    provenances(factor=how),
                    (Step("log f = mean over stages of log(g_{l−1}/g_l); interval: Student t"
                          f" with {n - 1} degrees of freedom"),))


def _verdict(names: list[str], g: np.ndarray, band: float) -> Verdict:
    if len(g) < 2:
        return Verdict(Trend.HEALTHY, (), 1.0, band,
                       "too shallow to judge: fewer than two stages below the output")
    top = g[-1]
    low = [n for n, v in zip(names, g, strict=True) if v < top / band]
    high = [n for n, v in zip(names, g, strict=True) if v > top * band]
    ratio = float(g[0] / top)
    if (low and not high) or (low and high and ratio < 1):
        trend, which = Trend.VANISHING, low
        text = (f"vanishing: E[(∂L/∂h)²] at {len(low)} of {len(g)} stages is below 1/{band:g}"
                f" of the top stage's ({', '.join(low)}); first/top = {ratio:.3g}")
    elif high:
        trend, which = Trend.EXPLODING, high
        text = (f"exploding: E[(∂L/∂h)²] at {len(high)} of {len(g)} stages is above {band:g}×"
                f" the top stage's ({', '.join(high)}); first/top = {ratio:.3g}")
    else:
        trend, which = Trend.HEALTHY, []
        text = (f"healthy: every stage's E[(∂L/∂h)²] is within [1/{band:g}, {band:g}] of the"
                f" top stage's; first/top = {ratio:.3g}")
    return Verdict(trend, tuple(which), ratio, band, text)


# ---- assembly ----

def _predicted(layers: list[LayerStats], arch: Architecture, pred: Prediction
               ) -> list[LayerStats]:
    by_name = {r.name: i for i, r in enumerate(layers)}
    top = layers[by_name[arch.ends[-1]]].grad_output_sq
    scale = top / (float(pred.grad_h_sq[-1]) * arch.correction[-1])
    out = list(layers)
    for k, name in enumerate(arch.ends):
        i = by_name[name]
        out[i] = dataclasses.replace(
            out[i], block=k, predicted_activation_sq=float(pred.second_moment[k + 1]),
            predicted_grad_output_sq=float(pred.grad_h_sq[k + 1]) * arch.correction[k] * scale)
    per_block: dict[int, int] = {}
    for _, block, _ in arch.linear_blocks:
        per_block[block] = per_block.get(block, 0) + 1
    for name, block, fans in arch.linear_blocks:
        if per_block[block] == 1:  # a block's grad_w_sq sums its dense layers
            i = by_name[name]
            out[i] = dataclasses.replace(
                out[i], predicted_grad_weight_sq_per_example=float(pred.grad_w_sq[block])
                * fans * arch.correction[block] * scale)
    return out


def diagnosis(layers: Sequence[LayerStats], *, model: str, items: list[Item] | None,
              unrecognised: Sequence[str] = (), q0: float, batch: int, loss: str,
              band: float = 10.0, predict_: bool = True) -> Diagnosis:
    """Assemble a :class:`Diagnosis` from a bridge's measurements (module docstring).

    ``items``: the recognised architecture (None when the model could not be read);
    ``unrecognised``: the layers the bridge could not name in symgrad's terms (then
    nothing is predicted); ``q0``: the input's mean square per unit; ``predict_=False``
    skips the prediction (the measurement, fit and verdict only).
    """
    if not layers:
        raise InvalidArgument("the model has no layer to diagnose")
    if not (isinstance(band, int | float) and band > 1):
        raise InvalidArgument(f"band must be a number > 1, got {band!r}")
    rows = list(layers)
    pred: Prediction | None = None
    arch: Architecture | None = None
    note = ""
    if unrecognised:
        note = "nothing predicted: the model has layers symgrad does not model"
    elif not predict_:
        note = "nothing predicted: not asked for (predict=False)"
    elif items is None:
        note = "nothing predicted: the model could not be read as a stack of layers"
    else:
        try:
            arch = architecture(items)
            q = sympy.Rational(f"{q0:.4g}")
            pred = predict(arch.net, q0=q, width=arch.width)
            rows = _predicted(rows, arch, pred)
        except InvalidArgument as exc:
            arch, pred, note = None, None, f"nothing predicted: {exc}"
    names = [r.name for r in rows]
    if arch is not None:
        stage_names = list(arch.ends[:-1])
    else:
        stage_names = [r.name for r in rows if r.grad_weight_sq is not None][:-1]
    stage = [rows[names.index(n)] for n in stage_names]
    g = np.array([r.grad_output_sq for r in stage], dtype=float)
    p = (np.array([r.predicted_grad_output_sq or math.nan for r in stage], dtype=float)
         if arch is not None else None)
    fit = _fit(g, p)
    verdict = _verdict(stage_names, g, float(band))
    one = "one network's batch means (one forward and backward pass)"
    how: dict[str, How] = {"measured": Simulated(None, batch, one)}
    if pred is not None:
        how["predicted"] = pred.how("grad_h_sq")
    if fit is not None:
        how["fit"] = fit.how("factor")
    steps = [Step("one forward and backward pass; tensor hooks record every layer's output"
                  " and the gradient reaching it"),
             Step(f"loss: {loss}")]
    if pred is not None:
        steps.append(Step(f"predict({arch.net if arch else ''}) at q0 = {q0:.4g}, scaled to"
                          " the measured E[(∂L/∂h_L)²]"))
    return Diagnosis(model, tuple(names), tuple(rows), pred,
                     None if arch is None else str(arch.net), tuple(unrecognised), note, fit,
                     verdict, batch, loss, q0, provenances(**how) if how else NO_NUMBERS,
                     tuple(steps))


# ---- the figure ----

def _figure(d: Diagnosis) -> str:
    fig = Figure(width=640, height=300, cols=2, alt=d.title())
    ax = fig.axes(0, 0)
    x = np.arange(1, len(d.measured) + 1, dtype=float)
    ax.line(x, [r.grad_output_sq for r in d.measured], label="measured E[(∂L/∂h)²]")
    pred = [(i + 1.0, r.predicted_grad_output_sq) for i, r in enumerate(d.measured)
            if r.predicted_grad_output_sq is not None]
    if pred:
        ax.points([p[0] for p in pred], [p[1] for p in pred], label="predicted",
                  filled=False)
    ax.set(xlabel="layer (forward order)", ylabel="E[(∂L/∂h)²]", yscale="log",
           title="gradient reaching each layer")
    bx = fig.axes(0, 1)
    lin = [(i + 1.0, r) for i, r in enumerate(d.measured) if r.grad_weight_sq is not None]
    if lin:
        bx.points([i for i, _ in lin], [r.grad_weight_sq or math.nan for _, r in lin],
                  label="‖∂L/∂W‖²", marker="s")
        ex = [(i, r.predicted_grad_weight_sq_per_example * d.batch) for i, r in lin
              if r.predicted_grad_weight_sq_per_example is not None]
        if ex:
            bx.points([i for i, _ in ex], [v for _, v in ex], label="predicted (B × per example)",
                      filled=False, marker="s")
    bx.set(xlabel="layer (forward order)", ylabel="‖∂L/∂W‖²", yscale="log",
           title="weight gradients")
    return fig.svg().decode("utf-8")
