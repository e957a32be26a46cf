"""How a scalar chain is computed at any depth: per-layer parameters and the engine.

The engine (see :mod:`symgrad.depth.trace` for the conventions) runs one forward pass in
mpmath at the trace's working precision, keeps every 1024th state with the running
product P_k = ∏_{j≤k} f_j of the nonzero factors, and stops early when the rounded
forward map repeats (a fixed point, a cycle, or, for a homogeneous φ without biases,
a cycle up to scale); a row is rebuilt by replaying from its checkpoint.
"""

from __future__ import annotations

import enum
import math
import numbers
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._core.symbols import z as act_symbol
from symgrad._core.validate import as_exact_real, describe
from symgrad._exact.mpforms import compiled
from symgrad.activations.record import Activation
from symgrad.errors import InvalidArgument

__all__ = ["Architecture"]  # the rest is used by symgrad.depth.trace only

_MPF = type(mpmath.mpf(0))
_CHECKPOINT = 1024  # layers between stored states
_MAX_PERIOD = 16  # longest cycle of the rounded forward map that is detected
_CHECK_EVERY = 32  # layers between cycle checks (a cycle, once entered, lasts)


class Architecture(enum.Enum):
    """Which scalar chain a trace follows."""

    #: a_k = φ(w_k a_{k−1} + b_k); factor w_k φ'(z_k).
    PLAIN = "plain"
    #: y_k = y_{k−1} + w_k φ(y_{k−1} + b_k); factor 1 + w_k φ'(z_k).
    RESIDUAL = "residual"


# ---- per-layer parameters ----


def _mpf(value: Any, name: str) -> mpmath.mpf:
    """A user's real number as an mpf at the current precision; floats read as typed."""
    if isinstance(value, bool):
        raise InvalidArgument(f"{name} must be a real number, got {describe(value)}")
    if isinstance(value, float | np.floating):
        as_f = float(value)
        if not math.isfinite(as_f):
            raise InvalidArgument(f"{name} must be finite, got {describe(value)}")
        return mpmath.mpf(repr(as_f))
    if isinstance(value, numbers.Integral | np.integer):
        return mpmath.mpf(int(value))
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise InvalidArgument(f"{name} must be finite, got {describe(value)}")
        return +value
    if isinstance(value, Decimal | sympy.Basic):
        exact = as_exact_real(value, name)
        return mpmath.mpf(exact._to_mpmath(mpmath.mp.prec))
    raise InvalidArgument(f"{name} must be a real number, got {describe(value)}")


@dataclass(frozen=True)
class _Layers:
    """Per-layer weights and biases as mpf (a scalar is stored once)."""

    weights: tuple[mpmath.mpf, ...]
    biases: tuple[mpmath.mpf, ...]
    depth: int
    constant_from: int  # layers ≥ this index share one weight and one bias

    def w(self, k: int) -> mpmath.mpf:
        return self.weights[0] if len(self.weights) == 1 else self.weights[k - 1]

    def b(self, k: int) -> mpmath.mpf:
        return self.biases[0] if len(self.biases) == 1 else self.biases[k - 1]


def _per_layer(value: Any, name: str, depth: int) -> tuple[mpmath.mpf, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        return (_mpf(value, name),)
    arr = value
    if isinstance(arr, np.ndarray) and arr.ndim != 1:
        raise InvalidArgument(f"{name} must be a scalar or a 1-D sequence, got shape {arr.shape}")
    if len(arr) != depth:
        raise InvalidArgument(
            f"{name} has {len(arr)} per-layer values but depth is {depth}; give one per layer"
            " or a scalar"
        )
    seen: dict[tuple[type, Any], mpmath.mpf] = {}  # repeated values are converted once
    out = []
    for i, v in enumerate(arr):
        key = (type(v), v) if isinstance(v, float | int | np.floating | np.integer) else None
        if key is not None and key in seen and v == v:  # v == v: NaN is never reused
            out.append(seen[key])
            continue
        value = _mpf(v, f"{name}[{i}]")
        if key is not None:
            seen[key] = value
        out.append(value)
    return tuple(out)


def _constant_from(values: tuple[mpmath.mpf, ...]) -> int:
    if len(values) == 1:
        return 1
    k = len(values)
    while k > 1 and values[k - 2] == values[k - 1]:
        k -= 1
    return k


# ---- the engine ----

_State = tuple[mpmath.mpf, mpmath.mpf, int]  # (a_k, P_k over nonzero factors, last zero ≤ k)
_Layer = tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf, mpmath.mpf, mpmath.mpf]  # z, a, slope, f, h


@dataclass(frozen=True)
class _Tail:
    """Layers after ``stop`` repeat the cycle of layers start..stop (period = stop−start+1),
    each repetition with z, a (and a_{k−1}, φ(z_k)) multiplied by ``scale`` > 0."""

    stop: int
    start: int
    factors: tuple[mpmath.mpf, ...]
    scale: mpmath.mpf | None = None  # None: an exact repeat

    @property
    def period(self) -> int:
        return self.stop - self.start + 1

    def source(self, k: int) -> int:
        """The computed layer that layer k > stop copies."""
        return self.start + (k - self.start) % self.period

    def product(self, after: int, upto: int) -> mpmath.mpf:
        """∏ f_j for after < j ≤ upto, all in the tail (after ≥ stop)."""
        m = upto - after
        i0 = (after + 1 - self.start) % self.period
        full, rest = divmod(m, self.period)
        cycle = mpmath.fprod(self.factors)
        out = cycle**full if full else mpmath.mpf(1)
        for t in range(rest):
            out *= self.factors[(i0 + t) % self.period]
        return out

    def last_zero(self, depth: int) -> int:
        """The highest layer ≤ depth in the tail whose factor is 0 (0 if none)."""
        best = 0
        for i, f in enumerate(self.factors):
            if f == 0:
                j = self.start + i
                if j <= depth:
                    # the last j' ≡ j (mod period) with j' ≤ depth
                    best = max(best, j + (depth - j) // self.period * self.period)
        return best if best > self.stop else 0


def _homogeneous(act: Activation) -> bool:
    """φ(cz) = c·φ(z) for c > 0, piece by piece: every piece is m·z on a half-line."""
    for piece in act.pieces:
        if piece.lo not in (-sympy.oo, 0) or piece.hi not in (0, sympy.oo):
            return False
        expr = sympy.expand(piece.expr)
        if not expr.is_polynomial(act_symbol) or sympy.Poly(expr, act_symbol).degree() > 1:
            return False
        if expr.subs(act_symbol, 0) != 0:
            return False
    return True


def _scaled_tail(
    k: int, slopes: tuple[mpmath.mpf, ...], factors: tuple[mpmath.mpf, ...]
) -> _Tail | None:
    """For a homogeneous φ with zero biases, a_k = f_k·a_{k−1} (plain: φ(z) = φ'(z)·z;
    residual: y + w φ(y) = (1 + w φ'(y))·y).  If the slopes of the last 2p layers repeat
    with period p and the cycle's product C is > 0, then z_{j+p} = C·z_j keeps every
    z in its half-line, so the slopes repeat forever and each cycle scales by C."""
    for p in range(1, _MAX_PERIOD + 1):
        if all(slopes[-1 - j] == slopes[-1 - j - p] for j in range(p)):
            C = mpmath.fprod(factors[-p:])
            if C > 0:
                return _Tail(k, k - p + 1, factors[-p:], C)
    return None


class _Engine:
    def __init__(
        self, act: Activation, layers: _Layers, x: mpmath.mpf, arch: Architecture, prec: int
    ) -> None:
        self.act = act
        self.layers = layers
        self.arch = arch
        self.prec = prec
        self.both = compiled(act.expr, act.derivative, prec)[0]
        self.homogeneous = _homogeneous(act) and all(
            layers.b(k) == 0 for k in {layers.constant_from, layers.depth})
        self.checkpoints: list[_State] = []
        self.tail: _Tail | None = None
        self._forward(x)

    def step(self, a_prev: mpmath.mpf, k: int) -> _Layer:
        w, b = self.layers.w(k), self.layers.b(k)
        if self.arch is Architecture.PLAIN:
            zk = w * a_prev + b
            a, s = self.both(zk)
            if type(s) is not _MPF:  # a constant piece gives a Python int (ReLU' = 1)
                a, s = _as_mpf(a), _as_mpf(s)
            return zk, a, s, w * s, a
        zk = a_prev + b
        h, s = self.both(zk)
        if type(s) is not _MPF:
            h, s = _as_mpf(h), _as_mpf(s)
        return zk, a_prev + w * h, s, 1 + w * s, h

    def _forward(self, x: mpmath.mpf) -> None:
        depth, const = self.layers.depth, self.layers.constant_from
        with mpmath.workprec(self.prec):
            a, P, last_zero = +x, mpmath.mpf(1), 0
            self.checkpoints.append((a, P, last_zero))
            # The last states and factors, to spot a cycle of the rounded forward map.
            states: deque[Any] = deque(maxlen=_MAX_PERIOD + 1)
            factors: deque[mpmath.mpf] = deque(maxlen=_MAX_PERIOD)
            slopes: deque[mpmath.mpf] = deque(maxlen=2 * _MAX_PERIOD)
            for k in range(1, depth + 1):
                _, a, s, f, _ = self.step(a, k)
                if f == 0:
                    last_zero = k
                else:
                    P *= f
                if k % _CHECKPOINT == 0:
                    _check_finite(a, P, k, self.act)
                    self.checkpoints.append((a, P, last_zero))
                key = a._mpf_
                states.append(key)
                factors.append(f)
                if self.homogeneous:
                    slopes.append(s)
                # Every layer after const applies the same map, so a_k = a_{k−p} with
                # k − p ≥ const − 1 makes layers k−p+1..k repeat forever.
                if k % _CHECK_EVERY == 0 and k - 2 * _MAX_PERIOD >= const and k < depth:
                    period = next((p for p in range(1, len(states)) if states[-1 - p] == key),
                                  0)
                    if period:
                        self.tail = _Tail(k, k - period + 1, tuple(factors)[-period:])
                        break
                    if self.homogeneous:
                        self.tail = _scaled_tail(k, tuple(slopes), tuple(factors))
                        if self.tail is not None:
                            break
            _check_finite(a, P, k, self.act)
            self.stop = k
            self.end_state = (a, P, last_zero)
            tail_zero = self.tail.last_zero(depth) if self.tail else 0
            self.last_zero = max(last_zero, tail_zero)
            # S_stop = ∏_{j>stop} f_j
            if self.tail is None or self.last_zero > self.stop:
                self.s_stop = mpmath.mpf(1) if self.tail is None else mpmath.mpf(0)
            else:
                self.s_stop = self.tail.product(self.stop, depth)

    def suffix(self, k: int, P_k: mpmath.mpf) -> mpmath.mpf:
        """∏_{j=k+1}^{depth} f_j; ``P_k`` is the running product at k (used when k < stop)."""
        with mpmath.workprec(self.prec):
            if self.last_zero > k:
                return mpmath.mpf(0)
            if k >= self.stop:
                if self.tail is None:
                    return mpmath.mpf(1)
                return self.tail.product(k, self.layers.depth)
            return self.s_stop * (self.end_state[1] / P_k)

    def segment(self, index: int) -> list[tuple[_Layer, mpmath.mpf, mpmath.mpf]]:
        """Replay checkpoint ``index``: (layer values, a_{k−1}, P_k) for its layers."""
        a, P, _ = self.checkpoints[index]
        first = index * _CHECKPOINT + 1
        last = min(first + _CHECKPOINT - 1, self.stop)
        out = []
        with mpmath.workprec(self.prec):
            for k in range(first, last + 1):
                values = self.step(a, k)
                if values[3] != 0:
                    P *= values[3]
                out.append((values, a, P))
                a = values[1]
        return out


_SMALL = {0: mpmath.mpf(0), 1: mpmath.mpf(1), -1: mpmath.mpf(-1)}


def _as_mpf(value: Any) -> mpmath.mpf:
    """An mpf from a Piecewise branch's constant (ints are exact at any precision)."""
    if type(value) is _MPF:
        return value
    small = _SMALL.get(value) if isinstance(value, int) else None
    return small if small is not None else mpmath.mpf(value)


def _check_finite(a: Any, P: Any, k: int, act: Activation) -> None:
    if not (isinstance(a, mpmath.mpf) and mpmath.isfinite(a)) or not (
        isinstance(P, mpmath.mpf) and mpmath.isfinite(P)
    ):
        raise InvalidArgument(
            f"{act.label} gave a non-finite or non-real value by layer {k} ({describe(a)});"
            " the chain is only defined where φ and φ' are finite reals"
        )
