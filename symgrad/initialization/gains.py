"""Which weight variance keeps signals alive?  Xavier/Glorot, He/Kaiming and gains, derived.

A dense layer z = W·x with n_in inputs, n_out outputs and i.i.d. W_ij of variance σ²:

* forward: Var(z_i) = n_in·σ²·E[x_j²], so the second moment is preserved iff n_in·σ² = 1
  (for the identity; with φ the factor is n_in·σ²·E[φ(u)²]/Var(u));
* backward: Var(∂L/∂x_j) = n_out·σ²·E[(∂L/∂z_i)²], preserved iff n_out·σ² = 1;
* Glorot and Bengio (2010) take the harmonic mean of the two solutions, 2/(n_in + n_out);
  a uniform U(−a, a) has variance a²/3, so a = √(3σ²).
* He et al. (2015): for relu E[relu(u)²] = Var(u)/2 (SymPy integrates it), which doubles
  the forward solution: 2/n_in; E[relu'(u)²] = 1/2 doubles the backward one: 2/n_out.

Gains (the factor g in Var(w) = g²/n_in): by forward second-moment preservation
g = 1/√E[φ(Z)²], or by criticality the σ_w with χ₁ = 1 at σ_b = 0 (mean field).

>>> xavier_variance(100, 300).variance
1/200
>>> he_variance(100, 300, mode="fan_out").variance
1/150
>>> gain("relu", principle="second_moment").value
sqrt(2)
>>> import sympy
>>> n = sympy.Symbol("n", positive=True)
>>> moment_factor("relu", xavier_variance(n, n).variance, fan_in=n).value
1/2
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy

from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad._exact.ball import bits_for_digits, working_precision
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.gaussian_rules import gaussian_expectation
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument
from symgrad.meanfield.criticality import critical_sigma_w
from symgrad.meanfield.kernels import Q, closed_kernels
from symgrad.records import (
    Certified,
    Estimated,
    Exact,
    How,
    Provenances,
    Record,
    Step,
    provenances,
)
from symgrad.types import RealLike

__all__ = [
    "FanMode",
    "Gain",
    "InitVariance",
    "MomentFactor",
    "Principle",
    "gain",
    "he_variance",
    "moment_factor",
    "second_moment",
    "xavier_variance",
]

_SIGMA2 = sympy.Symbol("sigma^2", positive=True)
_N_IN = sympy.Symbol("n_in", positive=True)
_N_OUT = sympy.Symbol("n_out", positive=True)
_V = sympy.Symbol("v", positive=True)
_A = sympy.Symbol("a", positive=True)
_X = sympy.Symbol("x", real=True)
_DIGITS = 30


class FanMode(enum.Enum):
    """Which variance condition He initialization keeps: forward (fan_in) or backward."""
    FAN_IN = "fan_in"
    FAN_OUT = "fan_out"


class Principle(enum.Enum):
    """How a gain is chosen."""
    #: E[(g·φ(Z))²] = 1 for Z ~ N(0, 1): the forward second moment is preserved.
    SECOND_MOMENT = "second_moment"
    #: g = σ_w with χ₁ = 1 at σ_b = 0: gradients neither vanish nor explode (mean field).
    CRITICALITY = "criticality"


def _enum(cls: type[enum.Enum], value: Any, name: str) -> Any:
    try:
        return value if isinstance(value, cls) else cls(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in cls)
        raise InvalidArgument(f"{name} must be one of {allowed}, got {describe(value)}") from None


def _fan(value: Any, name: str) -> sympy.Expr:
    """A positive integer, or a positive SymPy expression (for symbolic derivations)."""
    if isinstance(value, sympy.Basic) and getattr(value, "free_symbols", None):
        if value.is_positive:
            return sympy.sympify(value)
        raise InvalidArgument(f"{name} must be positive, got {describe(value)}")
    n = as_positive_int(value, name)
    if n > _MAX_FAN:
        raise InvalidArgument(f"{name} must be at most {_MAX_FAN:.0e} (a layer's width), got {n}")
    return sympy.Integer(n)


#: The widest fan accepted (far beyond any layer; keeps the exact roots cheap).
_MAX_FAN = 10**15
_SOLVED = provenances(variance=Exact("variance conditions solved by SymPy"))

@dataclass(frozen=True)
class InitVariance(Record):
    """A weight variance, its standard deviation and the matching uniform bound."""
    rule: str
    variance: sympy.Expr
    std: sympy.Expr
    #: a with U(−a, a) of the same variance: a = √(3·variance).
    uniform_bound: sympy.Expr
    steps: tuple[Step, ...] = ()
    provenance: Provenances = _SOLVED

    def __float__(self) -> float:
        return float(self.variance)

    def title(self) -> str:
        return f"{self.rule} initialization"

    def summary(self) -> list[tuple[str, Any]]:
        return [("Var(w)", self.variance), ("std", self.std), ("uniform bound", self.uniform_bound)]


@lru_cache(maxsize=1)
def _conditions() -> dict[str, Any]:
    """The variance conditions, solved once with SymPy."""
    forward = sympy.solve(sympy.Eq(_N_IN * _SIGMA2, 1), _SIGMA2)[0]
    backward = sympy.solve(sympy.Eq(_N_OUT * _SIGMA2, 1), _SIGMA2)[0]
    harmonic = sympy.simplify(2 / (1 / forward + 1 / backward))
    uniform_var = sympy.integrate(_X**2 / (2 * _A), (_X, -_A, _A))
    bound = sympy.solve(sympy.Eq(uniform_var, _SIGMA2), _A)[0]
    pdf = sympy.exp(-_X**2 / (2 * _V)) / sympy.sqrt(2 * sympy.pi * _V)
    relu_sq = sympy.simplify(sympy.integrate(_X**2 * pdf, (_X, 0, sympy.oo)) / _V)
    relu_slope_sq = sympy.simplify(sympy.integrate(pdf, (_X, 0, sympy.oo)))
    he_in = sympy.solve(sympy.Eq(_N_IN * _SIGMA2 * relu_sq, 1), _SIGMA2)[0]
    he_out = sympy.solve(sympy.Eq(_N_OUT * _SIGMA2 * relu_slope_sq, 1), _SIGMA2)[0]
    return {"forward": forward, "backward": backward, "harmonic": harmonic,
            "uniform_var": uniform_var, "bound": bound, "relu_sq": relu_sq,
            "relu_slope_sq": relu_slope_sq, "he_in": he_in, "he_out": he_out}


def _record(rule: str, variance: sympy.Expr, steps: list[Step]) -> InitVariance:
    cond = _conditions()
    bound = sympy.simplify(cond["bound"].subs(_SIGMA2, variance))
    steps.append(Step("U(−a, a) has variance a²/3; match it", sympy.Eq(_A, bound)))
    return InitVariance(rule, variance, sympy.sqrt(variance), bound, tuple(steps))


def xavier_variance(fan_in: Any, fan_out: Any) -> InitVariance:
    """Glorot/Xavier: Var(w) = 2/(n_in + n_out), the harmonic mean of the forward solution
    1/n_in and the backward solution 1/n_out; uniform bound √(6/(n_in + n_out)).
    Reference: Glorot and Bengio 2010.

    >>> xavier_variance(3, 3).uniform_bound
    1
    """
    n_in, n_out = _fan(fan_in, "fan_in"), _fan(fan_out, "fan_out")
    cond = _conditions()
    value = sympy.simplify(cond["harmonic"].subs({_N_IN: n_in, _N_OUT: n_out}))
    steps = [
        Step("forward: n_in·σ² = 1", sympy.Eq(_SIGMA2, cond["forward"])),
        Step("backward: n_out·σ² = 1", sympy.Eq(_SIGMA2, cond["backward"])),
        Step("Glorot's compromise: the harmonic mean of the two",
             sympy.Eq(_SIGMA2, cond["harmonic"])),
    ]
    return _record("Xavier/Glorot", value, steps)


def he_variance(fan_in: Any, fan_out: Any, *, mode: FanMode | str = FanMode.FAN_IN
                ) -> InitVariance:
    """He/Kaiming for relu: 2/n_in (``fan_in``, forward) or 2/n_out (``fan_out``, backward).

    The 2 is 1/E[relu(u)²/Var(u)] = 1/E[relu'(u)²], both 1/2 by SymPy integration.
    Reference: He et al. 2015.

    >>> he_variance(50, 10).variance
    1/25
    """
    n_in, n_out = _fan(fan_in, "fan_in"), _fan(fan_out, "fan_out")
    fan = _enum(FanMode, mode, "mode")
    cond = _conditions()
    steps = [Step("E[relu(u)²] = Var(u)·r for u ~ N(0, v)", sympy.Eq(sympy.Symbol("r"),
                                                                     cond["relu_sq"])),
             Step("E[relu'(u)²]", cond["relu_slope_sq"])]
    if fan is FanMode.FAN_IN:
        steps.append(Step("forward: n_in·σ²·r = 1", sympy.Eq(_SIGMA2, cond["he_in"])))
        value = cond["he_in"].subs(_N_IN, n_in)
    else:
        steps.append(Step("backward: n_out·σ²·E[relu'²] = 1", sympy.Eq(_SIGMA2, cond["he_out"])))
        value = cond["he_out"].subs(_N_OUT, n_out)
    return _record(f"He/Kaiming ({fan.value})", sympy.simplify(value), steps)


# ---- second moments and gains ----


@lru_cache(maxsize=64)
def second_moment(act: Activation | str, *, q: RealLike = 1) -> tuple[sympy.Expr, How]:
    """(E[φ(√q·Z)²], how it was obtained) for Z ~ N(0, 1).

    Exact for the closed-form kernels (identity, leaky_relu, erf) and wherever a Gaussian
    rule proves it (:func:`~symgrad._exact.gaussian_rules.gaussian_expectation`: every
    piece polynomial × e^{az² + bz} — hard_tanh, elu, selu —, parity, Stein's lemma,
    logistic algebra); otherwise an exact reduction plus a certified integral (Arb), its
    value a Float of the proven digits.  Raises :class:`InvalidArgument` when φ² grows
    like e^{cz²} (the moment may diverge).

    >>> second_moment("selu")[0].evalf(20)
    1.0000000000000000000
    >>> value, how = second_moment("tanh")
    >>> str(value)[:12], how.kind.value
    ('0.3942944903', 'certified')
    """
    a = as_activation(act)
    qq = as_exact_real(q, "q", domain=sympy.Interval.open(0, sympy.oo))
    k = closed_kernels(a)
    if k is not None:
        return sympy.simplify(k.V.subs(Q, qq)), Exact("closed-form Gaussian kernel")
    pieces = [(p.lo, p.hi, p.expr**2) for p in a.pieces]
    result = gaussian_expectation(pieces if len(pieces) > 1 else pieces[0][2], q=qq,
                                  digits=_DIGITS)
    return result.value, result.how("value")


def _inverse_sqrt(moment: sympy.Expr, how: How) -> tuple[sympy.Expr, How]:
    """g = m^(−1/2) with its provenance: exact, certified (the enclosure mapped through the
    decreasing m ↦ m^(−1/2)), or estimated (relative error halved)."""
    if isinstance(how, Exact):
        if sympy.count_ops(moment) >= 60:
            # a long closed form (SELU's): building m^(−1/2) would make SymPy's assumptions
            # evaluate it over and over (minutes); keep the power unevaluated
            return sympy.Pow(moment, sympy.Rational(-1, 2), evaluate=False), how
        value = 1 / sympy.sqrt(moment)
        if sympy.count_ops(value) < 60:
            value = sympy.radsimp(value)
        return value, how
    if isinstance(how, Certified):
        lo, hi = sympy.sympify(how.lower), sympy.sympify(how.upper)
        with working_precision(bits_for_digits(_DIGITS)):
            ball = 1 / CertifiedNumber(Fraction(int(lo.p), int(lo.q)),
                                       Fraction(int(hi.p), int(hi.q)), _DIGITS).ball().sqrt()
        number = CertifiedNumber.from_arb(ball, _DIGITS)
        return number.sympy_float(), number.certified(how.method + ", then m^(−1/2)")
    error = how.error if isinstance(how, Estimated) else 0
    value = sympy.Float(1 / sympy.sqrt(moment), _DIGITS)
    return value, Estimated(abs(error / moment) / 2, getattr(how, "method", ""),
                            relative=True)


@dataclass(frozen=True)
class Gain(Record):
    """A gain g (Var(w) = g²/fan_in) for one activation and principle; ``float()`` gives g.

    ``note`` says when the gain sits somewhere special: the degenerate q* = 0 of tanh,
    erf and SELU at σ_b = 0 (the signal variance itself dies out there), or a critical
    point without a fixed point q*.
    """
    activation: str
    principle: Principle
    value: sympy.Expr
    provenance: Provenances
    steps: tuple[Step, ...] = ()
    note: str = ""

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"Gain of {self.activation} by {self.principle.value}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("gain", self.value)]
        return rows + ([("note", self.note)] if self.note else [])


def gain(act: Activation | str, *, principle: Principle | str) -> Gain:
    """The gain of ``act`` by forward second-moment preservation or by criticality.

    ``second_moment``: g = 1/√E[φ(Z)²].  ``criticality``: the σ_w with χ₁ = 1 at σ_b = 0
    (:func:`symgrad.critical_sigma_w`); raises :class:`InvalidArgument` when χ₁ jumps
    across 1 (e.g. gelu, whose iteration from q⁰ = 1 switches from q* = 0 to divergence).
    For tanh, erf and SELU that σ_w sits at the degenerate fixed point q* = 0, and the
    record's ``note`` says so.

    >>> gain("tanh", principle="criticality").value
    1
    >>> gain("leaky_relu", principle="second_moment").value
    100*sqrt(20002)/10001
    """
    a = as_activation(act)
    p = _enum(Principle, principle, "principle")
    if p is Principle.SECOND_MOMENT:
        moment, moment_how = second_moment(a)
        value, how = _inverse_sqrt(moment, moment_how)
        return Gain(a.label, p, value, provenances(value=how), (
            Step("E[φ(Z)²], Z ~ N(0, 1)", moment),
            Step("g = 1/√E[φ(Z)²]", sympy.Eq(sympy.Symbol("g"), value, evaluate=False))))

    point = critical_sigma_w(a, sigma_b=0)
    return Gain(a.label, p, point.sigma_w, provenances(value=point.how("sigma_w")), point.steps,
                point.note)


@dataclass(frozen=True)
class MomentFactor(Record):
    """Per-layer factor of the forward second moment: q_{l+1}/q_l at q_l = ``q``."""
    activation: str
    value: sympy.Expr
    #: True when φ is positively homogeneous, so the factor does not depend on q.
    scale_free: bool
    provenance: Provenances
    steps: tuple[Step, ...] = ()

    def __float__(self) -> float:
        return float(self.value)

    def after(self, depth: RealLike) -> sympy.Expr:
        """The factor after ``depth`` layers (a formula for a symbolic depth)."""
        d = depth if isinstance(depth, sympy.Symbol) else as_exact_real(depth, "depth")
        return self.value**d


def moment_factor(act: Activation | str, variance: Any, *, fan_in: Any, q: RealLike = 1
                  ) -> MomentFactor:
    """q_{l+1}/q_l = n_in·Var(w)·E[φ(√q Z)²]/q (bias-free layer): the mismatch of an
    initialization with an activation, per layer.  Xavier (n_in = n_out = n) with relu:
    n·(1/n)·(1/2) = 1/2, so the second moment halves every layer (2^−L after L layers).
    """
    a = as_activation(act)
    n_in = _fan(fan_in, "fan_in")
    var = sympy.sympify(variance) if isinstance(variance, sympy.Basic) else as_exact_real(
        variance, "variance", domain=sympy.Interval.open(0, sympy.oo))
    k = closed_kernels(a)
    if k is not None and k.linear:
        value = sympy.simplify(n_in * var * k.V / Q)
        return MomentFactor(a.label, value, True, provenances(value=Exact("V₁ of the kernel")), (
            Step("E[φ(u)²] = V₁·q for positively homogeneous φ: the factor is n_in·Var(w)·V₁",
                 value),))
    moment, how = second_moment(a, q=q)
    qq = as_exact_real(q, "q")
    value = sympy.simplify(n_in * var * moment / qq)
    return MomentFactor(a.label, value, False, provenances(value=how), (
        Step(f"n_in·Var(w)·E[φ(√q Z)²]/q at q = {qq}", value),))
