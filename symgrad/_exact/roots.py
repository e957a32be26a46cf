"""Roots of f(z) = 0 on an interval, exactly, when SymPy can prove them all.

The numerator of f is factored; exponential factors are never zero; polynomial
factors give their real roots exactly (radicals or ``CRootOf``); factors that are
rational in u = exp(k·z) (or exp(k·z²)) are solved as polynomials in u and mapped back
with a logarithm.  The root set is complete because each substitution is a bijection
onto u > 0.  When this does not apply, :mod:`symgrad._exact.isolate` certifies them.

>>> exact_roots(z**2 - 2, 0, sympy.oo)
[sqrt(2)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy

from symgrad._core.symbols import z
from symgrad._exact.combine import together
from symgrad._exact.signs import numeric, sign_of

__all__ = ["exact_roots", "symbolic_roots"]


def _quadratic_roots(
    a: sympy.Expr, b: sympy.Expr, c: sympy.Expr, at: dict[Any, Any] | None = None
) -> list[sympy.Expr] | None:
    """Real roots of a·x² + b·x + c without cancellation: with q = −(b + sign(b)·√D)/2 the
    roots are q/a and c/q (the textbook ± form loses 2·log10(1/ε) digits in
    2 − ε − 2√(1 − ε), the small root of the tanh saturation equation).  With symbolic
    coefficients, signs are decided at the parameter values ``at``."""
    at = at or {}
    disc = sympy.expand(b**2 - 4 * a * c)
    sign_d = sign_of(disc.subs(at))
    if sign_d is None:
        return None
    if sign_d < 0:
        return []
    # SymPy factors integers under a square root; for 100-digit discriminants that is slow
    # and can fail, so a big integer's root stays unevaluated (it is exact either way).
    big = disc.is_Integer and abs(disc) > 10**40
    root_d = sympy.Pow(disc, sympy.Rational(1, 2), evaluate=not big)
    if sign_d == 0:
        return [sympy.nsimplify(-b / (2 * a)) if (-b / (2 * a)).is_Rational else -b / (2 * a)]
    sign_b = sign_of(b.subs(at))
    if sign_b is None:
        return None
    q = -(b + (1 if sign_b >= 0 else -1) * root_d) / 2
    # cancel() only clears sign pairs such as −1/(−49 − 20√6); it does not rationalise.
    return [sympy.cancel(q / a), sympy.cancel(c / q)]


def _real_poly_roots(poly_expr: sympy.Expr, var: sympy.Symbol) -> list[sympy.Expr] | None:
    poly = sympy.Poly(poly_expr, var)
    if poly.degree() <= 0:
        return [] if not poly.is_zero else None
    if poly.degree() == 2:
        return _quadratic_roots(*poly.all_coeffs())
    if all(c.is_Rational for c in poly.all_coeffs()):
        return list(dict.fromkeys(poly.real_roots()))
    found = sympy.roots(poly, multiple=False)
    if sum(found.values()) != poly.degree():
        return None
    real = []
    for r in found:
        im = sympy.im(numeric(r))
        if abs(im) < sympy.Float(10) ** -50:
            real.append(sympy.re(r) if r.is_real is not True else r)
    return real


def _exp_substitution(f: sympy.Expr) -> tuple[sympy.Expr, sympy.Symbol, sympy.Expr, int] | None:
    """Write f as g(u) with u = exp(k·z**m), m ∈ {1, 2}; None when f is not of that shape."""
    exps = [a for a in f.atoms(sympy.exp) if a.has(z)]
    if not exps:
        return None
    coeffs: list[sympy.Expr] = []
    power = None
    for atom in exps:
        arg = sympy.expand(atom.args[0])
        for m in (1, 2):
            c = sympy.cancel(arg / z**m)
            if not c.has(z):
                break
        else:
            return None
        if power not in (None, m):
            return None
        power = m
        coeffs.append(c)
    if power is None:
        return None
    base = coeffs[0]
    ratios = [sympy.nsimplify(c / base) for c in coeffs]
    if not all(r.is_Rational for r in ratios):
        return None
    denom = sympy.ilcm(*[r.q for r in ratios]) if len(ratios) > 1 else ratios[0].q
    k = base / denom
    u = sympy.Dummy("u", positive=True)
    g = f.subs({atom: u ** (r * denom) for atom, r in zip(exps, ratios, strict=True)})
    if g.has(z):
        return None
    return g, u, k, power


def exact_roots(f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> list[sympy.Expr] | None:
    """Every root of f in the open interval (lo, hi), exactly, or None if not derivable."""
    lo, hi = sympy.sympify(lo), sympy.sympify(hi)
    f = together(f.rewrite(sympy.exp))
    num, den = sympy.fraction(f)
    num = sympy.factor_terms(sympy.expand(num))
    candidates: list[sympy.Expr] = []
    for factor in sympy.Mul.make_args(num):
        base = factor.base if factor.is_Pow and factor.exp.is_positive else factor
        if not base.has(z):
            if sympy.simplify(base) == 0:
                return None  # identically zero: no isolated roots to speak of
            continue
        if isinstance(base, sympy.exp):
            continue  # never zero
        found = _real_poly_roots(base, z) if base.is_polynomial(z) else _solve_in_exp(base)
        if found is None:
            return None
        candidates += found
    inside = [r for r in dict.fromkeys(candidates) if _strictly_inside(r, lo, hi)]
    # Denominator zeros are not roots; a root must make |f| tiny at high precision.
    result = []
    for r in inside:
        if abs(numeric(den.subs(z, r), 50)) < sympy.Float(10) ** -40:
            continue
        result.append(r)
    return sorted(result, key=lambda r: numeric(r))


def _solve_in_exp(base: sympy.Expr) -> list[sympy.Expr] | None:
    shape = _exp_substitution(base)
    if shape is None:
        return None
    g, u, k, power = shape
    gnum, _ = sympy.fraction(sympy.together(g))
    gnum = sympy.expand(gnum)
    if not gnum.is_polynomial(u):
        return None
    # Negative powers of u were cleared by together(); roots u > 0 map back to z.
    roots_u = _real_poly_roots(gnum, u)
    if roots_u is None:
        return None
    out = []
    for r in roots_u:
        positive = sign_of(r)
        if positive is None:
            return None  # undecidable here: let the certified path handle it
        if positive <= 0:
            continue
        # log(1/x) written −log(x): the threshold of the far side reads as a plain log.
        t = (-sympy.log(1 / r) if r.is_Pow and r.exp == -1 else sympy.log(r)) / k
        # No simplify(): it would rationalise q/a, c/q back into a cancelling difference.
        if power == 1:
            out.append(t)
        elif (sign_of(t) or 0) >= 0:
            s = sympy.sqrt(t)
            out += [s, -s] if s != 0 else [s]
    return out


def symbolic_roots(
    f: sympy.Expr, parameter: sympy.Symbol, value: sympy.Expr, known: list[sympy.Expr]
) -> list[sympy.Expr] | None:
    """Roots of f as closed forms in ``parameter``, one per root in ``known`` (the exact
    roots of f at parameter = value); None unless every known root has a formula.

    The same substitutions as :func:`exact_roots`, with the branch of each formula chosen
    by evaluating it at ``value``: the result is valid on the parameter interval around
    ``value`` where the branches stay real and distinct.
    """
    shape = _parametric_shape(f)
    if shape is None:
        return None
    formulas = list(shape.formulas)
    if shape.poly is not None:
        found: Sequence[sympy.Expr] | None = shape.roots
        if shape.poly.degree() == 2:
            a, b, c = shape.poly.all_coeffs()
            found = _quadratic_roots(a, b, c, at={parameter: value})
        for r in found or []:
            # log(1/x) written −log(x): the threshold of the far side reads as a plain log.
            t = (-sympy.log(1 / r) if r.is_Pow and r.exp == -1 else sympy.log(r)) / shape.k
            formulas += [t] if shape.power == 1 else [sympy.sqrt(t), -sympy.sqrt(t)]
    # each formula at ``value``, evaluated once for all the known roots
    values = [numeric(fm.subs(parameter, value), 50) for fm in formulas] if known else []
    chosen = []
    for root in known:
        target = numeric(root, 50)
        match = [fm for fm, v in zip(formulas, values, strict=True)
                 if abs(v - target) <= sympy.Float(10) ** -40 * max(1, abs(target))]
        if not match:
            return None
        # no simplify(): a cold call would pay seconds (it imports sympy.physics)
        chosen.append(match[0])
    return chosen


@dataclass(frozen=True)
class _Shape:
    """What :func:`symbolic_roots` derives from f alone, whatever the parameter's value:
    the roots of a rational f (``formulas``), or the polynomial in u = exp(k·z^power)
    whose roots give them (``poly``, with ``roots`` unless it is a quadratic, whose
    stable form needs signs at the parameter's value)."""

    formulas: tuple[sympy.Expr, ...]
    poly: sympy.Poly | None = None
    roots: tuple[sympy.Expr, ...] = ()
    k: sympy.Expr = sympy.S.One
    power: int = 1


@lru_cache(maxsize=256)
def _parametric_shape(f: sympy.Expr) -> _Shape | None:
    """The parameter-free part of :func:`symbolic_roots` (once per f and process: the
    saturation boundary in ε is asked for at several ε)."""
    f = sympy.together(f.rewrite(sympy.exp))
    num, _ = sympy.fraction(f)
    expanded = sympy.expand(num)
    if expanded.is_polynomial(z) and 0 < sympy.degree(expanded, z) <= 2:
        # a rational piece (softsign): the quadratic's two roots, z = 1 ± 1/√ε
        formulas = tuple(sympy.roots(sympy.Poly(expanded, z), multiple=True))
        if formulas:
            return _Shape(formulas)
    shape = _exp_substitution(sympy.factor_terms(expanded))
    if shape is None:
        return None
    g, u, k, power = shape
    gnum = sympy.expand(sympy.fraction(sympy.together(g))[0])
    if not gnum.is_polynomial(u) or sympy.degree(gnum, u) > 4:
        return None
    poly = sympy.Poly(gnum, u)
    found = () if poly.degree() == 2 else tuple(sympy.roots(poly, multiple=True))
    return _Shape((), poly, found, k, power)


def _strictly_inside(r: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> bool:
    value = numeric(r)
    if not value.is_real or not value.is_finite:
        return False
    above = lo == -sympy.oo or value > numeric(lo)
    below = hi == sympy.oo or value < numeric(hi)
    return bool(above and below)
