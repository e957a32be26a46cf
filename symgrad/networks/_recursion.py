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

A block is *compiled* once per call into a function of (K, M, C, error) — plain float
arithmetic in float mode, so a 1000-block stack costs about a millisecond per hundred
blocks — and the same function runs on SymPy numbers in symbolic mode.

>>> from symgrad.networks.blocks import dense, activation, serial
>>> out = run(serial(dense(1), activation("relu")), (1.0, 0.0, None, True, 0.0), Numbers())
>>> out.state[0], out.chi
(0.5, 0.5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import sympy

from symgrad.errors import InvalidArgument
from symgrad.networks._gaussian import GaussianMaps, gaussian_maps
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

__all__ = ["NotClosed", "Numbers", "Out", "State", "Step", "bn_finite_batch", "compile_block",
           "run"]

#: (K, M, C or None, Gaussian?, relative error estimate of K)
State = tuple[Any, Any, Any, bool, float]


class NotClosed(Exception):
    """A symbolic walk met a map without a closed form at a symbolic argument.

    The message's parts are joined only when it is shown (the law catches it unshown,
    and printing a SymPy argument costs milliseconds on a first call)."""

    def __str__(self) -> str:
        return "".join(map(str, self.args))


class Out(NamedTuple):
    """One block's result: the output state, the backward factor χ = G_in/G_out and its
    relative error estimate, the weight-gradient sum Σ_dense E[δ²]/G_out·K_in, and the
    last dense layer's (E[δ²]/G_out, K of its output) or None."""

    state: State
    chi: Any
    chi_err: float
    w: Any
    last: tuple[Any, Any] | None


#: A compiled block: (K, M, C, error) → Out.
Step = Callable[[Any, Any, Any, float], Out]


@dataclass
class Numbers:
    """How numbers are computed: float64 (``symbolic=False``, with ``depth`` bound into
    the depth symbol) or SymPy (``symbolic=True``; L stays a symbol unless ``depth``)."""

    symbolic: bool = False
    depth: int | None = None
    #: Largest relative error estimate of a numeric Gaussian map used (symbolic mode).
    inexact: float = 0.0
    #: Whether a quadrature table (not a closed form) was compiled in.
    tables: bool = False
    _compiled: dict[tuple[int, bool], tuple[Block, Step, bool]] = field(default_factory=dict)

    def param(self, expr: sympy.Expr) -> Any:
        if not self.symbolic:
            return _float_param(expr, self.depth)
        return expr if self.depth is None or not expr.free_symbols else expr.subs(L, self.depth)

    def step(self, block: Block, gaussian: bool) -> tuple[Step, bool]:
        """``block`` compiled for an input that is (not) Gaussian, and whether its output
        is; remembered per block object for this walk."""
        key = (id(block), gaussian)
        got = self._compiled.get(key)
        if got is None:
            fn, out = _COMPILE[type(block)](block, gaussian, self)
            got = self._compiled[key] = (block, fn, out)
        return got[1], got[2]

    def one_point(self, maps: GaussianMaps, k: Any) -> tuple[Any, Any, Any, float]:
        if not self.symbolic:
            return maps.at(k)
        if maps.exact and maps.V_sym and maps.S_sym and maps.M_sym:
            return maps.V_sym(k), maps.S_sym(k), maps.M_sym(k), 0.0
        if not (isinstance(k, sympy.Expr) and k.is_number):
            raise NotClosed("no closed form of E[φ(√q Z)²] for ", maps.act.label, " at q = ", k)
        v, s, m, err = maps.at(float(k))
        self.inexact = max(self.inexact, err)
        return sympy.Float(v, 16), sympy.Float(s, 16), sympy.Float(m, 16), err

    def pair(self, maps: GaussianMaps, k: Any, c: Any) -> tuple[Any, float]:
        if not self.symbolic:
            value, err = maps.pair(k, max(-1.0, min(1.0, c / k)))
            return value, err / max(abs(value), 1e-300)
        if maps.exact and maps.P_sym:
            # (no simplify: its first call imports sympy.physics, 0.7 s)
            return sympy.cancel(maps.P_sym(k, c / k)), 0.0
        if c == 0:
            m = self.one_point(maps, k)[2]
            return m * m, 0.0
        if not (isinstance(k, sympy.Expr) and k.is_number and c.is_number):
            raise NotClosed(f"no closed form of the correlation map of {maps.act.label}")
        value, err = maps.pair(float(k), float(c / k))
        rel = err / max(abs(value), 1e-300)
        self.inexact = max(self.inexact, rel)
        return sympy.Float(value, 16), rel


@lru_cache(maxsize=256)
def _float_param(expr: sympy.Expr, depth: int | None) -> float:
    """A parameter at L = depth as a float (kept: each walk of the same block reads it)."""
    return float(expr if depth is None or not expr.free_symbols else expr.subs(L, depth))


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


# ---- the rules, one per block type: compile(block, gaussian input?, numbers) ----

Compiled = tuple[Step, bool]


def _dense(b: Dense, gaussian: bool, num: Numbers) -> Compiled:
    v = b.init.factor * num.param(b.sigma_w) ** 2
    b2 = num.param(b.sigma_b) ** 2
    one = sympy.Integer(1) if num.symbolic else 1.0

    def step(k: Any, m: Any, c: Any, err: float) -> Out:
        out_k = v * k + b2
        return Out((out_k, 0 * k, None if c is None else v * c + b2, True, err), v, 0.0, k,
                   (one, out_k))

    return step, True


def _activate(b: Activate, gaussian: bool, num: Numbers) -> Compiled:
    if not gaussian:
        raise InvalidArgument(
            f"{b} needs a Gaussian input (a dense layer's output, a normalised or residual"
            " Gaussian stream); put a dense layer before it")
    maps = gaussian_maps(b.act)
    symbolic = num.symbolic
    num.tables = num.tables or not maps.exact

    def step(k: Any, m: Any, c: Any, err: float) -> Out:
        if not symbolic and not k > 0:
            raise InvalidArgument(f"{b} got an input of second moment {k!r}: nothing to act on")
        v, s, mean, e = num.one_point(maps, k)
        pair, pair_err = (None, 0.0) if c is None else num.pair(maps, k, c)
        return Out((v, mean, pair, False, err + e + pair_err), s, err + e, 0 * k, None)

    return step, False


def _layernorm(b: LayerNorm, gaussian: bool, num: Numbers) -> Compiled:
    eps = num.param(b.eps)
    symbolic = num.symbolic

    def step(k: Any, m: Any, c: Any, err: float) -> Out:
        var = k - m * m
        if not symbolic and not var > 0:
            raise InvalidArgument("layernorm of a constant vector (zero variance over the units)")
        denom = var + eps
        return Out((var / denom, 0 * k, None if c is None else (c - m * m) / denom, gaussian,
                    err), 1 / denom, err, 0 * k, None)

    return step, gaussian


def _batchnorm(b: BatchNorm, gaussian: bool, num: Numbers) -> Compiled:
    eps = num.param(b.eps)
    factor = bn_finite_batch(b.batch, num.symbolic)
    symbolic = num.symbolic

    def step(k: Any, m: Any, c: Any, err: float) -> Out:
        if c is None:  # pragma: no cover - predict tracks C whenever a batchnorm is present
            raise RuntimeError("batchnorm needs the batch cross moment C")
        var = k - c
        if not symbolic and not var > 0:
            raise InvalidArgument("batchnorm of inputs identical across the batch (zero"
                                  " variance)")
        denom = var + eps
        out_k = var / denom
        out_c = 0 * k if b.batch is None else -out_k / (b.batch - 1)
        return Out((out_k, 0 * k, out_c, gaussian, err), factor / denom, err, 0 * k, None)

    return step, gaussian


def _chain(steps: list[Step]) -> Step:
    one = 1

    def step(k: Any, m: Any, c: Any, err: float) -> Out:
        outs = []
        for fn in steps:
            o = fn(k, m, c, err)
            outs.append(o)
            k, m, c, _, err = o.state
        chi, chi_err, w, last = one, 0.0, 0, None
        # Backward: factors multiply from the top; weight terms are seen through the
        # layers above them.
        for o in reversed(outs):
            if last is None and o.last is not None:
                last = (chi * o.last[0], o.last[1])
            w = w + chi * o.w
            chi = chi * o.chi
            chi_err += o.chi_err
        return Out(outs[-1].state, chi, chi_err, w, last)

    return step


def _serial(b: Serial, gaussian: bool, num: Numbers) -> Compiled:
    steps = []
    for layer in b.layers:
        fn, gaussian = num.step(layer, gaussian)
        steps.append(fn)
    return _chain(steps), gaussian


def _residual(b: Residual, gaussian: bool, num: Numbers) -> Compiled:
    branch, branch_gaussian = num.step(b.branch, gaussian)
    s = num.param(b.scale)
    s2 = s * s
    # ReZero / SkipInit: a zero multiplier makes the block the identity, whatever the
    # branch (a symbolic walk need not, and for most φ could not, follow the branch).
    skip = num.symbolic and s == 0

    def step(k: Any, m: Any, c: Any, err: float) -> Out:
        if skip:
            return Out((k, m, c, gaussian, err), sympy.Integer(1), 0.0, 0 * k, None)
        o = branch(k, m, c, err)
        kb, mb, cb, _, eb = o.state
        out = (k + s2 * kb + 2 * s * m * mb, m + s * mb, None if c is None else c + s2 * cb,
               gaussian and branch_gaussian, max(err, eb))
        last = None if o.last is None else (s2 * o.last[0], o.last[1])
        return Out(out, 1 + s2 * o.chi, o.chi_err, s2 * o.w, last)

    return step, gaussian and branch_gaussian


def _repeat(b: Repeat, gaussian: bool, num: Numbers) -> Compiled:
    fn, out = num.step(b.block, gaussian)
    if b.depth > 1 and out != gaussian:
        # The copies after the first see the first copy's output kind.
        later, out = num.step(b.block, out)
        return _chain([fn] + [later] * (b.depth - 1)), out
    return _chain([fn] * b.depth), out


_COMPILE: dict[type, Callable[[Any, bool, Numbers], Compiled]] = {
    Dense: _dense, Activate: _activate, LayerNorm: _layernorm, BatchNorm: _batchnorm,
    Serial: _serial, Residual: _residual, Repeat: _repeat,
}


def compile_block(block: Block, gaussian: bool, num: Numbers) -> tuple[Step, bool]:
    """``block`` as a function of (K, M, C, error) for an input that is (not) Gaussian."""
    return num.step(block, gaussian)


def run(block: Block, st: State, num: Numbers) -> Out:
    """The recursion through ``block`` from state ``st`` (module docstring)."""
    fn, _ = num.step(block, st[3])
    return fn(st[0], st[1], st[2], st[4])
