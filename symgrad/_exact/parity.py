"""Parity: the even part (g(z) + g(−z))/2 of an expression, in a canonical form.

Z ~ N(0, q) is symmetric, so E[g(Z)] = E[(g(Z) + g(−Z))/2]: the odd part has zero mean.
To *prove* things about the even part (that it is a constant, say) it is written as a
rational function over atoms whose mirror images z → −z are known:

* z ↦ −z;
* exponentials of polynomials, split by degree, e^{b_j·z^j} = U_j ↦ U_j^{(−1)^j} (the
  exponents of one degree must be rational multiples of each other);
* h(u) for an odd h (erf, atan, asinh, sinh, tanh) ↦ −h(u) when u is odd, h(u) when u is
  even; any other function atom f ↦ the atom f(u(−z)).

Hyperbolic functions are first written with exponentials, erfc as 1 − erf, and z-free
constants that are not rational become symbols, so :func:`sympy.cancel` decides the
identity exactly in a polynomial ring.  σ(z) + σ(−z) = 1 is then
u/(u + 1) + 1/(1 + u) = 1 with u = e^z, and GELU's φ'(z) − 1/2 is odd because
erf(−z/√2) = −erf(z/√2) and z·e^{−z²/2} is odd.

>>> from symgrad._core.symbols import z
>>> sigma = 1 / (1 + sympy.exp(-z))
>>> even_part(sigma + z * sigma * (1 - sigma))
1/2
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from symgrad._core.symbols import z
from symgrad.errors import NoClosedForm

__all__ = ["Canonical", "canonical", "even_part", "symmetry"]

_ODD = (sympy.erf, sympy.atan, sympy.asinh, sympy.sinh, sympy.tanh)
_HYPERBOLIC = (sympy.tanh, sympy.sinh, sympy.cosh, sympy.sech, sympy.csch, sympy.coth)


@dataclass(frozen=True)
class Canonical:
    """g = ``form`` with ``back`` substituted; ``mirror`` maps each atom symbol to its image
    under z → −z (as an expression in the atom symbols)."""

    form: sympy.Expr
    back: dict[sympy.Symbol, sympy.Expr]
    mirror: dict[sympy.Symbol, sympy.Expr]

    def reflected(self) -> sympy.Expr:
        return self.form.xreplace(self.mirror)

    def expr(self, form: sympy.Expr) -> sympy.Expr:
        return form.xreplace(self.back)


def _prepare(g: sympy.Expr) -> sympy.Expr:
    g = g.replace(lambda e: isinstance(e, _HYPERBOLIC), lambda e: e.rewrite(sympy.exp))
    return g.replace(lambda e: isinstance(e, sympy.erfc), lambda e: 1 - sympy.erf(e.args[0]))


def _is_odd(u: sympy.Expr) -> bool:
    return bool(sympy.expand(u.subs(z, -z) + u) == 0)


def _is_even(u: sympy.Expr) -> bool:
    return bool(sympy.expand(u.subs(z, -z) - u) == 0)


class _Atoms:
    def __init__(self) -> None:
        self.back: dict[sympy.Symbol, sympy.Expr] = {}
        self.mirror: dict[sympy.Symbol, sympy.Expr] = {}
        self.of: dict[sympy.Expr, sympy.Symbol] = {}
        self.bases: dict[int, tuple[sympy.Expr, sympy.Symbol]] = {}
        self.constants: dict[sympy.Expr, sympy.Symbol] = {}

    def symbol(self, expr: sympy.Expr) -> sympy.Symbol:
        found = self.of.get(expr)
        if found is None:
            found = sympy.Dummy(f"a{len(self.of)}")
            self.of[expr] = found
            self.back[found] = expr
        return found

    def function(self, e: sympy.Expr) -> sympy.Expr:
        atom = self.symbol(e)
        if atom in self.mirror:
            return atom
        u = e.args[0] if len(e.args) == 1 else None
        if u is not None and isinstance(e, _ODD) and _is_odd(u):
            self.mirror[atom] = -atom
        elif all(_is_even(a) for a in e.args):
            self.mirror[atom] = atom
        else:
            image = self.symbol(e.func(*[a.subs(z, -z) for a in e.args]))
            self.mirror[atom], self.mirror[image] = image, atom
        return atom

    def exponential(self, e: sympy.Expr) -> sympy.Expr:
        arg = sympy.expand(e.args[0])
        if not arg.is_polynomial(z):
            return self.function(e)
        poly = sympy.Poly(arg, z)
        out = sympy.exp(poly.coeff_monomial(1))
        for (j,), c in poly.terms():
            if j == 0:
                continue
            out *= self.power(j, c)
        return out

    def power(self, j: int, c: sympy.Expr) -> sympy.Expr:
        """e^{c·z^j} as a power of the degree-j atom U_j = e^{b_j·z^j}."""
        if j not in self.bases:
            atom = self.symbol(sympy.exp(c * z**j))
            self.bases[j] = (c, atom)
            self.mirror[atom] = atom ** ((-1) ** j)
            return atom
        base, atom = self.bases[j]
        ratio = sympy.nsimplify(sympy.simplify(c / base))
        if not ratio.is_Rational:
            raise NoClosedForm(f"exponents {base}·z^{j} and {c}·z^{j} are not commensurable")
        if ratio.q != 1:
            # Re-base on a common divisor: U ↦ V^q with V = e^{(b/q)·z^j}.
            new = self.symbol(sympy.exp(base / ratio.q * z**j))
            self.mirror[new] = new ** ((-1) ** j)
            self.bases[j] = (base / ratio.q, new)
            self.back[atom] = new ** ratio.q
            return new ** ratio.p
        return atom ** ratio.p


def _walk(e: sympy.Expr, atoms: _Atoms) -> sympy.Expr:
    if not e.has(z):
        if e.is_Rational or e.is_Symbol:
            return e
        if e not in atoms.constants:
            atoms.constants[e] = sympy.Dummy(f"c{len(atoms.constants)}")
        return atoms.constants[e]
    if e == z:
        return z
    if isinstance(e, sympy.Add | sympy.Mul):
        return e.func(*[_walk(a, atoms) for a in e.args])
    if isinstance(e, sympy.Pow):
        if e.exp.is_Integer:
            return _walk(e.base, atoms) ** e.exp
        if e.exp.has(z):
            return atoms.exponential(sympy.exp(e.exp * sympy.log(e.base)))
        return atoms.function(e)
    if isinstance(e, sympy.exp):
        return atoms.exponential(e)
    return atoms.function(e)


@lru_cache(maxsize=512)
def canonical(g: sympy.Expr) -> Canonical:
    """g as a rational function over atoms with known mirror images."""
    atoms = _Atoms()
    form = _walk(_prepare(g), atoms)
    # Re-based exponential atoms leave older symbols behind: express them in the new ones.
    form = form.xreplace({a: v for a, v in atoms.back.items() if v.is_Pow})
    back = {a: v for a, v in atoms.back.items() if not v.is_Pow}
    back.update({s: c for c, s in atoms.constants.items()})
    mirror = {z: -z, **{a: m for a, m in atoms.mirror.items() if a in back or a == z}}
    return Canonical(form, back, mirror)


@lru_cache(maxsize=512)
def even_part(g: sympy.Expr) -> sympy.Expr:
    """(g(z) + g(−z))/2, simplified exactly over the atoms (a constant when g − c is odd)."""
    c = canonical(g)
    even = sympy.cancel(sympy.together((c.form + c.reflected()) / 2))
    return sympy.sympify(c.expr(even))


@lru_cache(maxsize=512)
def symmetry(g: sympy.Expr) -> int:
    """+1 when g(−z) = g(z), −1 when g(−z) = −g(z), 0 when neither is proven (decided
    exactly over the canonical form, like :func:`even_part`).

    >>> symmetry(z * sympy.exp(-z**2)), symmetry(sympy.cosh(z)), symmetry(sympy.exp(z))
    (-1, 1, 0)
    """
    try:
        c = canonical(g)
    except NoClosedForm:
        return 0
    mirrored = c.reflected()
    if sympy.cancel(sympy.together(c.form - mirrored)) == 0:
        return 1
    if sympy.cancel(sympy.together(c.form + mirrored)) == 0:
        return -1
    return 0
