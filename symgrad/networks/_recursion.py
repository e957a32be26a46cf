"""The infinite-width recursion through one block: second moments forward, gradient
factors backward — in float64 or in SymPy (one code path for both).

The state of the signal entering a block is (K, M, C, Gaussian?):

* K = E[x_i²] and M = E[x_i] over the units (the mean-field second moment and mean);
* C = E[x_i x'_i] for a second input x' (another batch item), when tracked: batch
  normalisation needs it, and C/K is the correlation map's output;
* whether the units are Gaussian (a dense layer's output, a Gaussian stream's sum, a
  normalised Gaussian); φ needs a Gaussian input.

Maps (Poole et al. 2016; Schoenholz et al. 2017; Yang et al. 2019 for batch norm), with
V, S, M, P the Gaussian maps of :mod:`._gaussian` and v the init factor:

=============  ===================================  ==============================
block          forward                              backward factor G_in/G_out
=============  ===================================  ==============================
dense          K' = vσ_w²K + σ_b², M' = 0,          vσ_w²
               C' = vσ_w²C + σ_b²
φ              K' = V(K), M' = M_φ(K), C' = P(K, C/K)  S(K)
layernorm      K' = σ²/(σ² + ε), σ² = K − M²,       1/(σ² + ε)
               C' = (C − M²)/(σ² + ε)
batchnorm      K' = σ_b²/(σ_b² + ε), σ_b² = K − C,  1/(σ_b² + ε)·(finite-batch factor)
               C' = 0 (B = ∞), −K'/(B − 1)
residual       K' = K + s²K_b + 2sMM_b              1 + s²·(branch's factor)
=============  ===================================  ==============================

The backward factors use the gradient-independence assumption (the backward weights
are taken independent of the forward pass; Schoenholz et al. 2017), and the residual
rule uses that the branch's last dense layer has zero-mean weights, so skip and branch
are uncorrelated.  Batch normalisation's finite-batch factor is derived in
:func:`bn_finite_batch`.

>>> from symgrad.networks.blocks import dense, activation, serial
>>> out = run(serial(dense(1), activation("relu")), (1.0, 0.0, None, True, 0.0), Numbers())
>>> out.state[0], out.chi
(0.5, 0.5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sympy

from symgrad.errors import InvalidArgument
from symgrad.networks._gaussian import gaussian_maps
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

__all__ = ["NotClosed", "Numbers", "Out", "State", "bn_finite_batch", "run"]

#: (K, M, C or None, Gaussian?, relative error estimate of K)
State = tuple[Any, Any, Any, bool, float]


class NotClosed(Exception):
    """A symbolic walk met a map without a closed form at a symbolic argument."""


@dataclass
class Numbers:
    """How numbers are computed: float64 (``symbolic=False``, with ``depth`` bound into
    the depth symbol) or SymPy (``symbolic=True``; L stays a symbol unless ``depth``)."""

    symbolic: bool = False
    depth: int | None = None
    #: Largest relative error estimate of a numeric Gaussian map used (symbolic mode).
    inexact: float = 0.0
    _params: dict[int, Any] = field(default_factory=dict)

    _memo: dict[tuple[int, Any], Out] = field(default_factory=dict)
    _maps: dict[int, Any] = field(default_factory=dict)

    def param(self, expr: sympy.Expr) -> Any:
        # Keyed by identity: the blocks hold their expressions for the whole call, and
        # comparing SymPy numbers costs more than the recursion itself.
        got = self._params.get(id(expr))
        if got is None:
            bound = expr if self.depth is None else expr.subs(L, self.depth)
            got = bound if self.symbolic else float(bound)
            self._params[id(expr)] = (expr, got)
            return got
        return got[1]

    def cached(self, block: Block, st: State) -> Out:
        """``run(block, st)``, remembered in float mode (a pre-LN branch always sees the
        same normalised state)."""
        if self.symbolic:
            return run(block, st, self)
        key = (id(block), st[:4])
        got = self._memo.get(key)
        if got is None:
            if len(self._memo) > 4096:
                self._memo.clear()
            got = self._memo[key] = run(block, st, self)
        return got

    def maps(self, act: Any) -> Any:
        got = self._maps.get(id(act))
        if got is None:
            got = self._maps[id(act)] = (act, gaussian_maps(act))
        return got[1]

    def one_point(self, act: Any, k: Any) -> tuple[Any, Any, Any, float]:
        maps = self.maps(act)
        if not self.symbolic:
            got: tuple[Any, Any, Any, float] = maps.at(k)
            return got
        if maps.exact and maps.V_sym and maps.S_sym and maps.M_sym:
            return maps.V_sym(k), maps.S_sym(k), maps.M_sym(k), 0.0
        if not (isinstance(k, sympy.Expr) and k.is_number):
            raise NotClosed(f"no closed form of E[φ(√q Z)²] for {act.label} at q = {k}")
        v, s, m, err = maps.at(float(k))
        self.inexact = max(self.inexact, err)
        return sympy.Float(v, 16), sympy.Float(s, 16), sympy.Float(m, 16), err

    def pair(self, act: Any, k: Any, c: Any) -> tuple[Any, float]:
        maps = self.maps(act)
        if not self.symbolic:
            value, err = maps.pair(k, max(-1.0, min(1.0, c / k)))
            return value, err / max(abs(value), 1e-300)
        if maps.exact and maps.P_sym:
            return sympy.simplify(maps.P_sym(k, c / k)), 0.0
        if c == 0:
            m = self.one_point(act, k)[2]
            return m * m, 0.0
        if not (isinstance(k, sympy.Expr) and k.is_number and c.is_number):
            raise NotClosed(f"no closed form of the correlation map of {act.label}")
        value, err = maps.pair(float(k), float(c / k))
        rel = err / max(abs(value), 1e-300)
        self.inexact = max(self.inexact, rel)
        return sympy.Float(value, 16), rel


class Out(NamedTuple):
    """One block's result: the output state, the backward factor χ = G_in/G_out and its
    relative error estimate, the weight-gradient sum Σ_dense E[δ²]/G_out·K_in, and the
    last dense layer's (E[δ²]/G_out, K of its output) or None."""

    state: State
    chi: Any
    chi_err: float
    w: Any
    last: tuple[Any, Any] | None


def bn_finite_batch(batch: int | None, symbolic: bool) -> Any:
    """The finite-batch factor of batch normalisation's backward pass, B/(B − 3).

    Per unit the B pre-normalisation values z are Gaussian with covariance
    (K − C)I + C·11ᵀ (exchangeable batch items), so B·σ̂² = ‖Pz‖² with P the centring
    projection is (K − C)·χ²_{B−1}, and E[1/σ̂²] = B/((B − 3)(K − C)) (the mean of an
    inverse χ²_{B−1} is 1/(B − 3)).  The projection of the incoming gradient off 1 and
    û removes two of B directions: a further relative change of order 1/B whose sign
    depends on the next layers, left out here and bounded in the cross-checks.
    """
    if batch is None:
        return sympy.Integer(1) if symbolic else 1.0
    return sympy.Rational(batch, batch - 3) if symbolic else batch / (batch - 3)


def _dense(b: Dense, st: State, num: Numbers) -> Out:
    k, _, c, _, err = st
    v = b.init.factor * num.param(b.sigma_w) ** 2
    b2 = num.param(b.sigma_b) ** 2
    out_k = v * k + b2
    return Out((out_k, 0 * k, None if c is None else v * c + b2, True, err), v, 0.0, k,
               (1 + 0 * k, out_k))


def _activate(b: Activate, st: State, num: Numbers) -> Out:
    k, _, c, gaussian, err = st
    if not gaussian:
        raise InvalidArgument(
            f"{b} needs a Gaussian input (a dense layer's output, a normalised or residual"
            " Gaussian stream); put a dense layer before it")
    if not num.symbolic and not k > 0:
        raise InvalidArgument(f"{b} got an input of second moment {k!r}: nothing to act on")
    v, s, m, e = num.one_point(b.act, k)
    pair, pair_err = (None, 0.0) if c is None else num.pair(b.act, k, c)
    return Out((v, m, pair, False, err + e + pair_err), s, err + e, 0 * k, None)


def _layernorm(b: LayerNorm, st: State, num: Numbers) -> Out:
    k, m, c, gaussian, err = st
    var = k - m * m
    if not num.symbolic and not var > 0:
        raise InvalidArgument("layernorm of a constant vector (zero variance over the units)")
    eps = num.param(b.eps)
    denom = var + eps
    return Out((var / denom, 0 * k, None if c is None else (c - m * m) / denom, gaussian, err),
               1 / denom, err, 0 * k, None)


def _batchnorm(b: BatchNorm, st: State, num: Numbers) -> Out:
    k, _, c, gaussian, err = st
    if c is None:  # pragma: no cover - predict tracks C whenever a batchnorm is present
        raise RuntimeError("batchnorm needs the batch cross moment C")
    var = k - c
    if not num.symbolic and not var > 0:
        raise InvalidArgument("batchnorm of inputs identical across the batch (zero variance)")
    denom = var + num.param(b.eps)
    out_k = var / denom
    out_c = 0 * k if b.batch is None else -out_k / (b.batch - 1)
    factor = bn_finite_batch(b.batch, num.symbolic)
    return Out((out_k, 0 * k, out_c, gaussian, err), factor / denom, err, 0 * k, None)


def _serial(b: Serial, st: State, num: Numbers) -> Out:
    outs = []
    for layer in b.layers:
        o = run(layer, st, num)
        outs.append(o)
        st = o.state
    chi, chi_err, w, last = 1, 0.0, 0, None
    # Backward: factors multiply from the top; weight terms are seen through the layers
    # above them.
    for o in reversed(outs):
        if last is None and o.last is not None:
            last = (chi * o.last[0], o.last[1])
        w = w + chi * o.w
        chi = chi * o.chi
        chi_err += o.chi_err
    return Out(st, chi, chi_err, w, last)


def _residual(b: Residual, st: State, num: Numbers) -> Out:
    k, m, c, gaussian, err = st
    o = num.cached(b.branch, st)
    s = num.param(b.scale)
    s2 = s * s
    kb, mb, cb, gb, eb = o.state
    out = (k + s2 * kb + 2 * s * m * mb, m + s * mb, None if c is None else c + s2 * cb,
           gaussian and gb, max(err, eb))
    last = None if o.last is None else (s2 * o.last[0], o.last[1])
    return Out(out, 1 + s2 * o.chi, o.chi_err, s2 * o.w, last)


def _repeat(b: Repeat, st: State, num: Numbers) -> Out:
    return _serial(Serial((b.block,) * b.depth), st, num)


_RULES: dict[type, Callable[[Any, State, Numbers], Out]] = {
    Dense: _dense, Activate: _activate, LayerNorm: _layernorm, BatchNorm: _batchnorm,
    Serial: _serial, Residual: _residual, Repeat: _repeat,
}


def run(block: Block, st: State, num: Numbers) -> Out:
    """The recursion through ``block`` from state ``st`` (module docstring)."""
    return _RULES[type(block)](block, st, num)
