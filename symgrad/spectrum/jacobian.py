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
from typing import Any

import numpy as np
import sympy

from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad._exact.ball import working_precision
from symgrad.activations import Activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.meanfield import MeanFieldMode, mean_field
from symgrad.records import Estimated, Exact, How, Provenances, Record, Step
from symgrad.spectrum import _steps
from symgrad.spectrum._compose import compose, power_times
from symgrad.spectrum._fixed import certified_fixed_point
from symgrad.spectrum._law import scale_free, slope_law
from symgrad.spectrum._mu import SlopeMoments, slope_moments
from symgrad.spectrum._numbers import PREC, from_ball, to_ball
from symgrad.spectrum.density import stieltjes_density
from symgrad.spectrum.edge import edge_ball, exact_edge, numeric_edge
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
        return rows


def fixed_point_field(a: Activation, sw: sympy.Expr, sb: sympy.Expr) -> Any:
    """The mean field the spectrum needs: q* (and χ₁) only, exact closed forms for
    positively homogeneous φ, else the fast rule (q* is certified afterwards)."""
    mode = MeanFieldMode.AUTO if scale_free(a) else MeanFieldMode.FAST
    return mean_field(a, sigma_w=sw, sigma_b=sb, mode=mode, correlation=False)


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
                      moments: int = 4, density_points: int = 300) -> JacobianSpectrum:
    """Moments m_1 … m_K (K = ``moments`` ≤ 12), m_2/m_1² − 1, λ_max, the atom at 0 and
    the density of JJᵀ for a depth-L net at its mean-field fixed point.

    Exact rationals (or exact algebraic numbers for λ_max) when the slope law is exact
    (relu, leaky_relu with rational α, identity; any φ at q* = 0); ball arithmetic
    otherwise, labelled certified or estimated from the slope moments' own labels.  A SymPy
    symbol as ``depth`` gives m_k as χ₁^{Lk} times a polynomial of degree k − 1 in L, and a
    closed form for λ_max when the law is exact.  ``density_points`` samples of the
    density (0: none; integer depth only).  Refuses depth > 10⁶ unless symbolic.
    """
    a = as_activation(act)
    sw = as_exact_real(sigma_w, "sigma_w", domain=sympy.Interval.Lopen(0, _SIGMA_MAX))
    sb = as_exact_real(sigma_b, "sigma_b", domain=sympy.Interval(0, _SIGMA_MAX))
    L = _depth(depth)
    w = as_weights(weights)
    count = _count(moments)
    points = _points(density_points)
    free = scale_free(a)
    mf = fixed_point_field(a, sw, sb)
    q_star, q_how, q_steps = certified_fixed_point(a, mf)
    base = dict(activation=a.label, sigma_w=sw, sigma_b=sb, depth=sympy.sympify(L), weights=w,
                q_star=q_star)
    if (q_star == sympy.oo or q_star is sympy.nan) and not free:
        return JacobianSpectrum(
            **base, chi1=mf.chi1, degenerate=False,
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
    atom, lam, statement, edge_how, edge_steps = _edge(a, mu, law, comp, L, w, q_how)
    if lam is not None:
        hows["lambda_max"] = edge_how
    density: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]] = ((), (), ())
    if points and isinstance(L, int) and lam is not None and statement.startswith("soft"):
        density, density_how = _density(a, mu, law, comp, L, w, points, float(atom))
        hows["density"] = density_how
    degenerate = bool(mu.degenerate)
    if degenerate:
        statement += ("; q* = 0 (degenerate): the pre-activations shrink to 0 with depth and "
                      "the spectrum is the limit q* → 0⁺, where φ'(h) takes the values "
                      "φ'(0⁻) and φ'(0⁺) with probability ½ each")
    steps = q_steps + _steps.spectrum_steps(mf, q_star, mu, comp, L, w, count) + edge_steps
    return JacobianSpectrum(
        **base, chi1=comp.chi1, degenerate=degenerate, statement=statement,
        slope_moments=mu.values[:count], moments=comp.moments[:count],
        moment_ratios=comp.ratios[:count], variance=comp.variance, lambda_max=lam,
        atom_at_zero=atom, density_log_x=density[0], density_values=density[1],
        density_errors=density[2], provenance=Provenances(hows), steps=tuple(steps))


# ---- the edge ----


def _float_law(law: Any) -> tuple[np.ndarray, np.ndarray, float]:
    """(x̃, p, mass at 0) of a law in float64, normalised to mean 1."""
    if law.atoms is not None:
        x = np.array([float(v) for v, _ in law.atoms])
        p = np.array([float(m) for _, m in law.atoms])
    else:
        x, p = law.nodes, law.weights
    mean = float(np.dot(p, x))
    return x / mean, p, float(p[x == 0].sum())


def _edge(a: Activation, mu: SlopeMoments, law: Any, comp: Any, L: int | sympy.Symbol,
          w: Weights, q_how: How) -> tuple[sympy.Expr, sympy.Expr | None, str, How, list[Step]]:
    gaussian = w is Weights.GAUSSIAN
    atoms_exact = law.atoms is not None and mu.exact
    how: How
    if law.atoms is not None and len(law.atoms) == 1 and not gaussian:
        lam, how = power_times(comp.chi1, L, sympy.Integer(1))
        return (sympy.Integer(0), lam, "point mass at χ₁^L: every singular value of J is "
                "χ₁^{L/2} (orthogonal weights and a constant φ'(h): exact isometry)",
                how, [Step("Point mass: λ_max = χ₁^L.", sympy.Eq(
                    sympy.Symbol(r"\lambda_{\max}"), lam))])
    exact_root: tuple[Any, Any] | None = None
    if atoms_exact:
        try:
            exact_root = exact_edge(law.atoms, L, gaussian=gaussian)
        except InvalidArgument:  # irrational coefficients of degree > 2: the float search
            exact_root = None
    if exact_root is not None:
        atom = sum((m for v, m in law.atoms if v == 0), sympy.Integer(0))
        y_c, lam_t = exact_root
        kind = "soft edge" if y_c is not None else "hard edge or atom at the top"
        if isinstance(L, sympy.Symbol):
            if isinstance(lam_t, sympy.Piecewise):
                kind = "soft edge where the turn exists (Piecewise in L)"
            lam = comp.chi1**L * lam_t
            how = Exact("first turn of the inverse M-transform: a closed form in L")
        elif lam_t is not None:
            lam, how = power_times(comp.chi1, L, lam_t)
        else:  # deep: enclose χ₁^L·λ̃ from the exact root

            with working_precision(PREC):
                ball = to_ball(comp.chi1, Exact()) ** L * edge_ball(law.atoms, y_c, L,
                                                                    gaussian=gaussian)
                lam, how = from_ball(ball, certified=True, method="χ₁^L/χ̃(y_c) from the exact "
                                     "root y_c, enclosed by ball arithmetic")
        math = sympy.Eq(sympy.Symbol("y_c"), y_c) if y_c is not None else None
        return (sympy.sympify(atom), lam, kind, how,
                [Step("Edge: λ_max = χ₁^L / sup_y χ̃(y), at the first root y_c of F'(y) = 0.",
                      math),
                 Step("λ_max", sympy.Eq(sympy.Symbol(r"\lambda_{\max}"), lam))])
    x, p, atom0 = _float_law(law)
    if isinstance(L, sympy.Symbol):
        return (sympy.Float(atom0, 15), None, "λ_max in closed form needs an exact slope law; "
                "give an integer depth", comp.chi1_how, [])
    y_c, lam_t = numeric_edge(x, p, L, gaussian=gaussian)
    error = _edge_error(a, mu, law, L, gaussian, lam_t, q_how)
    chi = float(comp.chi1)
    rel_chi = _rel(comp.chi1_how, chi)
    value = chi**L * lam_t
    err = value * (error / lam_t + L * rel_chi)
    kind = "soft edge" if y_c is not None else "hard edge or atom at the top"
    how = Estimated(sympy.Float(err, 3), "first turn of F' on the discretised slope law "
                    "(error: discretisation halved, q* moved by its error)")
    return (sympy.Float(atom0, 15), sympy.Float(value, 15), kind, how,
            [Step("Edge (float64 on the discretised law): λ_max = χ₁^L·λ̃_max.",
                  sympy.Eq(sympy.Symbol(r"\lambda_{\max}"), sympy.Float(value, 12)))])


def _rel(how: How, value: float) -> float:
    if isinstance(how, Estimated):
        return float(how.error) / abs(value)
    if hasattr(how, "lower"):
        return float(how.upper - how.lower) / abs(value)  # type: ignore[union-attr]
    return 0.0


def _edge_error(a: Activation, mu: SlopeMoments, law: Any, L: int, gaussian: bool,
                lam_t: float, q_how: How) -> float:
    coarse = slope_law(a, mu.q, panels=12) if law.atoms is None else law
    x, p, _ = _float_law(coarse)
    error = abs(numeric_edge(x, p, L, gaussian=gaussian)[1] - lam_t)
    if isinstance(q_how, Estimated) and mu.q != 0:
        moved = mu.q * (1 + sympy.Float(float(q_how.error) / float(mu.q) + 1e-12, 17))
        x, p, _ = _float_law(slope_law(a, moved))
        error += abs(numeric_edge(x, p, L, gaussian=gaussian)[1] - lam_t)
    return error + 1e-13 * lam_t * (1 + L)


def _density(a: Activation, mu: SlopeMoments, law: Any, comp: Any, L: int, w: Weights,
             points: int, atom: float) -> tuple[tuple[tuple[float, ...], tuple[float, ...],
                                                      tuple[float, ...]], How]:
    x, p, _ = _float_law(law)
    gaussian = w is Weights.GAUSSIAN
    y_c, lam_t = numeric_edge(x, p, L, gaussian=gaussian)
    if y_c is None:  # pragma: no cover - callers pass soft edges only
        return ((), (), ()), Exact("none")
    d = stieltjes_density(x, p, L, gaussian=gaussian, y_c=y_c, lam=lam_t, points=points,
                          atom=atom, m2=float(comp.ratios[1]))
    shift = L * float(sympy.log(comp.chi1).evalf(20)) if comp.chi1 != 1 else 0.0
    worst = max(abs(e) for e in d.errors)
    how = Estimated(sympy.Float(worst, 3), "Stieltjes inversion, Newton continuation from the "
                    "edge; error: the largest of the mass / m_1 / m_2 checks")
    return (tuple(v + shift for v in d.log_x), d.x_rho, d.errors), how
