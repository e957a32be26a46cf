"""Beyond the mean: the whole spectrum of the input-output Jacobian of a deep random net.

Convention (the numeric layer simulates exactly this): h_l = W_l φ(h_{l−1}) + b_l,
l = 1 … L, with the input h_0 ~ N(0, q* I_N) a pre-activation at the mean-field fixed
point, so every layer, the first included, sees q*;

    J = ∂h_L/∂h_0 = W_L D_L W_{L−1} D_{L−1} ⋯ W_1 D_1,   D_l = diag(φ'(h_{l−1})),

(D to the right of its W), W_ij ~ N(0, σ_w²/N) (``gaussian``) or W = σ_w·Q, Q Haar
orthogonal (``orthogonal``).  m_k = lim E tr((JJᵀ)^k)/N is computed by free probability
(:mod:`symgrad.spectrum.moments`), m_1 = χ₁^L; the edge λ_max by
:mod:`symgrad.spectrum.edge`; the density by :mod:`symgrad.spectrum.density`
(Pennington, Schoenholz and Ganguli 2017, arXiv:1711.04735; 2018, arXiv:1802.09979).
In the wide limit the spectrum does not depend on where D sits relative to W, so it is
also that of ∂φ(h_L)/∂φ(h_0) = D W ⋯ D W in their papers.

>>> s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=3, density_points=0)
>>> s.moments, s.variance                       # m_2/m_1² − 1 = 2L for Gaussian ReLU
((1, 7, 67, 741), 6)
>>> s.lambda_max
70*sqrt(10)/27 + 223/27
>>> jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=3, weights="orthogonal",
...                   density_points=0).variance
3
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy

from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad.activations import Activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.meanfield import MeanFieldMode, mean_field
from symgrad.records import Exact, How, Provenances, Record, Step
from symgrad.spectrum import _steps
from symgrad.spectrum._compose import compose
from symgrad.spectrum._edge_record import DensitySamples, density_of, edge_of
from symgrad.spectrum._fixed import certified_fixed_point
from symgrad.spectrum._law import scale_free, slope_law
from symgrad.spectrum._mu import slope_moments
from symgrad.spectrum.critical import variance_at
from symgrad.spectrum.moments import MAX_MOMENTS
from symgrad.types import RealLike

__all__ = ["MAX_DEPTH", "JacobianSpectrum", "Weights", "jacobian_spectrum"]

#: Largest integer depth accepted (a symbolic depth has no limit).
MAX_DEPTH = 10**6
_SIGMA_MAX = sympy.Integer(10) ** 6


class Weights(enum.Enum):
    """How the weight matrices are drawn."""
    #: W_ij ~ N(0, σ_w²/N): WWᵀ is Marchenko–Pastur, S(w) = 1/(σ_w²(1 + w)).
    GAUSSIAN = "gaussian"
    #: W = σ_w·Q with Q Haar orthogonal: WWᵀ = σ_w² I, S(w) = 1/σ_w².
    ORTHOGONAL = "orthogonal"


def as_weights(value: Any) -> Weights:
    try:
        return value if isinstance(value, Weights) else Weights(value)
    except ValueError:
        allowed = ", ".join(w.value for w in Weights)
        raise InvalidArgument(f"weights must be one of {allowed}, got {describe(value)}"
                              ) from None


@dataclass(frozen=True)
class JacobianSpectrum(Record):
    """The limiting spectrum of JJᵀ (module docstring for the convention).

    ``moments[k−1]`` = m_k, ``moment_ratios[k−1]`` = m_k/m_1^k, ``variance`` =
    m_2/m_1² − 1, ``lambda_max`` the edge of the support, ``atom_at_zero`` the mass of the
    spectrum at 0 (P(φ'(h) = 0): free multiplicative convolution keeps the largest atom at 0).
    The density is sampled as ``density_log_x`` (ln λ, ascending) and ``density_values``
    (λ·ρ(λ), the density of ln λ), with ``density_errors`` its checks (mass + atom − 1,
    ∫λρ/m_1 − 1, ∫λ²ρ/m_2 − 1).  Empty tuples / None where a quantity does not exist;
    ``statement`` says why.  ``provenance`` keys: ``q_star``, ``chi1``,
    ``slope_moments[k]``, ``moments[k]``, ``moment_ratios[k]``, ``variance``,
    ``lambda_max``, ``density``.
    """

    activation: str
    sigma_w: sympy.Expr
    sigma_b: sympy.Expr
    depth: sympy.Expr
    weights: Weights
    q_star: sympy.Expr
    chi1: sympy.Expr
    degenerate: bool
    statement: str
    slope_moments: tuple[sympy.Expr, ...]
    moments: tuple[sympy.Expr, ...]
    moment_ratios: tuple[sympy.Expr, ...]
    variance: sympy.Expr | None
    lambda_max: sympy.Expr | None
    atom_at_zero: sympy.Expr
    density_log_x: tuple[float, ...]
    density_values: tuple[float, ...]
    density_errors: tuple[float, ...]
    provenance: Provenances
    steps: tuple[Step, ...] = ()
    #: Why the density is absent ("" when it is sampled).
    density_note: str = ""

    def title(self) -> str:
        return (f"Jacobian spectrum of {self.activation}, {self.weights.value} weights, "
                f"σ_w = {self.sigma_w}, σ_b = {self.sigma_b}, depth {self.depth}")

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("q*", self.q_star), ("χ₁", self.chi1)]
        rows += [(f"m_{k}", m) for k, m in enumerate(self.moments, start=1)]
        if self.variance is not None:
            rows.append(("m_2/m_1² − 1", self.variance))
        if self.lambda_max is not None:
            rows.append(("λ_max", self.lambda_max))
        rows.append(("spectrum", self.statement))
        if self.density_note:
            rows.append(("density", self.density_note))
        return rows


def given_fixed_point(a: Activation, sw: sympy.Expr, sb: sympy.Expr, value: Any
                      ) -> tuple[sympy.Expr, How, list[Step]]:
    """A q* given by the caller, accepted when G(q*) = q* is proven in closed form."""
    q = as_exact_real(value, "q_star", domain=sympy.Interval.open(0, _SIGMA_MAX))
    v, how, _ = variance_at(a, q)
    if not isinstance(how, Exact):
        raise InvalidArgument(f"q_star can be given only when E[φ(√q Z)²] has a closed form; "
                              f"for {a.label} it is {how.kind.value}: leave q_star out")
    gap = sympy.simplify(sw**2 * v + sb**2 - q)
    if gap != 0:
        raise InvalidArgument(f"q_star = {q} is not a fixed point of the variance map at these "
                              f"σ_w, σ_b: σ_w²E[φ(√q Z)²] + σ_b² − q = {sympy.N(gap, 6)}")
    step = Step("q* given and checked: σ_w²E[φ(√q* Z)²] + σ_b² − q* simplifies to 0",
                sympy.Eq(sw**2 * v + sb**2, q, evaluate=False))
    return q, Exact("given; G(q*) = q* proven in closed form"), [step]


@lru_cache(maxsize=256)
def _fixed_point(a: Activation, sw: sympy.Expr, sb: sympy.Expr
                 ) -> tuple[sympy.Expr, How, tuple[Step, ...], sympy.Expr]:
    """(q*, how, steps, χ₁ of the mean field) for these σ's, certified where possible —
    the same for every depth and weight law, so computed once."""
    mf = fixed_point_field(a, sw, sb)
    q, how, steps = certified_fixed_point(a, mf)
    return q, how, tuple(steps), mf.chi1


def fixed_point_field(a: Activation, sw: sympy.Expr, sb: sympy.Expr) -> Any:
    """The mean field the spectrum needs: q* (and χ₁) only, exact closed forms for
    positively homogeneous φ, else the fast rule (q* is certified afterwards)."""
    mode = MeanFieldMode.AUTO if scale_free(a) else MeanFieldMode.FAST
    return mean_field(a, sigma_w=sw, sigma_b=sb, mode=mode, correlation=False)


def _no_density(points: int, L: Any, lam: Any, statement: str) -> str:
    if not points:
        return "not sampled (density_points=0)"
    if not isinstance(L, int):
        return "not sampled: a symbolic depth"
    if lam is None:
        return "not sampled: no edge"
    return f"not sampled: {statement.split(':')[0]} (the continuation starts at a soft edge)"


def _depth(value: Any) -> int | sympy.Symbol:
    if isinstance(value, sympy.Symbol):
        if value.is_positive is False:
            raise InvalidArgument(f"a symbolic depth must be positive, got {value}")
        return value
    depth = as_positive_int(value, "depth")
    if depth > MAX_DEPTH:
        raise InvalidArgument(f"depth must be <= {MAX_DEPTH} (or a SymPy symbol), got {depth}")
    return depth


def _count(moments: Any) -> int:
    count = as_positive_int(moments, "moments")
    if count > MAX_MOMENTS:
        raise InvalidArgument(f"moments must be <= {MAX_MOMENTS}, got {count}")
    return count


def _points(value: Any) -> int:
    points = as_positive_int(value, "density_points", minimum=0)
    if points and not 20 <= points <= 4000:
        raise InvalidArgument(f"density_points must be 0 or in [20, 4000], got {points}")
    return points


def jacobian_spectrum(act: Activation | str, *, sigma_w: RealLike, sigma_b: RealLike = 0,
                      depth: int | sympy.Symbol, weights: Weights | str = Weights.GAUSSIAN,
                      moments: int = 4, density_points: int = 300,
                      q_star: RealLike | None = None) -> JacobianSpectrum:
    """Moments m_1 … m_K (K = ``moments`` ≤ 12), m_2/m_1² − 1, λ_max, the atom at 0 and
    the density of JJᵀ for a depth-L net at its mean-field fixed point.

    Exact rationals (or exact algebraic numbers for λ_max) when the slope law is exact
    (relu, leaky_relu with rational α, identity; any φ at q* = 0); ball arithmetic
    otherwise, labelled certified or estimated from the slope moments' own labels.  A SymPy
    symbol as ``depth`` gives m_k as χ₁^{Lk} times a polynomial of degree k − 1 in L, and a
    closed form for λ_max when the law is exact.  ``density_points``: about that many
    samples of the density near the edge and up to as many beyond (0: none; integer depth
    only); a density that fails its own mass / m_1 / m_2 checks by more than 2·10⁻³ is
    withheld and ``density_note`` says why.  Refuses depth > 10⁶ unless symbolic.

    ``q_star``: the fixed point, when it is known exactly (a point of
    :func:`~symgrad.spectrum.critical.critical_point`); accepted only when
    σ_w²E[φ(√q* Z)²] + σ_b² = q* is proven in closed form, and then the slope moments are
    taken there (closed forms for erf, hard_tanh…) instead of at a certified enclosure.
    """
    a = as_activation(act)
    sw = as_exact_real(sigma_w, "sigma_w", domain=sympy.Interval.Lopen(0, _SIGMA_MAX))
    sb = as_exact_real(sigma_b, "sigma_b", domain=sympy.Interval(0, _SIGMA_MAX))
    L = _depth(depth)
    w = as_weights(weights)
    count = _count(moments)
    points = _points(density_points)
    free = scale_free(a)
    if q_star is None:
        q_star, q_how, q_steps, chi1_mf = _fixed_point(a, sw, sb)
    else:
        q_star, q_how, given_steps = given_fixed_point(a, sw, sb, q_star)
        q_steps = tuple(given_steps)
        chi1_mf = sympy.nan
    base = dict(activation=a.label, sigma_w=sw, sigma_b=sb, depth=sympy.sympify(L), weights=w,
                q_star=q_star)
    if (q_star == sympy.oo or q_star is sympy.nan) and not free:
        return JacobianSpectrum(
            **base, chi1=chi1_mf, degenerate=False,
            statement="no spectrum: the forward variance diverges (no finite q*), so φ'(h) "
                      "has no limiting law", slope_moments=(), moments=(), moment_ratios=(),
            variance=None, lambda_max=None, atom_at_zero=sympy.Integer(0), density_log_x=(),
            density_values=(), density_errors=(), provenance=Provenances({"q_star": q_how}),
            steps=(Step("The variance map has no finite fixed point.", q_star),))
    mu = slope_moments(a, q_star if not free else sympy.Integer(1), q_how, max(count, 2))
    if mu.values[0] == 0:
        raise InvalidArgument(f"φ'(h) = 0 almost surely for {a.label} at q* = {q_star}: the "
                              "Jacobian is zero")
    comp = compose(mu, sw, L, max(count, 2), gaussian=w is Weights.GAUSSIAN)
    hows: dict[str, How] = {"q_star": q_how, "chi1": comp.chi1_how,
                            "variance": comp.variance_how}
    for k in range(1, count + 1):
        hows[f"slope_moments[{k}]"] = mu.hows[k - 1]
        hows[f"moments[{k}]"] = comp.moment_hows[k - 1]
        hows[f"moment_ratios[{k}]"] = comp.ratio_hows[k - 1]
    law = slope_law(a, mu.q)
    gaussian = w is Weights.GAUSSIAN
    edge = edge_of(a, mu, law, comp, L, gaussian, q_how, sw)
    lam, statement = edge.lam, edge.kind
    hows["atom_at_zero"] = edge.atom_how
    if lam is not None:
        hows["lambda_max"] = edge.how
    density = DensitySamples((), (), (), None, _no_density(points, L, lam, statement))
    if points and isinstance(L, int) and lam is not None and statement.startswith("soft"):
        density = density_of(law, comp, L, gaussian, points, float(edge.atom))
        if density.how is not None:
            hows["density"] = density.how
    degenerate = bool(mu.degenerate)
    if degenerate:
        statement += ("; q* = 0 (degenerate): the pre-activations shrink to 0 with depth and "
                      "the spectrum is the limit q* → 0⁺, where φ'(h) takes the values "
                      "φ'(0⁻) and φ'(0⁺) with probability ½ each")
    steps = (list(q_steps) + _steps.spectrum_steps(sw, q_star, mu, comp, L, w, count)
             + list(edge.steps))
    return JacobianSpectrum(
        **base, chi1=comp.chi1, degenerate=degenerate, statement=statement,
        slope_moments=mu.values[:count], moments=comp.moments[:count],
        moment_ratios=comp.ratios[:count], variance=comp.variance, lambda_max=lam,
        atom_at_zero=edge.atom, density_log_x=density.log_x, density_values=density.values,
        density_errors=density.errors, provenance=Provenances(hows), steps=tuple(steps),
        density_note=density.note)
