"""How a scalar chain is computed at any depth: per-layer parameters and the ball engine.

The engine (see :mod:`symgrad.depth.trace` for the conventions) runs one forward pass
in Arb ball arithmetic (python-flint): every state a_k and every running product
P_k = ∏_{j≤k} f_j of the nonzero factors is a ball that provably contains the true
value, whatever the rounding did on the way.  It keeps every 1024th state, and stops
early when the forward map repeats a ball exactly (a fixed point or a cycle at the
working precision; for a homogeneous φ without biases, a cycle of slopes up to scale);
a row is rebuilt by replaying from its checkpoint with the same operations, so it is
the same ball the forward pass had.

Why a repeat is a proof: every layer after the parameters become constant applies the
same ball operations at the same precision, so equal input balls give equal output
balls; each is an enclosure (by induction over the layers), so the copied layers
enclose the true ones too.  The homogeneous tail needs the signs of the cycle's z_k,
which the balls prove (a ball straddling the kink never counts).

Precision: ``digits`` + 10 + log₁₀(depth) guard digits; if the enclosures at the
checkpoints and the end do not prove ``digits`` + 3 digits, the pass is repeated at
twice, then four times the precision, and what is finally printed is only what the
enclosures prove.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy
from flint import arb

from symgrad._core.symbols import z as act_symbol
from symgrad._exact.ball import CAP_BITS, working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad.activations.record import Activation
from symgrad.depth.balls import ball_step
from symgrad.depth.layers import Exact, Layers, as_ball, balls
from symgrad.errors import InvalidArgument

__all__ = ["Architecture"]  # the rest is used by symgrad.depth.trace only

_CHECKPOINT = 1024  # layers between stored states
_MAX_PERIOD = 16  # longest cycle of the forward map that is detected
_CHECK_EVERY = 32  # layers between cycle checks (a cycle, once entered, lasts)
_RETRIES = 2  # passes at 2× and 4× the precision when the enclosures are too wide

class Architecture(enum.Enum):
    """Which scalar chain a trace follows."""

    #: a_k = φ(w_k a_{k−1} + b_k); factor w_k φ'(z_k).
    PLAIN = "plain"
    #: y_k = y_{k−1} + w_k φ(y_{k−1} + b_k); factor 1 + w_k φ'(z_k).
    RESIDUAL = "residual"


# ---- the engine ----

_State = tuple[arb, arb, int]  # (a_k, P_k over nonzero factors, last zero ≤ k)
_Layer = tuple[arb, arb, arb, arb, arb]  # z, a, slope, f, h (φ(z_k); a for plain)


def _same(x: arb, y: arb) -> bool:
    """The same ball (midpoint and radius), not merely overlapping values."""
    return bool(x.mid() == y.mid() and x.rad() == y.rad())


def _product(values: Sequence[arb]) -> arb:
    out = arb(1)
    for v in values:
        out *= v
    return out


@dataclass(frozen=True)
class _Tail:
    """Layers after ``stop`` repeat the cycle of layers start..stop (period = stop−start+1),
    each repetition with z, a (and a_{k−1}, φ(z_k)) multiplied by ``scale`` > 0."""

    stop: int
    start: int
    factors: tuple[arb, ...]
    scale: arb | None = None  # None: an exact repeat

    @property
    def period(self) -> int:
        return self.stop - self.start + 1

    def source(self, k: int) -> int:
        """The computed layer that layer k > stop copies."""
        return self.start + (k - self.start) % self.period

    def product(self, after: int, upto: int) -> arb:
        """∏ f_j for after < j ≤ upto, all in the tail (after ≥ stop)."""
        m = upto - after
        i0 = (after + 1 - self.start) % self.period
        full, rest = divmod(m, self.period)
        out = _product(self.factors) ** full if full else arb(1)
        for t in range(rest):
            out *= self.factors[(i0 + t) % self.period]
        return out

    def last_zero(self, depth: int) -> int:
        """The highest layer ≤ depth in the tail whose factor is 0 (0 if none)."""
        best = 0
        for i, f in enumerate(self.factors):
            if f.is_zero():
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


def _scaled_tail(k: int, slopes: Sequence[arb | None], factors: Sequence[arb]) -> _Tail | None:
    """For a homogeneous φ with zero biases, a_k = f_k·a_{k−1} (plain: φ(z) = φ'(z)·z;
    residual: y + w φ(y) = (1 + w φ'(y))·y).  If the slopes of the last 2p layers repeat
    with period p (each decided: its z has a proven sign) and the cycle's product C is
    proven > 0, then z_{j+p} = C·z_j keeps every z in its half-line, so the slopes repeat
    forever and each cycle scales by C."""
    s, f = list(slopes), list(factors)
    for p in range(1, _MAX_PERIOD + 1):
        window = s[-2 * p:]
        if len(window) < 2 * p or any(v is None for v in window):
            continue
        if all(_same(s[-1 - j], s[-1 - j - p]) for j in range(p)):  # type: ignore[arg-type]
            C = _product(f[-p:])
            if C > 0:
                return _Tail(k, k - p + 1, tuple(f[-p:]), C)
    return None


class Engine:
    """One forward pass in ball arithmetic; rows are replayed from checkpoints."""

    def __init__(self, act: Activation, layers: Layers, x: Exact, arch: Architecture,
                 digits: int, *, upstream: Exact = Fraction(1), lr: Exact | None = None
                 ) -> None:
        self.act = act
        self._exact_upstream, self._exact_lr = upstream, lr
        self.layers = layers
        self.arch = arch
        depth = layers.depth
        start = int((digits + 10 + len(str(depth))) * 3.33) + 8
        if start > CAP_BITS:
            raise InvalidArgument(
                f"dps must be at most {int((CAP_BITS - 8) / 3.33) - 10 - len(str(depth))} at "
                f"depth {depth}: ball arithmetic is capped at {CAP_BITS} bits")
        need = int((digits + 3) * 3.33)
        self.homogeneous = _homogeneous(act) and all(
            layers.biases[min(k, len(layers.biases)) - 1] == 0
            for k in {layers.constant_from, depth})
        self._step = ball_step(act)
        prec = start
        for attempt in range(_RETRIES + 1):
            self.prec = prec
            with working_precision(prec):
                self._forward(x)
            if self.accuracy >= need or attempt == _RETRIES or prec >= CAP_BITS:
                break
            prec = min(2 * prec, CAP_BITS)

    # ---- one layer ----

    def _setup(self, x: Exact) -> None:
        self.w = balls(self.layers.weights)
        self.b = balls(self.layers.biases)
        self.x = as_ball(x)
        self.upstream = as_ball(self._exact_upstream)
        self.lr = None if self._exact_lr is None else as_ball(self._exact_lr)
        self.both = self._step.bind()
        self.phi = self._step.bind_value()
        self.kinks = tuple(constant_ball(b) for b in self.act.breakpoints)

    def step_fn(self) -> Callable[[arb, int], _Layer]:
        """(a_{k−1}, k) → (z_k, a_k, φ'(z_k), f_k, φ(z_k)) at the engine's precision.

        Where a ball evaluation would overestimate (φ uses z twice; the residual map
        uses y twice), the mean-value form F(m) + F'(Y)·(Y − m), F' enclosed over the
        ball Y, is intersected with it: both enclose F(Y) when Y holds no kink."""
        ws, bs, both, phi, kinks = self.w, self.b, self.both, self.phi, self.kinks
        one_w, one_b = len(ws) == 1, len(bs) == 1
        mean_value = self._step.mean_value

        def smooth(x: arb) -> bool:
            return not x.is_exact() and all(x < k or x > k for k in kinks)

        if self.arch is Architecture.PLAIN:
            def plain(a_prev: arb, k: int) -> _Layer:
                w = ws[0] if one_w else ws[k - 1]
                zk = w * a_prev + (bs[0] if one_b else bs[k - 1])
                a, s = both(zk)
                if mean_value and smooth(zk):
                    a = a.intersection(phi(zk.mid()) + s * arb(0, zk.rad()))
                return zk, a, s, w * s, a
            return plain

        def residual(y_prev: arb, k: int) -> _Layer:
            w = ws[0] if one_w else ws[k - 1]
            b = bs[0] if one_b else bs[k - 1]
            zk = y_prev + b
            h, s = both(zk)
            f = 1 + w * s
            y = y_prev + w * h
            if smooth(zk):
                m = y_prev.mid()
                y = y.intersection(m + w * phi(m + b) + f * arb(0, y_prev.rad()))
                if mean_value:
                    h = h.intersection(phi(zk.mid()) + s * arb(0, zk.rad()))
            return zk, y, s, f, h
        return residual

    # ---- the forward pass ----

    def _forward(self, x: Exact) -> None:
        self._setup(x)
        step = self.step_fn()
        depth, const = self.layers.depth, self.layers.constant_from
        a, P, last_zero = self.x, arb(1), 0
        self.checkpoints: list[_State] = [(a, P, 0)]
        self.tail: _Tail | None = None
        accuracy = math.inf
        # The last states and factors, to spot a cycle of the forward map.
        states: deque[arb] = deque(maxlen=_MAX_PERIOD + 1)
        factors: deque[arb] = deque(maxlen=2 * _MAX_PERIOD)
        slopes: deque[arb | None] = deque(maxlen=2 * _MAX_PERIOD)
        homogeneous = self.homogeneous
        k = 0
        for k in range(1, depth + 1):
            zk, a, s, f, _ = step(a, k)
            if f.is_zero():
                last_zero = k
            else:
                P *= f
            if k % _CHECKPOINT == 0:
                _check_finite(a, P, k, self.act)
                accuracy = min(accuracy, _accuracy(a), _accuracy(P))
                self.checkpoints.append((a, P, last_zero))
            states.append(a)
            factors.append(f)
            if homogeneous:
                slopes.append(s if (zk > 0 or zk < 0) else None)
            # Every layer after const applies the same map, so a_k = a_{k−p} with
            # k − p ≥ const − 1 makes layers k−p+1..k repeat forever.
            if k % _CHECK_EVERY == 0 and k - 2 * _MAX_PERIOD >= const and k < depth:
                mid, rad = a.mid(), a.rad()
                period = next((p for p in range(1, len(states))
                               if states[-1 - p].mid() == mid and states[-1 - p].rad() == rad),
                              0)
                if period:
                    self.tail = _Tail(k, k - period + 1, tuple(factors)[-period:])
                    break
                if homogeneous:
                    self.tail = _scaled_tail(k, slopes, factors)
                    if self.tail is not None:
                        break
        _check_finite(a, P, k, self.act)
        self.accuracy = min(accuracy, _accuracy(a), _accuracy(P))
        self.stop = k
        self.end_state = (a, P, last_zero)
        tail_zero = self.tail.last_zero(depth) if self.tail else 0
        self.last_zero = max(last_zero, tail_zero)
        # S_stop = ∏_{j>stop} f_j
        if self.tail is None or self.last_zero > self.stop:
            self.s_stop = arb(1) if self.tail is None else arb(0)
        else:
            self.s_stop = self.tail.product(self.stop, depth)

    # ---- reading it back ----

    def suffix(self, k: int, P_k: arb) -> arb:
        """∏_{j=k+1}^{depth} f_j; ``P_k`` is the running product at k (used when k < stop)."""
        with working_precision(self.prec):
            if self.last_zero > k:
                return arb(0)
            if k >= self.stop:
                if self.tail is None:
                    return arb(1)
                return self.tail.product(k, self.layers.depth)
            return self.s_stop * (self.end_state[1] / P_k)

    def segment(self, index: int) -> list[tuple[_Layer, arb, arb]]:
        """Replay checkpoint ``index``: (layer values, a_{k−1}, P_k) for its layers."""
        a, P, _ = self.checkpoints[index]
        first = index * _CHECKPOINT + 1
        last = min(first + _CHECKPOINT - 1, self.stop)
        out = []
        with working_precision(self.prec):
            step = self.step_fn()
            for k in range(first, last + 1):
                values = step(a, k)
                if not values[3].is_zero():
                    P *= values[3]
                out.append((values, a, P))
                a = values[1]
        return out


def _accuracy(x: arb) -> float:
    """Relative accuracy in bits (∞ for an exact ball, including an exact 0)."""
    return math.inf if x.is_exact() else float(x.rel_accuracy_bits())


def _check_finite(a: arb, P: arb, k: int, act: Activation) -> None:
    if not (a.is_finite() and P.is_finite()):
        raise InvalidArgument(
            f"{act.label} gave a non-finite or non-real value by layer {k} ({a.str(5)});"
            " the chain is only defined where φ and φ' are finite reals"
        )
