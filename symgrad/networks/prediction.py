"""What does a wide network of these blocks do at init?  :func:`predict`, layer by layer.

For a network of top-level blocks h_{l−1} → h_l (l = 1 … L, h_0 the input with
E[h_0²] = q0 per unit), at infinite width, from the given q0 (not only at a fixed
point), under gradient independence (Schoenholz et al. 2017; :mod:`._recursion`):

* ``second_moment[l]`` = E[h_l²] per unit (l = 0 … L), ``mean[l]`` = E[h_l];
* ``grad_h_sq[l]`` = E[(∂L/∂h_l)²] per unit with the gradient arriving at h_L standard
  normal, so ``grad_h_sq[L]`` = 1 and ``grad_h_sq[l]`` is the averaged partial
  Jacobian J^{L,l} = E‖∂h_L/∂h_l‖²_F/N (Doshi, He and Gromov 2023);
* per block (block 1 first): ``preact_second_moment`` (E[z²] of the block's last dense
  output z), ``grad_z_sq`` (E[(∂L/∂z)²] per unit there), and ``grad_w_sq``: the
  squared Frobenius norm of the per-example weight gradient δ aᵀ summed over the
  block's dense layers, Σ ‖δ‖²·‖a‖² = N²·Σ E[δ²]·E[a²] (divided by N² when ``width``
  is None: the infinite-width limit of ‖∂L/∂W‖²/N²);
* ``correlation[l]`` = C_l/K_l for two inputs of correlation ``c0`` (tracked when c0 is
  given or a batchnorm needs the batch's cross moment; then c0 defaults to 0, independent
  batch items);
* ``law``: the depth law (:mod:`.laws`), exact where the recursion allows it, and
  ``jacobian_exact``, J^{L,0} in closed form when the law gives one for this network.

Provenance: the per-layer arrays are float64 evaluations of the recursion, *estimated*
with a relative error that is the rounding of every step when the Gaussian maps are
closed forms (relu, leaky_relu, identity, erf: the recursion itself is exact) and adds
the quadrature-table error otherwise; ``jacobian_exact`` and the law's numbers are
*exact* when derived in SymPy from closed forms.

>>> from symgrad.networks import activation, dense, layernorm, repeat, residual, serial
>>> p = predict(repeat(residual(serial(layernorm(), activation("relu"), dense(1))), 40))
>>> round(float(p.grad_h_sq[0]), 12), p.jacobian_exact, p.law.kind.value
(21.0, 21, 'power')
>>> mlp = repeat(serial(dense(1, init="xavier_normal"), activation("tanh")), 20)
>>> round(float(predict(mlp).grad_h_sq[1]), 4)   # the issue's 13× drop: J^{20,1}
0.0775
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad.errors import InvalidArgument
from symgrad.networks._flat import flat_step
from symgrad.networks._recursion import Numbers, Out
from symgrad.networks._recursion import Step as BlockStep
from symgrad.networks.blocks import BatchNorm, Block, Repeat
from symgrad.networks.laws import DepthLaw, law_of
from symgrad.records import Estimated, Exact, How, Record, Step, provenances
from symgrad.types import FloatArray

__all__ = ["Prediction", "predict"]

_U = 2.0**-53
#: Most primitive layers (dense, φ, norms, counted through repeats) a prediction walks.
_MAX_LAYERS = 4 * 10**6
#: Computed blocks after which a walk writes a block's flat function (:mod:`._flat`).
_FLAT_AFTER = 32
_ARRAYS = ("second_moment", "mean", "correlation", "preact_second_moment", "grad_h_sq",
           "log10_grad_h_sq", "grad_z_sq", "grad_w_sq")


@dataclass(frozen=True, eq=False)
class Prediction(Record):
    """Per-layer mean-field predictions for one architecture (module docstring)."""
    network: str
    depth: int
    q0: float
    c0: float | None
    width: int | None
    second_moment: FloatArray
    mean: FloatArray
    correlation: FloatArray | None
    preact_second_moment: FloatArray
    grad_h_sq: FloatArray
    log10_grad_h_sq: FloatArray
    grad_z_sq: FloatArray
    grad_w_sq: FloatArray
    law: DepthLaw | None
    #: J^{L,0} exactly (SymPy), when the law gives it in closed form for this network.
    jacobian_exact: sympy.Expr | None
    provenance: Any
    steps: tuple[Step, ...] = ()

    @property
    def jacobian(self) -> FloatArray:
        """J^{L,l} = grad_h_sq[l]/grad_h_sq[L], l = 0 … L."""
        out: FloatArray = self.grad_h_sq / self.grad_h_sq[-1]
        return out

    def title(self) -> str:
        return f"Prediction for {self.network}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [
            ("depth", str(self.depth)), ("q0", sympy.Float(self.q0)),
            ("J^{L,0} = E‖∂L/∂h_0‖²/N", sympy.Float(self.grad_h_sq[0])),
            ("log10 J^{L,0}", sympy.Float(self.log10_grad_h_sq[0])),
            ("‖∂L/∂W_1‖² / ‖∂L/∂W_L‖²", sympy.Float(self.grad_w_sq[0] / self.grad_w_sq[-1])),
            ("E[h_L²]", sympy.Float(self.second_moment[-1]))]
        if self.jacobian_exact is not None:
            rows.append(("J^{L,0} exactly", self.jacobian_exact))
        if self.law is not None:
            rows.append(("depth law", f"{self.law.kind.value}: {self.law.statement}"))
        return rows

    def as_dict(self) -> dict[str, Any]:
        """Every field JSON-ready: arrays as lists (non-finite entries as strings), exact
        numbers also as text (``jacobian_exact_text``)."""
        out = super().as_dict()
        for name in _ARRAYS:
            arr = getattr(self, name)
            out[name] = None if arr is None else [
                v if math.isfinite(v) else str(v) for v in np.asarray(arr).tolist()]
        out["jacobian_exact_text"] = (None if self.jacobian_exact is None
                                      else str(sympy.sstr(self.jacobian_exact)))
        return out


def _layers(block: Block) -> int:
    if isinstance(block, Repeat):
        return block.depth * _layers(block.block)
    parts = block.parts()
    return sum(_layers(p) for p in parts) if parts else 1


def _q0(value: Any) -> sympy.Expr:
    # Bounds checked in floats: SymPy's Interval.contains costs 10 ms per call.
    exact = as_exact_real(value, "q0")
    if not 1e-12 <= float(exact) <= 1e12:
        raise InvalidArgument(f"q0 must be in [1e-12, 1e12], got {describe(value)}")
    return exact


def _walk(blocks: tuple[Block, ...], state: tuple[float, float, float | None, float],
          num: Numbers) -> list[Out]:
    """The float recursion block by block; a block entered twice in the same state (a
    normalisation resets it) is computed once."""
    outs: list[Out] = []
    append, isfinite = outs.append, math.isfinite
    memo: dict[tuple[int, float, float, float | None], Out] = {}
    steps: dict[tuple[int, bool], BlockStep] = {}
    seen: dict[tuple[int, bool], int] = {}
    gaussian = True
    k, m, c, err = state
    depth = len(blocks)
    # The function kept for the block in hand (steps' entry, looked up when the block or
    # its input kind changes): a run of copies of one block looks it up once.
    held: tuple[Block | None, bool, BlockStep | None] = (None, True, None)
    for i, b in enumerate(blocks):
        key = (id(b), k, m, c)
        out = memo.get(key)
        if out is None:
            if held[0] is not b or held[1] != gaussian:
                held = (b, gaussian, steps.get((id(b), gaussian)))
            fn = held[2]
            if fn is None:
                fn = _step(b, gaussian, c is not None, num, seen)
                if fn is not None:
                    steps[(id(b), gaussian)] = fn
                    held = (b, gaussian, fn)
                else:
                    fn = num.step(b, gaussian)[0]
            out = fn(k, m, c, err)
            if len(memo) < 64:
                memo[key] = out
        append(out)
        k, m, c, gaussian, err = out.state
        if not isfinite(k) or k > 1e300:
            raise InvalidArgument(
                f"E[h_l²] exceeds float64's range at block {i + 1} of {depth}: use fewer"
                " blocks (the depth law below still applies)")
    return outs


def _step(b: Block, gaussian: bool, tracks_c: bool, num: Numbers,
          seen: dict[tuple[int, bool], int]) -> BlockStep | None:
    """The function a walk keeps for ``b``: its flat function (the same floats as the
    closures), written once ``b`` has been computed ``_FLAT_AFTER`` times in this walk
    (a walk that a normalisation brings to rest after a few blocks does not pay for the
    writing), or at once when an earlier walk wrote it; the closures for good where the
    writer does not cover ``b``; None: the closures for now."""
    n = seen[(id(b), gaussian)] = seen.get((id(b), gaussian), 0) + 1
    flat = flat_step(b, gaussian, tracks_c, num, write=n > _FLAT_AFTER)
    if flat is None and n > _FLAT_AFTER:
        return num.step(b, gaussian)[0]
    return flat


def predict(net: Block, *, q0: Any = 1, c0: Any = None, width: int | None = None,
            law: bool = True) -> Prediction:
    """Per-layer second moments, gradient norms, weight-gradient norms, averaged partial
    Jacobians and the depth law of ``net`` at infinite width (module docstring).

    ``q0``: the input's second moment per unit (1e−12 … 1e12); ``c0``: the correlation
    of a second input (in [−1, 1]); ``width``: scales ``grad_w_sq`` by N² (1 … 8192);
    ``law=False`` skips the symbolic depth law (``law`` is None then): for sweeps over
    many parameter values, where each new value would be a new SymPy derivation.
    """
    if not isinstance(law, bool):
        raise InvalidArgument(f"law must be True or False, got {describe(law)}")

    if not isinstance(net, Block):
        raise InvalidArgument(f"net must be a block (symgrad.networks), got {describe(net)}")
    exact_q0 = _q0(q0)
    layers = _layers(net)
    if layers > _MAX_LAYERS:
        raise InvalidArgument(f"net has {layers} primitive layers; at most {_MAX_LAYERS}")
    if width is not None:
        width = as_positive_int(width, "width")
        if width > 8192:
            raise InvalidArgument(f"width must be at most 8192, got {width}")
    has_bn = any(isinstance(b, BatchNorm) for b in net.walk())
    exact_c0 = None
    if c0 is not None:
        exact_c0 = as_exact_real(c0, "c0")
        if not -1 <= float(exact_c0) <= 1:
            raise InvalidArgument(f"c0 must be in [-1, 1], got {describe(c0)}")
    elif has_bn:
        exact_c0 = sympy.Integer(0)
    blocks = net.blocks()
    depth = len(blocks)
    qf = float(exact_q0)
    cf = None if exact_c0 is None else float(exact_c0) * qf
    num = Numbers(depth=depth)
    outs = _walk(blocks, (qf, 0.0, cf, 0.0), num)
    # The walk's numbers are Python floats (ints only where a float would be exact).
    ks, ms, cs, _, errs = zip(*[o.state for o in outs], strict=True)
    k = np.array((qf, *ks), dtype=np.float64)
    m = np.array((0.0, *ms), dtype=np.float64)
    k_err = np.array((0.0, *errs))
    corr: FloatArray | None = None
    if cf is not None:
        corr = np.array((float(exact_c0), *cs), dtype=np.float64)  # type: ignore[arg-type]
        corr[1:] /= k[1:]
    _, chis, chi_errs, ws, lasts = zip(*outs, strict=True)
    chi = np.array(chis, dtype=np.float64)
    chi_err = np.array(chi_errs)
    w = np.array(ws, dtype=np.float64)
    gz = np.array([math.nan if o is None else o[0] for o in lasts], dtype=np.float64)
    pre = np.array([math.nan if o is None else o[1] for o in lasts], dtype=np.float64)
    # Backward: log G_{l−1} = log G_l + log χ_l, from G_L = 1.
    with np.errstate(divide="ignore"):
        log_chi = np.log(chi)
    log_g = np.zeros(depth + 1)
    log_g[:-1] = np.cumsum(log_chi[::-1])[::-1]
    scale = 1.0 if width is None else float(width) ** 2
    # Beyond float64's range the gradients are ±inf or 0; log10_grad_h_sq keeps them.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        g = np.exp(log_g)
        grad_w = g[1:] * w * scale
        grad_z = g[1:] * gz
    closed = not num.tables
    # Rounding: a few operations per block, accumulated over the blocks walked (and the
    # exponential of a sum of logarithms: relative error ≈ |log G|·u more).
    rounding = 8 * _U * (depth + 1) + float(np.max(np.abs(log_g))) * _U
    g_err = float(np.max(np.cumsum(chi_err[::-1]))) + rounding
    arrays_err = max(float(k_err.max()) + rounding, g_err)
    depth_law = (law_of(net, exact_q0, exact_c0, (float(chi[-1]), float(chi_err[-1])))
                 if law else None)
    jac_exact = None
    if depth_law is not None and depth_law.jacobian is not None and _covers(net):
        jac_exact = depth_law.jacobian
    method = ("float64 recursion on closed-form Gaussian maps (the recursion is exact; the"
              " error is rounding)" if closed else
              "float64 recursion with quadrature tables for the Gaussian maps")
    how: How = Estimated(arrays_err, method, relative=True)
    prov: dict[str, How] = {name: how for name in _ARRAYS if name != "correlation"}
    prov["log10_grad_h_sq"] = Estimated(arrays_err / math.log(10), method)
    if corr is not None:
        prov["correlation"] = how
    given = Exact("given")
    prov.update(depth=Exact("counted"), q0=given)
    if exact_c0 is not None:
        prov["c0"] = given
    if width is not None:
        prov["width"] = given
    if depth_law is not None:
        prov["law"] = depth_law.how("constant")
    if jac_exact is not None and depth_law is not None:
        prov["jacobian_exact"] = depth_law.how("constant")
    for arr in (k, m, pre, g, grad_z, grad_w, log_g):
        arr.flags.writeable = False
    if corr is not None:
        corr.flags.writeable = False
    log10 = log_g / math.log(10)
    log10.flags.writeable = False
    steps = (Step("forward: K_l = F_l(K_{l−1}) block by block from K_0 = q0",
                  sympy.Eq(sympy.Symbol("K_0"), exact_q0, evaluate=False)),
             Step("backward: G_{l−1} = χ_l(K_{l−1}) G_l from G_L = 1 (gradient independence),"
                  " so J^{L,l} = Π_{j>l} χ_j", "J^{L,l} = \\prod_{j=l+1}^{L}\\chi_j(K_{j-1})"),
             Step("weights: ‖∂L/∂W‖² = N²·E[δ²]·E[a²] per dense layer",
                  "\\|\\partial L/\\partial W\\|_F^2 = N^2\\,\\mathbb{E}[\\delta^2]\\,"
                  "\\mathbb{E}[a^2]"))
    return Prediction(
        network=str(net), depth=depth, q0=qf, c0=None if exact_c0 is None else float(exact_c0),
        width=width, second_moment=k, mean=m, correlation=corr, preact_second_moment=pre,
        grad_h_sq=g, log10_grad_h_sq=log10, grad_z_sq=grad_z, grad_w_sq=grad_w,
        law=depth_law, jacobian_exact=jac_exact, provenance=provenances(**prov),
        steps=steps + (depth_law.steps if depth_law is not None else ()),
    )


def _covers(net: Block) -> bool:
    blocks = net.blocks()
    return not blocks or blocks.count(blocks[0]) == len(blocks)  # (each is or == the first)
