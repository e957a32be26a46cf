"""Which σ_w and σ_b keep gradients alive at a given depth?  Advice checked by ``predict``.

:func:`recommend_init` searches (σ_w, σ_b) for the plain MLP
``repeat(serial(dense(σ_w, σ_b), activation(φ)), depth)`` — or any architecture whose
dense layers take the searched values (``net=``) — from inputs of second moment q0 = 1,
at the given finite depth (not only at a fixed point), and returns the point that

1. keeps the predicted first-to-last gradient ratio J^{L,0} = E‖∂L/∂h_0‖²/E‖∂L/∂h_L‖²
   within the band [1/band, band], as close to 1 as the grid allows, and
2. does not sit on an unstable fixed point: with q_l the pre-activation second moments
   and F(q) = vσ_w²V(q) + σ_b² the variance map (V(q) = E[φ(√q Z)²]), a perturbation
   δq_l is carried to the last layer as δq_L = Π_{j≥l} F'(q_j)·δq_l; relative to the
   signal it grows by the *sensitivity*

       s = max_l  (q_l/q_L)·Π_{j=l}^{L−1} F'(q_j),

   which is ≤ 1 on a stable fixed point, exactly 1 for relu's neutral map, and grows
   geometrically on an unstable one (GELU, SiLU and mish at their second-moment gain, or
   on the critical line χ₁ = 1 below q* ≈ 5, where V'(q*) > S(q*)).  Points with s > 2
   (a perturbation more than doubles) are refused.

Among the admissible points with |log J| ≤ log(band)/4 the smallest σ_b is preferred
(σ_b = 0 when it works), then the J closest to 1.  The grid is σ_w on a geometric grid
of ratio 1.0116 over [1/4, 32] and σ_b ∈ {0, 0.01, …, 5}; every grid point is predicted
by one vectorised recursion on the same Gaussian maps as :func:`predict`, and the
returned numbers come from :func:`predict` on the advised network itself.

GELU, SiLU and mish need a bias: their critical points are stable only at large q*
(the map's slope there is V'(q)/S(q) = 1 + E[φφ'']/S(q), and E[φφ''] > 0 at small q).
Softplus has no critical point at all (its positive mean feeds the variance), so its
forward second moment grows with depth whatever σ_w, σ_b; the advice keeps J in the band
and says so.

:func:`framework_gains` sets, for every catalogue activation, the framework's gain
(PyTorch's ``calculate_gain``; activations it does not list get Kaiming's default √2)
beside the predicted depth-L ratio, a verdict and this advice.

>>> advice = recommend_init("relu", depth=20)
>>> round(advice.sigma_w, 3), advice.sigma_b, advice.within_band
(1.414, 0.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sympy

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.activations import Activation, activation_names, as_activation
from symgrad.errors import InvalidArgument
from symgrad.networks._gaussian import gaussian_maps
from symgrad.networks.blocks import Block, Dense, Repeat, Residual, Serial, activation, dense
from symgrad.networks.blocks import repeat as repeat_block
from symgrad.networks.blocks import serial as serial_block
from symgrad.networks.prediction import Prediction, predict
from symgrad.records import Estimated, Exact, How, Record, Step, provenances

__all__ = ["FrameworkGain", "InitAdvice", "assess_init", "framework_gains", "recommend_init"]

SIGMA_W = np.geomspace(0.25, 32.0, 421)
SIGMA_B = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)
#: Largest depth advice is given for (the search walks every grid point through it).
MAX_DEPTH = 2000
#: Most a relative perturbation of the variance may grow on its way to the last layer.
MAX_SENSITIVITY = 2.0
_Q_RANGE = (1e-300, math.exp(27.9))  # the Gaussian maps' range (small-q expansion below)
_FRAMEWORK = {"identity": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2),
              "leaky_relu": math.sqrt(2 / (1 + 0.01**2)), "selu": 0.75}


@dataclass(frozen=True, eq=False)
class InitAdvice(Record):
    """The advised σ_w and σ_b, what :func:`predict` says they give, and why."""

    activation: str
    network: str
    depth: int
    sigma_w: float
    sigma_b: float
    #: J^{L,0} predicted for the advised network (first-to-last gradient ratio).
    jacobian: float
    #: E[h_L²]/E[h_0²], the forward second moment's change over the depth.
    moment_ratio: float
    #: The largest growth of a relative variance perturbation on its way to the end.
    sensitivity: float
    band: float
    within_band: bool
    reason: str
    provenance: Any
    steps: tuple[Step, ...] = ()

    def title(self) -> str:
        return f"Initialization advice for {self.activation} at depth {self.depth}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("σ_w", sympy.Float(self.sigma_w, 6)), ("σ_b", sympy.Float(self.sigma_b, 6)),
                ("J^{L,0}", sympy.Float(self.jacobian)),
                ("E[h_L²]/E[h_0²]", sympy.Float(self.moment_ratio)),
                ("sensitivity", sympy.Float(self.sensitivity)), ("reason", self.reason)]


def _scan(act: Activation, depth: int, factor: int, sw: np.ndarray, sb: np.ndarray
          ) -> tuple[np.ndarray, ...]:
    """log J, the sensitivity and log χ_L (the last layer's factor) at every point
    (σ_w, σ_b) of the plain MLP from q0 = 1, vectorised over the points."""
    maps = gaussian_maps(act)
    v, b2 = factor * sw * sw, sb * sb
    q = v + b2
    ok = np.ones(q.size, dtype=bool)
    log_j = np.zeros(q.size)
    log_slope = np.empty((depth, q.size))
    log_q = np.empty((depth, q.size))
    for layer in range(depth):
        ok &= (q > _Q_RANGE[0]) & (q < _Q_RANGE[1])
        qq = np.where(ok, q, 1.0)
        big_v, s, _, dv, _ = maps.at_many(qq)
        with np.errstate(divide="ignore"):
            log_chi = np.log(v * s)
            log_j += log_chi
            log_slope[layer] = np.log(np.abs(v * dv))
        log_q[layer] = np.log(qq)
        q = v * big_v + b2
    # s = max_l (q_l/q_L)·Π_{j=l}^{L−1} F'(q_j) (module docstring), in logarithms.
    tail = np.cumsum(log_slope[::-1], axis=0)[::-1]
    sens = np.max(tail + log_q - log_q[-1], axis=0)
    sens = np.where(ok, np.maximum(sens, 0.0), np.inf)
    log_j = np.where(ok & np.isfinite(log_j), log_j, np.inf)
    return log_j, sens, np.where(np.isfinite(log_j), log_chi, np.inf)


def _choose(log_j: np.ndarray, sens: np.ndarray, log_chi: np.ndarray, sb: np.ndarray,
            band: float, depth: int) -> tuple[int | None, bool]:
    """(grid index, whether the smallest-σ_b rule chose it) — module docstring."""
    admissible = np.isfinite(log_j) & (np.abs(log_j) <= math.log(band)) & (
        sens <= math.log(MAX_SENSITIVITY))
    if not admissible.any():
        return None, False
    # Robust to the depth: J at 1.5L and 0.5L is about J·χ_L^{±L/2}.
    robust = np.abs(log_j) + depth / 2 * np.abs(log_chi)
    close = admissible & (robust <= math.log(band) / 2)
    pick = close & (sb == sb[close].min()) if close.any() else admissible
    return int(np.argmin(np.where(pick, robust, np.inf))), bool(close.any())


def _regain(block: Block, sw: float, sb: float) -> Block:
    """``block`` with every dense layer's σ_w, σ_b replaced (its init kept)."""
    if isinstance(block, Dense):
        return dense(sw, sb, init=block.init)
    if isinstance(block, Serial):
        return Serial(tuple(_regain(b, sw, sb) for b in block.layers))
    if isinstance(block, Residual):
        return replace(block, branch=_regain(block.branch, sw, sb))
    if isinstance(block, Repeat):
        return replace(block, block=_regain(block.block, sw, sb))
    return block


def _score(net: Block) -> tuple[float, float]:
    """(log J, log χ_L) of one network (no symbolic law: every grid point is new)."""
    try:
        p = predict(net, law=False)
    except InvalidArgument:
        return math.inf, math.inf
    log_g = p.log10_grad_h_sq * math.log(10)
    return float(log_g[0]), float(log_g[-2] - log_g[-1])


def _input_sensitivity(net: Block) -> float:
    """log |d ln E[h_L²]/d ln q0|: how a relative change of the input's variance reaches
    the output (the sensitivity of an architecture without a closed variance map)."""
    try:
        p = predict(net, law=False)
        p2 = predict(net, q0=sympy.Rational(101, 100), law=False)
    except InvalidArgument:
        return math.inf
    d = (math.log(p2.second_moment[-1]) - math.log(p.second_moment[-1])) / math.log(1.01)
    return max(0.0, math.log(max(abs(d), 1e-300)))


def _builder(act: Activation, depth: int, net: Any) -> Callable[[float, float], Block] | None:
    if net is None:
        return None
    if isinstance(net, Block):
        if len(net.blocks()) != depth:
            raise InvalidArgument(f"net has {len(net.blocks())} blocks but depth is {depth}")
        return lambda sw, sb: _regain(net, sw, sb)
    if callable(net):
        return lambda sw, sb: _checked(net(sw, sb))
    raise InvalidArgument("net must be an architecture (its dense layers take the searched"
                          f" σ_w, σ_b) or a function (σ_w, σ_b) → architecture, got"
                          f" {describe(net)}")


def _checked(value: Any) -> Block:
    if not isinstance(value, Block):
        raise InvalidArgument(f"net(σ_w, σ_b) must return an architecture, got {describe(value)}")
    return value


def recommend_init(act: Activation | str, *, depth: int, net: Any = None,
                   band: float = 10.0) -> InitAdvice:
    """σ_w and σ_b keeping J^{L,0} within [1/band, band] at ``depth`` without sitting on
    an unstable fixed point (module docstring); ``net``: an architecture whose dense
    layers take the searched values, or a function (σ_w, σ_b) → architecture."""
    a = as_activation(act)
    depth = as_positive_int(depth, "depth")
    if depth > MAX_DEPTH:
        raise InvalidArgument(f"depth must be at most {MAX_DEPTH} for advice, got {depth}")
    band = as_float(band, "band", lower=1.0)
    if not band > 1.0:
        raise InvalidArgument(f"band must be > 1, got {band:g}")
    build = _builder(a, depth, net)
    if build is None:
        sw, sb = (arr.ravel() for arr in np.meshgrid(SIGMA_W, np.asarray(SIGMA_B)))
        log_j, sens, log_chi = _scan(a, depth, 1, sw, sb)
    else:
        # One predict per point: a coarser grid (σ_w ratio 1.15, σ_b up to 1).
        sw, sb = (arr.ravel() for arr in np.meshgrid(SIGMA_W[::12], np.asarray(SIGMA_B[:11])))
        scored = np.array([_score(build(float(w), float(b)))
                           for w, b in zip(sw, sb, strict=True)])
        log_j, log_chi = scored[:, 0], scored[:, 1]
        # Sensitivities are checked lazily, best candidates first (two predicts each).
        sens = np.zeros(log_j.size)
        for _ in range(8):
            i, _ = _choose(log_j, sens, log_chi, sb, band, depth)
            if i is None or sens[i] > 0:
                break
            sens[i] = max(_input_sensitivity(build(float(sw[i]), float(sb[i]))), 1e-12)
    i, smallest_bias = _choose(log_j, sens, log_chi, sb, band, depth)
    inside = i is not None
    if i is None:
        # Nothing admissible: the least bad point that is not unstable, else the least bad.
        stable = sens <= math.log(MAX_SENSITIVITY)
        i = int(np.argmin(np.where(np.isfinite(log_j) & stable, np.abs(log_j), np.inf)))
        if not np.isfinite(log_j[i]) or not stable[i]:
            i = int(np.argmin(np.abs(log_j)))
    w, b = float(f"{sw[i]:.4g}"), float(sb[i])
    chosen = (build(w, b) if build is not None else
              repeat_block(serial_block(dense(w, b), activation(a)), depth))
    p = predict(chosen)
    return _advice(a, depth, band, chosen, p, w, b, math.exp(float(sens[i])), inside,
                   smallest_bias)


def _advice(a: Activation, depth: int, band: float, net: Block, p: Prediction | None,
            w: float, b: float, sens: float, inside: bool, smallest_bias: bool, *,
            given: bool = False) -> InitAdvice:
    if p is None:
        j = ratio = math.inf
        how: How = Estimated(math.inf, "the variance leaves e^±28: no finite prediction")
    else:
        j = float(p.grad_h_sq[0])
        ratio = float(p.second_moment[-1] / p.second_moment[0])
        how = p.how("grad_h_sq")
    step = float(SIGMA_W[1] / SIGMA_W[0])
    where = (f"at σ_w = {w:.6g}, σ_b = {b:g} the predicted first-to-last gradient ratio over"
             f" {depth} layers is {j:.3g}")
    if given:
        unstable = sens > MAX_SENSITIVITY
        why = (f"{where}, {'within' if abs(math.log(j)) <= math.log(band) else 'outside'}"
               f" [1/{band:g}, {band:g}]; a variance perturbation grows up to {sens:.3g}×"
               f" on its way to the last layer ({'unstable' if unstable else 'stable'})")
    elif inside:
        why = (f"{where}, within [1/{band:g}, {band:g}]; a variance perturbation grows at most"
               f" {sens:.3g}× on its way to the last layer (stable)")
        if b > 0 and smallest_bias:
            why += (f"; σ_b = 0 does not keep J within [{1 / math.sqrt(math.sqrt(band)):.3g},"
                    f" {math.sqrt(math.sqrt(band)):.3g}] without instability, a bias does")
    else:
        why = (f"{where}: no (σ_w, σ_b) on the grid keeps it within [1/{band:g}, {band:g}]"
               f" without an unstable fixed point; this is the least bad")
    why += f"; the forward second moment changes by {ratio:.3g}"
    prov = provenances(
        sigma_w=Estimated(w * (step - 1), f"geometric grid of ratio {step:.4f}, 4 digits"),
        sigma_b=Exact("a grid value"), jacobian=how, moment_ratio=how,
        sensitivity=Estimated(1e-6 * sens, "the same recursion, in logarithms"),
        depth=Exact("given"), band=Exact("given"))
    steps = (Step("variance map and its slope", "q_{l+1} = F(q_l) = v\\sigma_w^2 V(q_l) + "
                  "\\sigma_b^2,\\quad F'(q) = v\\sigma_w^2 V'(q)"),
             Step("first-to-last gradient ratio", "J^{L,0} = \\prod_{l=1}^{L} v\\sigma_w^2"
                  " S(q_l)"),
             Step("sensitivity to a variance perturbation", "s = \\max_l \\frac{q_l}{q_L}"
                  "\\prod_{j=l}^{L-1} F'(q_j) \\le 2"))
    return InitAdvice(a.label, str(net), depth, w, b, j, ratio, sens, band, inside, why, prov,
                      steps)


def assess_init(act: Activation | str, *, sigma_w: Any, sigma_b: Any = 0, depth: int,
                band: float = 10.0) -> InitAdvice:
    """What the plain MLP with this σ_w, σ_b does at ``depth`` (from q0 = 1): J^{L,0}, the
    forward ratio and the sensitivity of :func:`recommend_init`, and whether it is within
    the band without an unstable fixed point — the same record, for a given init."""
    a = as_activation(act)
    depth = as_positive_int(depth, "depth")
    if depth > MAX_DEPTH:
        raise InvalidArgument(f"depth must be at most {MAX_DEPTH}, got {depth}")
    band = as_float(band, "band", lower=1.0)
    layer = dense(sigma_w, sigma_b)
    net = repeat_block(serial_block(layer, activation(a)), depth)
    w, b = float(layer.sigma_w), float(layer.sigma_b)
    log_j, sens, _ = _scan(a, depth, 1, np.array([w]), np.array([b]))
    inside = bool(abs(log_j[0]) <= math.log(band) and sens[0] <= math.log(MAX_SENSITIVITY))
    try:
        p: Prediction | None = predict(net)
    except InvalidArgument:
        p = None  # the variance leaves the range the maps cover: J and E[h_L²] are ±∞
    return _advice(a, depth, band, net, p, w, b, math.exp(float(sens[0])), inside, False,
                   given=True)


@dataclass(frozen=True)
class FrameworkGain:
    """One activation: the framework gain, what it gives at depth, and the advice."""

    activation: str
    framework: float
    #: "calculate_gain", or "kaiming default" for activations PyTorch does not list.
    source: str
    jacobian: float
    moment_ratio: float
    verdict: str
    advice: InitAdvice


def verdict(j: float, ratio: float, band: float) -> str:
    """What a predicted J^{L,0} and forward ratio mean, in words."""
    if not math.isfinite(j) or not math.isfinite(ratio):
        return "the forward variance leaves float64's range"
    if j < 1 / band:
        return f"gradients vanish (J = {j:.3g})"
    if j > band:
        return f"gradients explode (J = {j:.3g})"
    return "within band"


def framework_gains(*, depth: int, band: float = 10.0,
                    names: tuple[str, ...] | None = None) -> tuple[FrameworkGain, ...]:
    """Every catalogue activation (or ``names``): framework gain, predicted J^{L,0} and
    E[h_L²]/E[h_0²] at ``depth`` with it (σ_b = 0), a verdict, and :func:`recommend_init`."""
    rows = []
    for name in names or activation_names():
        a = as_activation(name)
        g = _FRAMEWORK.get(name)
        source = "calculate_gain" if g is not None else "kaiming default"
        g = math.sqrt(2) if g is None else g
        try:
            p = predict(repeat_block(serial_block(dense(g), activation(a)), depth))
            j, ratio = float(p.grad_h_sq[0]), float(p.second_moment[-1] / p.second_moment[0])
        except InvalidArgument:
            j, ratio = math.inf, math.inf
        rows.append(FrameworkGain(a.label, g, source, j, ratio, verdict(j, ratio, band),
                                  recommend_init(a, depth=depth, band=band)))
    return tuple(rows)
