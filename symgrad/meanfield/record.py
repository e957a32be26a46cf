"""The mean-field record and the rules that read its numbers: the phase, the depth
scales and the fixed-point statement (shared by the exact and the numeric solvers).

>>> phase_of(sympy.Rational(1, 2), 0.0).value, depth_scale(sympy.Rational(1, 2))
('ordered', 1/log(2))
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy

from symgrad._core.validate import describe
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.enclose import constant_number
from symgrad._exact.signs import sign_of
from symgrad.errors import InvalidArgument
from symgrad.records import (
    Estimated,
    Exact,
    How,
    Provenances,
    Record,
    Step,
)

__all__ = [
    "NUMBERS",
    "MeanField",
    "MeanFieldMode",
    "Phase",
    "VarianceFixedPoint",
    "as_mode",
    "depth_scale",
    "float_number",
    "gradient_note",
    "phase_of",
    "provenance_of",
    "statement",
]


class VarianceFixedPoint(enum.Enum):
    """What the variance map's iteration from q⁰ does."""

    #: It converges to a finite q* (possibly 0).
    FINITE = "finite"
    #: G(q) = q on a whole interval (e.g. relu with σ_w² = 2, σ_b = 0): q* = q⁰, neutrally.
    MARGINAL = "marginal"
    #: q grows without bound: no finite fixed point.
    DIVERGES = "diverges"


class MeanFieldMode(enum.Enum):
    """How mean-field quantities are computed."""

    AUTO = "auto"
    EXACT = "exact"
    FAST = "fast"
    PRECISE = "precise"


class Phase(enum.Enum):
    """Order-to-chaos phase, by χ₁ (and, above 1, by what the correlations do)."""

    #: χ₁ < 1: gradients vanish, correlations converge to c* = 1.
    ORDERED = "ordered"
    #: χ₁ = 1.
    CRITICAL = "critical"
    #: χ₁ > 1 with a stable correlation fixed point c* < 1: nearby inputs decorrelate.
    CHAOTIC = "chaotic"
    #: χ₁ > 1 without decorrelation (positively homogeneous φ such as ReLU: the
    #: correlation map has slope 1 at c = 1): variance and gradients explode, correlations
    #: still converge to 1 — there is no chaotic phase.
    EXPLODING = "exploding"


def as_mode(mode: Any) -> MeanFieldMode:
    try:
        return mode if isinstance(mode, MeanFieldMode) else MeanFieldMode(mode)
    except ValueError:
        allowed = ", ".join(m.value for m in MeanFieldMode)
        raise InvalidArgument(f"mode must be one of {allowed}, got {describe(mode)}") from None


@dataclass(frozen=True)
class MeanField(Record):
    """Mean-field fixed point, gradient factor, depth scales and phase of one (φ, σ_w, σ_b).

    Numbers are SymPy numbers (``float()`` works): exact closed forms where they exist,
    otherwise Floats whose estimated relative errors are in ``provenance``
    (:meth:`error`).  ``q_star`` is
    ∞ when the variance diverges; the correlation quantities are then NaN.
    """

    activation: str
    sigma_w: sympy.Expr
    sigma_b: sympy.Expr
    q0: sympy.Expr
    mode: MeanFieldMode
    fixed_point: VarianceFixedPoint
    q_star: sympy.Expr
    chi1: sympy.Expr
    c_star: sympy.Expr
    chi_c: sympy.Expr
    xi_c: sympy.Expr
    xi_grad: sympy.Expr
    phase: Phase
    provenance: Provenances
    statement: str
    steps: tuple[Step, ...] = ()
    #: What the numbers mean where they could mislead: a negative ξ_∇ (growth), a
    #: degenerate q* = 0, a critical χ₁ without a fixed point, no decorrelation.
    notes: tuple[str, ...] = ()

    def title(self) -> str:
        return f"Mean field of {self.activation} at σ_w = {self.sigma_w}, σ_b = {self.sigma_b}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("q*", self.q_star), ("χ₁", self.chi1), ("c*", self.c_star),
                ("χ_c*", self.chi_c), ("ξ_c", self.xi_c), ("ξ_∇", self.xi_grad),
                ("phase", self.phase.value), ("fixed point", self.statement),
                *(("note", note) for note in self.notes)]

    def error(self, name: str) -> float:
        """Estimated relative error of one field (0 for exact values)."""
        how = self.provenance.get(name)
        return float(how.error) if isinstance(how, Estimated) else 0.0



def depth_scale(chi: sympy.Expr) -> sympy.Expr:
    """−1/ln χ: ∞ at χ = 1, 0 at χ = 0, NaN for NaN."""
    if chi is sympy.nan or chi == sympy.oo:
        return sympy.nan if chi is sympy.nan else sympy.Integer(0)
    if chi.is_Float and mpmath.libmp.mpf_sign(chi._mpf_) > 0:
        # A Float is an exact binary number: its logarithm to 80 bits by mpmath's
        # kernel, without building and evaluating a SymPy log (a fast-mode record's
        # hot path).
        log = mpmath.libmp.to_float(mpmath.libmp.mpf_log(chi._mpf_, 80))
        return sympy.oo if log == 0 else sympy.Float(-1 / log, 17)
    if chi == 1:
        return sympy.oo
    if chi.is_zero:  # also Float(0.0), which is not == 0 in SymPy
        return sympy.Integer(0)
    if chi.is_Float:
        log = float(sympy.log(chi).evalf(20))
        return sympy.oo if log == 0 else sympy.Float(-1 / log, 17)
    return -1 / sympy.log(chi)


def _text6(value: sympy.Expr) -> str:
    """``value`` to 6 proven digits: a Float is an exact binary fraction, so its point
    enclosure needs no Arb evaluation."""
    if value.is_Float:
        sign, man, exp, _ = value._mpf_
        exact = Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)
        return CertifiedNumber.exact(-exact if sign else exact, 6).text()
    return constant_number(value, 6).text()


def gradient_note(chi1: sympy.Expr, xi_grad: sympy.Expr) -> str | None:
    """What a negative ξ_∇ means: E‖δ_l‖² grows by χ₁ per layer towards the input,
    e-folding every |ξ_∇| layers (None when ξ_∇ is not negative).

    >>> gradient_note(sympy.Integer(2), depth_scale(sympy.Integer(2)))[:40]
    'ξ_∇ = −1/ln χ₁ < 0 because χ₁ > 1: the g'
    """
    if xi_grad is sympy.nan or not xi_grad.is_number or xi_grad == sympy.oo:
        return None
    if chi1 is sympy.nan or chi1 == sympy.oo:
        return None
    above = (mpmath.libmp.mpf_cmp(chi1._mpf_, mpmath.libmp.fone) if chi1.is_Float
             else sign_of(chi1 - 1) or 0)
    if above <= 0:
        return None
    # Arb, not evalf: SymPy divides by zero evaluating 1/log(1 + 10⁻¹⁷)
    e_fold = _text6(-xi_grad)
    return (f"ξ_∇ = −1/ln χ₁ < 0 because χ₁ > 1: the gradient's second moment grows (it "
            f"does not decay) by the factor χ₁ = {_text6(chi1)} per layer "
            f"towards the input, e-folding every |ξ_∇| ≈ {e_fold} layers")


def phase_of(chi1: sympy.Expr, err: float) -> Phase:
    if chi1 is sympy.nan:
        raise InvalidArgument("χ₁ is undefined here (φ' has no limit at infinity)")
    if chi1 == sympy.oo:
        return Phase.CHAOTIC
    gap = chi1 - 1
    # Floats: the estimate, and at least the rounding of σ_w²·s (a few ulps).
    if gap == 0 or (chi1.is_Float and abs(float(gap)) <= max(err, 1e-14) * abs(float(chi1))):
        return Phase.CRITICAL
    return Phase.ORDERED if gap < 0 else Phase.CHAOTIC


def float_number(value: float) -> sympy.Expr:
    if math.isnan(value):
        return sympy.nan
    if math.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    return sympy.Float(value, 17)


#: The numbers of a mean-field record that carry a provenance.
NUMBERS = ("q_star", "chi1", "c_star", "chi_c")


def provenance_of(errors: dict[str, float], *, exact: str | None, method: str,
                  proven: dict[str, str] | None = None) -> Provenances:
    """Provenance of a record's numbers: ``proven`` maps names to the rule that makes them
    exact; those with a relative error estimate in ``errors`` are estimated; the others
    exact (by the rule ``exact``) when ``exact`` is given, else estimated at float64's
    resolution.  ξ's follow χ's."""
    hows: dict[str, How] = {}
    for name in NUMBERS:
        if proven and name in proven:
            hows[name] = Exact(proven[name])
        elif name in errors:
            # never below float64's resolution, the working precision of the fast modes
            hows[name] = Estimated(max(errors[name], 2.0**-52), method, relative=True)
        elif exact is not None:
            hows[name] = Exact(exact)
        else:
            hows[name] = Estimated(2.0**-52, method, relative=True)
    hows["xi_c"], hows["xi_grad"] = hows["chi_c"], hows["chi1"]
    return Provenances(hows)


def statement(fp: VarianceFixedPoint, act: str, rate: sympy.Expr | None) -> str:
    if fp is VarianceFixedPoint.MARGINAL:
        return (f"marginal: G(q) = q on a whole interval for {act}, so every q is a fixed "
                "point and q* stays at q⁰")
    if fp is VarianceFixedPoint.DIVERGES:
        more = "" if rate is None else f" (q grows by a factor → {sympy.sstr(rate)} per layer)"
        return f"no finite fixed point: the variance grows without bound{more}"
    return "finite fixed point"
