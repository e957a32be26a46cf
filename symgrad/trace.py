"""Exact layer-by-layer traces of the scalar chain, plain or residual, at any depth.

Conventions (``DESIGN.md``, "Conventions for gradients"): a₀ = x;
z_k = w_k·a_{k−1} + b_k; a_k = φ(z_k), k = 1..depth.  The gradient arriving at the
last output is g = ∂L/∂a_depth (``upstream``), and backward

* ∂L/∂z_k = ∂L/∂a_k · φ'(z_k)
* ∂L/∂a_{k−1} = ∂L/∂z_k · w_k
* ∂L/∂w_k = ∂L/∂z_k · a_{k−1}

so ∂L/∂a_k = g · ∏_{j=k+1}^{depth} w_j φ'(z_j), the product that vanishes or explodes
(Hochreiter 1991; Bengio, Simard and Frasconi 1994).  The residual chain (He et al.
2016) is y₀ = x, z_k = y_{k−1} + b_k, y_k = y_{k−1} + w_k·φ(z_k), whose per-layer
factor is ∂y_k/∂y_{k−1} = 1 + w_k φ'(z_k): the identity path adds the 1.

How depth 10⁶ stays cheap.  One forward pass computes every layer in mpmath (whose
exponent range is unbounded, so nothing underflows) at ``dps`` plus guard digits,
and keeps the running product P_k = ∏_{j≤k} f_j of the nonzero factors.  Only every
1024th state is stored; ∂L/∂a_k = g·P_depth/P_k (0 when a zero factor lies above k),
and a row is rebuilt on demand by replaying at most 1023 layers from its checkpoint,
with the same operations, so it is identical to the forward pass.  When the weights
and biases are constant from some layer on and the rounded forward map repeats a
state exactly (the chain has reached its fixed point, or a cycle, at working
precision), the remaining layers are copies and their products are powers.  For a
positively homogeneous φ (ReLU, leaky ReLU, identity) with zero biases, a cycle of
slopes is enough: each later cycle is the last one scaled by its product C > 0.
The guard digits (10 + the number of digits of the depth) absorb the at most
2·depth roundings of the running products; reported values are rounded to ``dps``.

>>> t = chain_trace("sigmoid", depth=4, weight=0.1)
>>> [mpmath.nstr(r.grad_a, 6) for r in t.rows]
['1.55937e-5', '0.000624178', '0.0249836', '1.0']
>>> mpmath.nstr(t.ratio(), 8)
'64128.416'
"""

from __future__ import annotations

import enum
import math
import numbers
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, overload

import mpmath
import numpy as np
import sympy

from symgrad._mpfuncs import compiled
from symgrad._validate import as_exact_real, as_positive_int, describe
from symgrad.activations import Activation, as_activation
from symgrad.activations import z as act_symbol
from symgrad.errors import InvalidArgument
from symgrad.records import Record, Step
from symgrad.types import RealLike

__all__ = ["Architecture", "ChainRow", "ChainTrace", "chain_trace", "residual_trace"]

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


@dataclass(frozen=True)
class ChainRow:
    """One layer of a trace; every number is an ``mpmath.mpf`` rounded to the trace's dps.

    ``a`` is a_k (y_k for a residual chain), ``slope`` φ'(z_k), ``factor`` the local
    derivative ∂a_k/∂a_{k−1}, ``grad_a`` ∂L/∂a_k, ``grad_z`` ∂L/∂z_k, ``grad_w``
    ∂L/∂w_k, ``update`` −lr·∂L/∂w_k (``None`` without ``lr``) and ``log10_grad``
    log₁₀|∂L/∂a_k| (−∞ when the gradient is exactly 0).
    """

    layer: int
    z: mpmath.mpf
    a: mpmath.mpf
    slope: mpmath.mpf
    factor: mpmath.mpf
    grad_a: mpmath.mpf
    grad_z: mpmath.mpf
    grad_w: mpmath.mpf
    update: mpmath.mpf | None
    log10_grad: mpmath.mpf


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
        self.both = compiled(act, prec)[0]
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


# ---- rows ----


class _Rows(Sequence[ChainRow]):
    """The trace's rows, built on demand from checkpoints (a few segments cached)."""

    def __init__(self, trace: ChainTrace) -> None:
        self._trace = trace
        self._cache: OrderedDict[int, list[ChainRow]] = OrderedDict()

    def __len__(self) -> int:
        return self._trace.depth

    @overload
    def __getitem__(self, i: int) -> ChainRow: ...

    @overload
    def __getitem__(self, i: slice) -> list[ChainRow]: ...

    def __getitem__(self, i: int | slice) -> ChainRow | list[ChainRow]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"row index must be an integer, got {describe(i)}")
        n = len(self)
        j = int(i) + n if i < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"row {i} out of range for depth {n}")
        return self._trace._row(j + 1)

    def __iter__(self) -> Iterator[ChainRow]:
        for k in range(1, len(self) + 1):
            yield self._trace._row(k)


# ---- the record ----


@dataclass(frozen=True)
class ChainTrace(Record):
    """A scalar chain traced forward and backward in mpmath (see the module docstring).

    ``rows`` has one :class:`ChainRow` per layer, layers 1..depth in order; it is a
    lazy sequence (``len``, indexing, slicing, iteration).  ``stationary_from`` is the
    first layer from which the rounded chain repeats a cycle of ``period`` layers
    (``None`` if it never does within the depth).
    """

    activation: Activation
    architecture: Architecture
    depth: int
    weight: tuple[mpmath.mpf, ...] = field(repr=False)  # one value, or one per layer
    bias: tuple[mpmath.mpf, ...] = field(repr=False)
    x: mpmath.mpf
    upstream: mpmath.mpf
    lr: mpmath.mpf | None
    dps: int
    steps: tuple[Step, ...]
    _engine: _Engine = field(repr=False, compare=False)
    rows: Sequence[ChainRow] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", _Rows(self))
        object.__setattr__(self, "_segments", OrderedDict())

    @property
    def stationary_from(self) -> int | None:
        tail = self._engine.tail
        return None if tail is None else tail.start

    @property
    def period(self) -> int | None:
        tail = self._engine.tail
        return None if tail is None else tail.period

    def _round(self, v: mpmath.mpf) -> mpmath.mpf:
        with mpmath.workdps(self.dps):
            return +v

    def product(self) -> mpmath.mpf:
        """∂a_depth/∂a_0 = ∏_{k=1}^{depth} f_k, the whole chain's factor."""
        return self._round(self._engine.suffix(0, mpmath.mpf(1)))

    def gradient(self, k: int) -> mpmath.mpf:
        """∂L/∂a_k for 0 ≤ k ≤ depth (k = 0 is the input x)."""
        k = as_positive_int(k, "k", minimum=0)
        if k > self.depth:
            raise InvalidArgument(f"k must be at most the depth {self.depth}, got {k}")
        if k == 0:
            return self._round(self.upstream * self._engine.suffix(0, mpmath.mpf(1)))
        return self.rows[k - 1].grad_a

    def ratio(self) -> mpmath.mpf:
        """∂L/∂a_depth / ∂L/∂a_1 = 1/∏_{k=2}^{depth} f_k: how many times faster the top
        layer's input gradient is than the first layer's (``inf`` if the first is 0)."""
        s1 = self._engine.suffix(1, self._running_product(1))
        with mpmath.workdps(self.dps):
            return mpmath.inf if s1 == 0 else +(1 / s1)

    def _running_product(self, k: int) -> mpmath.mpf:
        if k > self._engine.stop:
            return mpmath.mpf(1)  # unused by suffix() past the stop
        index = (k - 1) // _CHECKPOINT
        return self._segment(index)[(k - 1) % _CHECKPOINT][2]

    def _segment(self, index: int) -> list[tuple[_Layer, mpmath.mpf, mpmath.mpf]]:
        cache: OrderedDict[int, Any] = self._segments  # type: ignore[attr-defined]
        if index in cache:
            cache.move_to_end(index)
            return cache[index]  # type: ignore[no-any-return]
        seg = self._engine.segment(index)
        cache[index] = seg
        if len(cache) > 4:
            cache.popitem(last=False)
        return seg

    def _row(self, k: int) -> ChainRow:
        eng = self._engine
        src = k if k <= eng.stop else eng.tail.source(k)  # type: ignore[union-attr]
        (zk, a, s, f, h), a_prev, P = self._segment((src - 1) // _CHECKPOINT)[
            (src - 1) % _CHECKPOINT
        ]
        with mpmath.workprec(eng.prec):
            tail = eng.tail
            if k > eng.stop and tail is not None and tail.scale is not None:
                c = tail.scale ** ((k - tail.start) // tail.period)
                zk, a, a_prev, h = c * zk, c * a, c * a_prev, c * h
            grad_a = self.upstream * eng.suffix(k, P)
            if self.architecture is Architecture.PLAIN:
                grad_z = grad_a * s
                grad_w = grad_z * a_prev
            else:
                grad_z = grad_a * self._w(k) * s
                grad_w = grad_a * h
            update = None if self.lr is None else -self.lr * grad_w
            log10 = -mpmath.inf if grad_a == 0 else mpmath.log10(abs(grad_a))
        r = self._round
        return ChainRow(
            k, r(zk), r(a), r(s), r(f), r(grad_a), r(grad_z), r(grad_w),
            None if update is None else r(update), r(log10),
        )

    def _w(self, k: int) -> mpmath.mpf:
        return self.weight[0] if len(self.weight) == 1 else self.weight[k - 1]

    # ---- rendering ----

    def title(self) -> str:
        kind = "residual chain" if self.architecture is Architecture.RESIDUAL else "chain"
        return f"{self.activation.label} {kind}, depth {self.depth}"

    def summary(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [
            ("depth", self.depth),
            ("∂a_L/∂a_0 (product of factors)", self.product()),
            ("ratio ∂L/∂a_L : ∂L/∂a_1", self.ratio()),
        ]
        if self.stationary_from is not None:
            out.append(("stationary from layer (period)",
                        f"{self.stationary_from} ({self.period})"))
        return out

    # Markdown cells: a literal | is written \|.
    _COLUMNS = ("k", "z_k", "a_k", "φ'(z_k)", "∂L/∂a_k", "∂L/∂z_k", "∂L/∂w_k",
                "log10 \\|∂L/∂a_k\\|")

    def _table_rows(self, max_rows: int) -> list[list[str] | None]:
        n = self.depth
        if n <= max_rows:
            ks: list[int | None] = list(range(1, n + 1))
        else:
            head = max_rows // 2
            ks = [*range(1, head + 1), None, *range(n - (max_rows - head) + 1, n + 1)]
        out: list[list[str] | None] = []
        for k in ks:
            if k is None:
                out.append(None)
                continue
            row = self.rows[k - 1]
            cells = [str(k)] + [
                mpmath.nstr(v, 6)
                for v in (row.z, row.a, row.slope, row.grad_a, row.grad_z, row.grad_w)
            ]
            if self.lr is not None:
                cells.append(mpmath.nstr(row.update, 6))
            # log10 keeps 4 decimals at any magnitude (−683371.9465, not −683372.0)
            cells.append(f"{float(row.log10_grad):.4f}")
            out.append(cells)
        return out

    def _headers(self) -> list[str]:
        cols = list(self._COLUMNS)
        if self.architecture is Architecture.RESIDUAL:
            cols[2] = "y_k"
            cols[4] = "∂L/∂y_k"
        if self.lr is not None:
            cols.insert(7, "−lr·∂L/∂w_k")
        return cols

    def to_markdown(self, *, max_rows: int = 20) -> str:
        """The trace as a Markdown table (middle rows elided past ``max_rows``)."""
        max_rows = as_positive_int(max_rows, "max_rows", minimum=2)
        head = self._headers()
        lines = [
            f"**{self.title()}**",
            "",
            "| " + " | ".join(head) + " |",
            "| " + " | ".join("---:" for _ in head) + " |",
        ]
        for cells in self._table_rows(max_rows):
            lines.append("| " + " | ".join(cells or ["…"] * len(head)) + " |")
        lines += ["", f"ratio ∂L/∂a_{self.depth} : ∂L/∂a_1 = {mpmath.nstr(self.ratio(), 8)}"]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_latex(self, *, max_rows: int = 20) -> str:
        """The trace as a LaTeX ``tabular``."""
        max_rows = as_positive_int(max_rows, "max_rows", minimum=2)
        names = [r"k", r"z_k", r"a_k", r"\varphi'(z_k)", r"\partial L/\partial a_k",
                 r"\partial L/\partial z_k", r"\partial L/\partial w_k"]
        if self.architecture is Architecture.RESIDUAL:
            names[2], names[4] = r"y_k", r"\partial L/\partial y_k"
        if self.lr is not None:
            names.append(r"-\eta\,\partial L/\partial w_k")
        names.append(r"\log_{10}|\partial L/\partial a_k|")
        lines = [r"\begin{tabular}{" + "r" * len(names) + "}", r"\hline",
                 " & ".join(f"${n}$" for n in names) + r" \\", r"\hline"]
        for cells in self._table_rows(max_rows):
            if cells is None:
                lines.append(r"\multicolumn{" + str(len(names)) + r"}{c}{$\vdots$} \\")
            else:
                lines.append(" & ".join(f"${_latex_number(c)}$" for c in cells) + r" \\")
        lines += [r"\hline", r"\end{tabular}"]
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        return self.to_latex()


def _latex_number(text: str) -> str:
    if "e" in text and not text.startswith(("inf", "-inf")):
        mant, exp = text.split("e")
        return rf"{mant} \times 10^{{{int(exp)}}}"
    return text.replace("-inf", r"-\infty")


# ---- public entry points ----


def _trace(
    act: Activation | str,
    arch: Architecture,
    depth: Any,
    weight: Any,
    bias: Any,
    x: Any,
    upstream: Any,
    lr: Any,
    dps: Any,
) -> ChainTrace:
    phi = as_activation(act)
    n = as_positive_int(depth, "depth")
    digits = as_positive_int(dps, "dps", minimum=5)
    prec = int((digits + 10 + len(str(n))) * 3.33) + 8
    with mpmath.workprec(prec):
        weights = _per_layer(weight, "weight", n)
        biases = _per_layer(bias, "bias", n)
        x0 = _mpf(x, "x")
        g = _mpf(upstream, "upstream")
        if g == 0:
            raise InvalidArgument("upstream must be nonzero (a zero gradient carries nothing)")
        rate = None
        if lr is not None:
            rate = _mpf(lr, "lr")
            if not rate > 0:
                raise InvalidArgument(f"lr must be > 0, got {describe(lr)}")
    layers = _Layers(weights, biases, n, max(_constant_from(weights), _constant_from(biases)))
    engine = _Engine(phi, layers, x0, arch, prec)
    factor = (
        r"w_k\,\varphi'(z_k)" if arch is Architecture.PLAIN else r"1 + w_k\,\varphi'(z_k)"
    )
    product = rf"\prod_{{j=k+1}}^{{L}} {factor.replace('k', 'j')}"
    steps = (
        Step("Backward product (each factor is the local derivative ∂a_k/∂a_{k−1})",
             rf"\frac{{\partial L}}{{\partial a_k}} = g {product}"),
        Step(f"Evaluated in mpmath at {digits} digits (+{prec // 3 - digits} guard digits).", None),
    )
    return ChainTrace(phi, arch, n, weights, biases, x0, g, rate, digits, steps, engine)


def chain_trace(
    act: Activation | str,
    *,
    depth: int,
    weight: RealLike | Sequence[RealLike],
    bias: RealLike | Sequence[RealLike] = 0,
    x: RealLike = 1,
    upstream: RealLike = 1,
    lr: RealLike | None = None,
    dps: int = 30,
) -> ChainTrace:
    """Trace the scalar chain a_k = φ(w_k a_{k−1} + b_k) forward and backward at ``dps`` digits.

    ``weight`` and ``bias`` are scalars or one value per layer; floats are read as the
    decimal typed (0.1 is 1/10).  Returns a :class:`ChainTrace`: ``rows`` (z_k, a_k,
    φ'(z_k), ∂L/∂a_k, ∂L/∂z_k, ∂L/∂w_k, the update −lr·∂L/∂w_k, log₁₀|∂L/∂a_k|),
    ``ratio()``, ``product()``, Markdown and LaTeX tables.  Depth 10⁶ works.

    The gradient of the first layer is (w·σ'(z))³ times the last's (Nielsen 2015, ch. 5):

    >>> t = chain_trace("sigmoid", depth=4, weight=0.1, lr=1)
    >>> float(t.rows[0].grad_a / t.rows[3].grad_a) < 1e-4
    True
    >>> deep = chain_trace("sigmoid", depth=10**6, weight=0.1)
    >>> mpmath.nstr(deep.rows[0].log10_grad, 8)
    '-1602343.9'
    """
    return _trace(act, Architecture.PLAIN, depth, weight, bias, x, upstream, lr, dps)


def residual_trace(
    act: Activation | str,
    *,
    depth: int,
    weight: RealLike | Sequence[RealLike],
    bias: RealLike | Sequence[RealLike] = 0,
    x: RealLike = 1,
    upstream: RealLike = 1,
    lr: RealLike | None = None,
    dps: int = 30,
) -> ChainTrace:
    """Trace the residual chain y_k = y_{k−1} + w_k φ(y_{k−1} + b_k) (He et al. 2016).

    Same arguments and record as :func:`chain_trace`; z_k = y_{k−1} + b_k, ``a`` is
    y_k, ∂L/∂z_k = ∂L/∂y_k·w_k φ'(z_k), ∂L/∂w_k = ∂L/∂y_k·φ(z_k), and the factor is
    1 + w_k φ'(z_k), so the identity path keeps the gradient alive:

    >>> t = residual_trace("sigmoid", depth=50, weight=0.1)
    >>> float(t.rows[0].grad_a) > 1
    True
    """
    return _trace(act, Architecture.RESIDUAL, depth, weight, bias, x, upstream, lr, dps)
