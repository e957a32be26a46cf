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

Proven, at any depth.  One forward pass computes every layer in Arb ball arithmetic
(python-flint; :mod:`symgrad.depth.engine`): each z_k, a_k, φ'(z_k) and the running
product P_k = ∏_{j≤k} f_j of the nonzero factors is a ball that contains the true value
of the chain the user wrote (0.1 is 1/10), whatever the roundings did, and the exponent
range is unbounded, so nothing underflows.  Only every 1024th state is stored;
∂L/∂a_k = g·P_depth/P_k (0 when a zero factor lies above k), and a row is rebuilt on
demand by replaying at most 1023 layers from its checkpoint, with the same operations,
so it is the same ball.  When the weights and biases are constant from some layer on
and the forward map repeats a ball exactly (a fixed point or a cycle at the working
precision), the remaining layers are copies of proven balls and their products are
powers.  For a positively homogeneous φ (ReLU, leaky ReLU, identity) with zero biases,
a cycle of slopes whose signs the balls prove is enough: each later cycle is the last
one scaled by its product C > 0.  Values stay tight relative to themselves (a chain
alternating into ELU's kink at 0, tanh' deep in saturation) because φ and φ' are
compiled without cancelling subtractions (:mod:`symgrad.depth.balls`).  Each row keeps
its balls (:meth:`ChainRow.enclosure`); the numbers are the balls' midpoints rounded to
``dps`` digits, and the tables print only digits the balls prove.  The record's
provenance is ``Certified`` with the enclosures of the product, the ratio and ∂L/∂a_1.

>>> t = chain_trace("sigmoid", depth=4, weight=0.1)
>>> [mpmath.nstr(r.grad_a, 6) for r in t.rows]
['1.55937e-5', '0.000624178', '0.0249836', '1.0']
>>> mpmath.nstr(t.ratio(), 8)
'64128.416'
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy
from flint import arb

from symgrad._core.validate import as_digits, as_positive_int, describe
from symgrad._exact.ball import working_precision
from symgrad._exact.digits import CertifiedNumber
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.depth.engine import _CHECKPOINT, Architecture, Engine, _Layer
from symgrad.depth.layers import Layers, MpfView, as_mpf, constant_from, exact_value, per_layer
from symgrad.depth.trace_rows import ChainRow, Rows
from symgrad.depth.trace_table import TraceTables
from symgrad.errors import InvalidArgument
from symgrad.records import NO_NUMBERS, Certified, Provenances, Record, Step, provenances
from symgrad.types import RealLike

__all__ = ["Architecture", "ChainRow", "ChainTrace", "chain_trace", "residual_trace"]


# ---- the record ----


@dataclass(frozen=True)
class ChainTrace(TraceTables, Record):
    """A scalar chain traced forward and backward in mpmath (see the module docstring).

    ``rows`` has one :class:`ChainRow` per layer, layers 1..depth in order; it is a
    lazy sequence (``len``, indexing, slicing, iteration).  ``stationary_from`` is the
    first layer from which the rounded chain repeats a cycle of ``period`` layers
    (``None`` if it never does within the depth).
    """

    activation: Activation
    architecture: Architecture
    depth: int
    weight: Sequence[mpmath.mpf] = field(repr=False)  # one value, or one per layer
    bias: Sequence[mpmath.mpf] = field(repr=False)
    x: mpmath.mpf
    upstream: mpmath.mpf
    lr: mpmath.mpf | None
    dps: int
    provenance: Provenances
    steps: tuple[Step, ...]
    _engine: Engine = field(repr=False, compare=False)
    rows: Sequence[ChainRow] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", Rows(self))
        object.__setattr__(self, "_segments", OrderedDict())

    @property
    def stationary_from(self) -> int | None:
        tail = self._engine.tail
        return None if tail is None else tail.start

    @property
    def period(self) -> int | None:
        tail = self._engine.tail
        return None if tail is None else tail.period

    def _round(self, v: arb) -> mpmath.mpf:
        """The ball's midpoint rounded to dps digits (±∞ or NaN for a non-finite ball)."""
        if not v.is_finite():
            return mpmath.nan if v.is_nan() else mpmath.inf
        with mpmath.workdps(self.dps):
            return mpmath.mpf(v.mid())

    def _enclose(self, v: arb) -> CertifiedNumber | None:
        return CertifiedNumber.from_arb(v, self.dps) if v.is_finite() else None

    def product_ball(self) -> arb:
        """∂a_depth/∂a_0 as a ball."""
        return self._engine.suffix(0, arb(1))

    def product(self) -> mpmath.mpf:
        """∂a_depth/∂a_0 = ∏_{k=1}^{depth} f_k, the whole chain's factor."""
        return self._round(self.product_ball())

    def gradient(self, k: int) -> mpmath.mpf:
        """∂L/∂a_k for 0 ≤ k ≤ depth (k = 0 is the input x)."""
        k = as_positive_int(k, "k", minimum=0)
        if k > self.depth:
            raise InvalidArgument(f"k must be at most the depth {self.depth}, got {k}")
        if k == 0:
            with working_precision(self._engine.prec):
                return self._round(self._engine.upstream * self.product_ball())
        return self.rows[k - 1].grad_a

    def ratio_ball(self) -> arb:
        """∂L/∂a_depth / ∂L/∂a_1 as a ball (NaN when ∂L/∂a_1 is 0)."""
        s1 = self._engine.suffix(1, self._running_product(1))
        if s1.is_zero():
            return arb("nan")
        with working_precision(self._engine.prec):
            return 1 / s1

    def ratio(self) -> mpmath.mpf:
        """∂L/∂a_depth / ∂L/∂a_1 = 1/∏_{k=2}^{depth} f_k: how many times faster the top
        layer's input gradient is than the first layer's (``inf`` if the first is 0)."""
        r = self.ratio_ball()
        return mpmath.inf if r.is_nan() else self._round(r)

    def _running_product(self, k: int) -> arb:
        if k > self._engine.stop:
            return arb(1)  # unused by suffix() past the stop
        index = (k - 1) // _CHECKPOINT
        return self._segment(index)[(k - 1) % _CHECKPOINT][2]

    def _segment(self, index: int) -> list[tuple[_Layer, arb, arb]]:
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
        with working_precision(eng.prec):
            tail = eng.tail
            if k > eng.stop and tail is not None and tail.scale is not None:
                c = tail.scale ** ((k - tail.start) // tail.period)
                zk, a, a_prev, h = c * zk, c * a, c * a_prev, c * h
            grad_a = eng.upstream * eng.suffix(k, P)
            if self.architecture is Architecture.PLAIN:
                grad_z = grad_a * s
                grad_w = grad_z * a_prev
            else:
                grad_z = grad_a * eng.w[0 if len(eng.w) == 1 else k - 1] * s
                grad_w = grad_a * h
            update = None if eng.lr is None else -eng.lr * grad_w
            log10 = arb("-inf") if grad_a.is_zero() else abs(grad_a).log() / arb(10).log()
        balls = {"z": zk, "a": a, "slope": s, "factor": f, "grad_a": grad_a, "grad_z": grad_z,
                 "grad_w": grad_w, "log10_grad": log10}
        if update is not None:
            balls["update"] = update
        r = self._round
        return ChainRow(
            k, r(zk), r(a), r(s), r(f), r(grad_a), r(grad_z), r(grad_w),
            None if update is None else r(update),
            -mpmath.inf if grad_a.is_zero() else r(log10), balls, self.dps,
        )

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
    n = as_positive_int(depth, "depth", maximum=10**18)  # rows is a Sequence: len() fits
    digits = as_digits(dps)
    weights = per_layer(weight, "weight", n)
    biases = per_layer(bias, "bias", n)
    x0 = exact_value(x, "x")
    g = exact_value(upstream, "upstream")
    if g == 0:
        raise InvalidArgument("upstream must be nonzero (a zero gradient carries nothing)")
    rate = None
    if lr is not None:
        rate = exact_value(lr, "lr")
        if not rate > 0:
            raise InvalidArgument(f"lr must be > 0, got {describe(lr)}")
    layers = Layers(weights, biases, n, max(constant_from(weights), constant_from(biases)))
    engine = Engine(phi, layers, x0, arch, digits, upstream=g, lr=rate)
    factor = (
        r"w_k\,\varphi'(z_k)" if arch is Architecture.PLAIN else r"1 + w_k\,\varphi'(z_k)"
    )
    product = rf"\prod_{{j=k+1}}^{{L}} {factor.replace('k', 'j')}"
    method = f"Arb ball arithmetic at {engine.prec} bits"
    steps = (
        Step("Backward product (each factor is the local derivative ∂a_k/∂a_{k−1})",
             rf"\frac{{\partial L}}{{\partial a_k}} = g {product}"),
        Step(f"Evaluated in {method} (python-flint): every number is a ball that contains "
             f"the true value; rows are rounded to {digits} digits and print only the "
             "digits their enclosures prove.", None),
    )
    with mpmath.workprec(engine.prec):
        # Short parameter lists as tuples (as_dict lists them); 10⁶ weights are read lazily.
        mp_w, mp_b = (tuple(as_mpf(v) for v in values) if len(values) <= 4096 else
                      MpfView(values, engine.prec) for values in (weights, biases))
        mp_x, mp_g = as_mpf(x0), as_mpf(g)
        mp_lr = None if rate is None else as_mpf(rate)
    trace = ChainTrace(phi, arch, n, mp_w, mp_b, mp_x, mp_g, mp_lr, digits, NO_NUMBERS,
                       steps, engine)
    how = {"product": _certified(trace.product_ball(), method, engine.prec)}
    ratio = trace.ratio_ball()
    if ratio.is_finite():
        how["ratio"] = _certified(ratio, method, engine.prec)
    # "rows": each row carries its own enclosures (ChainRow.enclosure); shown here is the
    # headline one, ∂L/∂a_1.
    how["rows"] = _certified(trace.rows[0].balls["grad_a"],
                             f"{method}; each row's enclosures: ChainRow.enclosure(name); "
                             "bounds shown: ∂L/∂a_1", engine.prec)
    object.__setattr__(trace, "provenance", provenances(**how))
    return trace


def _certified(ball: arb, method: str, prec: int) -> Certified:
    """The ball's end points as mpf, rounded outward at ``prec`` bits (exact binary
    numbers: no 10⁶-digit rationals for a gradient of 10^(−911905))."""
    if not ball.is_finite():
        return Certified(-sympy.oo, sympy.oo, method)
    with working_precision(prec), mpmath.workprec(prec):
        return Certified(mpmath.mpf(ball.lower()), mpmath.mpf(ball.upper()), method)


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
