"""The edge λ_max and the density of a :class:`~symgrad.spectrum.jacobian.JacobianSpectrum`,
each with its provenance: which algorithm applies, in order of strength.

Edge:

1. one point mass and orthogonal weights: λ_max = χ₁^L, exact (isometry);
2. a point-mass law with exact masses: :func:`symgrad.spectrum.edge.exact_edge` (radicals,
   a ``CRootOf`` or a closed form in a symbolic L), enclosed by ball arithmetic when deep;
3. a point-mass law whose turn has no radical form, or whose masses depend on a certified
   q* (hard_tanh, hard_sigmoid): :func:`symgrad.spectrum._edge_ball.certified_edge`;
4. otherwise (φ' not piecewise constant) the float64 search on the discretised law,
   estimated with the discretisation error (half the panels) and, when q* is estimated,
   the effect of moving q* by its error.

The density is the float64 Stieltjes inversion (:mod:`symgrad.spectrum.density`); it is
kept only when its own checks (mass, m̃_1, m̃_2) agree within :data:`DENSITY_TOLERANCE`,
otherwise withheld with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from symgrad._exact.ball import working_precision
from symgrad.activations import Activation
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Certified, Estimated, Exact, How, Step
from symgrad.spectrum._compose import power_times
from symgrad.spectrum._edge_ball import Q as _Q
from symgrad.spectrum._edge_ball import certified_edge, enclose_in_q, masses_in_q
from symgrad.spectrum._law import exact_form, slope_law
from symgrad.spectrum._mu import SlopeMoments
from symgrad.spectrum._numbers import PREC, from_ball, to_ball
from symgrad.spectrum.density import stieltjes_density
from symgrad.spectrum.edge import edge_ball, exact_edge, numeric_edge
from symgrad.types import FloatArray

__all__ = ["DENSITY_TOLERANCE", "Edge", "density_of", "edge_of"]

#: Largest |mass + atom − 1|, |∫λρ/m_1 − 1|, |∫λ²ρ/m_2 − 1| a kept density may show.
DENSITY_TOLERANCE = 2e-3
_CHECK_POINTS = 240
_LAM = sympy.Symbol(r"\lambda_{\max}")


@dataclass(frozen=True)
class Edge:
    """The atom at 0 and λ_max with their provenance, the kind of edge and the steps."""

    atom: sympy.Expr
    atom_how: How
    lam: sympy.Expr | None
    how: How
    kind: str
    steps: tuple[Step, ...]


def float_law(law: Any) -> tuple[FloatArray, FloatArray, float]:
    """(x̃, p, mass at 0) of a law in float64, normalised to mean 1."""
    if law.atoms is not None:
        x = np.array([float(v) for v, _ in law.atoms])
        p = np.array([float(m) for _, m in law.atoms])
    else:
        x, p = law.nodes, law.weights
    mean = float(np.dot(p, x))
    return x / mean, p, float(p[x == 0].sum())


def edge_of(a: Activation, mu: SlopeMoments, law: Any, comp: Any, L: int | sympy.Symbol,
            gaussian: bool, q_how: How, sigma_w: sympy.Expr) -> Edge:
    """λ_max by the strongest applicable algorithm (module docstring)."""
    if law.atoms is not None and len(law.atoms) == 1 and not gaussian:
        lam, how = power_times(comp.chi1, L, sympy.Integer(1))
        return Edge(sympy.Integer(0), Exact("no atom at 0"), lam, how,
                    "point mass at χ₁^L: every singular value of J is χ₁^{L/2} (orthogonal "
                    "weights and a constant φ'(h): exact isometry)",
                    (Step("Point mass: λ_max = χ₁^L.", sympy.Eq(_LAM, lam)),))
    if law.atoms is not None and mu.exact:
        found = _exact(law, comp, L, gaussian)
        if found is not None:
            return found
    if law.atoms is not None and isinstance(L, int):
        found = _certified(a, mu, law, L, gaussian, q_how, sigma_w)
        if found is not None:
            return found
    if law.atoms is None and isinstance(L, int) and not gaussian:
        found = _top_atom(a, mu, law, L, sigma_w)
        if found is not None:
            return found
    return _estimated(a, mu, law, comp, L, gaussian, q_how)


def _top_atom(a: Activation, mu: SlopeMoments, law: Any, L: int, sigma_w: sympy.Expr
              ) -> Edge | None:
    """Orthogonal weights and an atom of mass m at the top x_max of φ'² (elu: φ' = 1 on
    h > 0 is the maximum): when L·m − (L − 1) ≥ 0 the free product of L copies keeps the
    top — an atom of that mass, or a hard edge when it is 0 (Bercovici–Voiculescu) — so
    λ_max = (σ_w²·x_max)^L exactly."""
    x, p, _ = float_law(law)
    top = float(law.x_max)
    for value, mass in masses_in_q(a):
        if value == 0 or abs(float(value) - top) > 1e-12 * top:
            continue
        m = mass.subs(_Q, mu.q) if mass.free_symbols else mass
        excess = exact_form(L * m - (L - 1)) if not m.free_symbols else None
        if excess is None:
            return None
        if excess.is_number and not excess.is_Rational:
            gap = float(excess)
            if abs(gap) < 1e-9:
                return None  # too close to decide in floating point
            nonnegative = gap > 0
        else:
            nonnegative = bool(excess >= 0)
        if not nonnegative:
            return None
        lam = (sigma_w**2 * value) ** L
        kind = ("atom at the top" if excess != 0 else "hard edge at the top")
        how = Exact(f"an atom of mass m = {sympy.sstr(m)[:40]} at the top of φ'², "
                    "L·m − (L − 1) ≥ 0: the free product keeps the top (Bercovici–Voiculescu)")
        return Edge(sympy.Float(float(p[x == 0].sum()), 15) if (x == 0).any() else
                    sympy.Integer(0), Exact("no atom at 0") if not (x == 0).any() else
                    Estimated(sympy.Float(1e-15, 2), "float64"), lam, how,
                    kind + f": λ_max = (σ_w² x_max)^L = {sympy.sstr(lam)[:30]}",
                    (Step("Top atom kept by the free product: λ_max = (σ_w² x_max)^L",
                          sympy.Eq(_LAM, lam)),))
    return None


def _exact(law: Any, comp: Any, L: int | sympy.Symbol, gaussian: bool) -> Edge | None:
    if not all(v.is_algebraic for atom in law.atoms for v in atom):
        return None  # radicals of transcendental constants: the certified isolation instead
    try:
        y_c, lam_t = exact_edge(law.atoms, L, gaussian=gaussian)
    except InvalidArgument:  # no radical or CRootOf form: the certified isolation
        return None
    atom = sum((m for v, m in law.atoms if v == 0), sympy.Integer(0))
    kind = "soft edge" if y_c is not None else "hard edge or atom at the top"
    how: How
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
    return Edge(sympy.sympify(atom), Exact("P(φ'(h) = 0)"), lam, how, kind,
                (Step("Edge: λ_max = χ₁^L / sup_y χ̃(y), at the first root y_c of F'(y) = 0.",
                      math), Step("λ_max", sympy.Eq(_LAM, lam))))


def _certified(a: Activation, mu: SlopeMoments, law: Any, L: int, gaussian: bool,
               q_how: How, sigma_w: sympy.Expr) -> Edge | None:
    if mu.exact:
        atoms, q = law.atoms, None
    elif isinstance(q_how, Certified):
        atoms = masses_in_q(a)
        q = (_fraction(q_how.lower), _fraction(q_how.upper))
    else:
        return None
    try:
        lam, how = certified_edge(atoms, L, gaussian=gaussian, sigma_w=sigma_w, q=q)
    except NoClosedForm:
        return None
    zero = [p for x, p in atoms if x == 0]
    atom: sympy.Expr = sympy.Integer(0)
    atom_how: How = Exact("φ' never vanishes on a piece")
    if zero and q is None:
        atom, atom_how = zero[0], Exact("P(φ'(h) = 0)")
    elif zero and q is not None:
        atom, atom_how = enclose_in_q(zero[0], q)
    kind = "soft edge" if "no turn" not in how.method else "hard edge at the top atom"
    return Edge(atom, atom_how, lam, how, kind,
                (Step("Edge: λ_max = (σ_w² x_max)^L·exp(−F̂(t_c)), t_c the first root of the "
                      "numerator of F̂' on (0, 1), isolated with a proof that none was missed",
                      sympy.Eq(_LAM, lam)),))


def _fraction(value: Any) -> Fraction:
    e = sympy.Rational(value) if not isinstance(value, sympy.Rational) else value
    return Fraction(int(e.p), int(e.q))


def _estimated(a: Activation, mu: SlopeMoments, law: Any, comp: Any, L: int | sympy.Symbol,
               gaussian: bool, q_how: How) -> Edge:
    x, p, atom0 = float_law(law)
    atom = sympy.Float(atom0, 15)
    atom_how = Estimated(sympy.Float(1e-15, 2), "P(φ'(h) = 0) in float64")
    if isinstance(L, sympy.Symbol):
        return Edge(atom, atom_how, None, comp.chi1_how, "λ_max in closed form needs an exact "
                    "slope law; give an integer depth", ())
    y_c, lam_t = numeric_edge(x, p, L, gaussian=gaussian)
    error = _edge_error(a, mu, law, L, gaussian, lam_t, q_how)
    chi = float(comp.chi1)
    value = chi**L * lam_t
    err = value * (error / lam_t + L * _rel(comp.chi1_how, chi))
    kind = "soft edge" if y_c is not None else "hard edge or atom at the top"
    how = Estimated(sympy.Float(err, 3), "first turn of F' on the discretised slope law "
                    "(error: discretisation halved" + (", q* moved by its error)"
                                                      if isinstance(q_how, Estimated) else ")"))
    return Edge(atom, atom_how, sympy.Float(value, 15), how, kind,
                (Step("Edge (float64 on the discretised law): λ_max = χ₁^L·λ̃_max.",
                      sympy.Eq(_LAM, sympy.Float(value, 12))),))


def _rel(how: How, value: float) -> float:
    if isinstance(how, Estimated):
        return float(how.error) / (1.0 if how.relative else abs(value))
    if isinstance(how, Certified):
        return float(how.upper - how.lower) / abs(value)
    return 0.0


def _edge_error(a: Activation, mu: SlopeMoments, law: Any, L: int, gaussian: bool,
                lam_t: float, q_how: How) -> float:
    coarse = slope_law(a, mu.q, panels=12) if law.atoms is None else law
    x, p, _ = float_law(coarse)
    error = abs(numeric_edge(x, p, L, gaussian=gaussian)[1] - lam_t)
    if isinstance(q_how, Estimated) and mu.q != 0:
        rel = float(q_how.error) / (1.0 if q_how.relative else float(mu.q))
        moved = mu.q * (1 + sympy.Float(rel + 1e-12, 17))
        x, p, _ = float_law(slope_law(a, moved))
        error += abs(numeric_edge(x, p, L, gaussian=gaussian)[1] - lam_t)
    return error + 1e-13 * lam_t * (1 + L)


# ---- the density ----


@dataclass(frozen=True)
class DensitySamples:
    """ln λ grid, λ·ρ(λ), the three checks, its provenance and why it may be withheld."""

    log_x: tuple[float, ...]
    values: tuple[float, ...]
    errors: tuple[float, ...]
    how: How | None
    note: str


def density_of(law: Any, comp: Any, L: int, gaussian: bool, points: int,
               atom: float) -> DensitySamples:
    """The density of ln λ on a grid, checked, or withheld with the reason (module
    docstring)."""
    x, p, _ = float_law(law)
    if not gaussian:
        values, index = np.unique(x, return_inverse=True)
        masses = np.bincount(index, weights=p)
        heavy = float(masses[values > 0].max())
        if heavy >= 1.0 - 1.0 / L - 1e-12:
            return DensitySamples((), (), (), None, (
                f"withheld: φ'² has an atom of mass {heavy:.3g} ≥ 1 − 1/L, so the free "
                "product of L copies keeps an atom or a singular point inside the spectrum "
                "(Bercovici–Voiculescu), which the continuation from the edge does not "
                "resolve"))
    y_c, lam_t = numeric_edge(x, p, L, gaussian=gaussian)
    if y_c is None:  # pragma: no cover - callers pass soft edges only
        return DensitySamples((), (), (), None, "no soft edge to start from")
    # The checks integrate the samples: they need a grid of a few hundred points whatever
    # the caller asked for; the samples returned are thinned to about ``points``.
    d = stieltjes_density(x, p, L, gaussian=gaussian, y_c=y_c, lam=lam_t,
                          points=max(points, _CHECK_POINTS), atom=atom,
                          m2=float(comp.ratios[1]))
    worst = max(abs(e) for e in d.errors)
    if not worst <= DENSITY_TOLERANCE:
        return DensitySamples((), (), d.errors, None, (
            f"withheld: the Stieltjes inversion failed its own checks (mass + atom − 1 = "
            f"{d.errors[0]:.2g}, ∫λρ/m_1 − 1 = {d.errors[1]:.2g}, ∫λ²ρ/m_2 − 1 = "
            f"{d.errors[2]:.2g}; tolerance {DENSITY_TOLERANCE:g})"))
    shift = L * float(sympy.log(comp.chi1).evalf(20)) if comp.chi1 != 1 else 0.0
    how = Estimated(sympy.Float(worst, 3), "Stieltjes inversion, Newton continuation from the "
                    "edge; error: the largest of the mass / m_1 / m_2 checks")
    keep = np.unique(np.linspace(0, len(d.log_x) - 1, min(len(d.log_x), 2 * points)
                                 ).round().astype(int))
    return DensitySamples(tuple(d.log_x[i] + shift for i in keep),
                          tuple(d.x_rho[i] for i in keep), d.errors, how, "")
