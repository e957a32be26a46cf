"""How steep is φ?  The supremum of |φ'|, saturation regions, φ'(z₀) and Gaussian slopes.

The per-layer factor of backpropagation is w·φ'(z), so |w·φ'(z)| ≤ |w|·γ with
γ = sup |φ'| (Hochreiter 1991; Bengio, Simard and Frasconi 1994).  Every function
here returns a frozen record that says how its numbers were obtained: ``exact`` (a
SymPy closed form) or certified numeric (a root bracketed by a verified sign change
and ≥ 30 significant digits; see :mod:`symgrad._exact.roots`).

>>> from symgrad import activation, max_slope, saturation
>>> m = max_slope("sigmoid")
>>> m.value, m.at, m.attained, m.exact
(1/4, 0, True, True)
>>> saturation("tanh", 0.01).right_threshold
log(60*sqrt(11) + 199)/2
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import sympy

from symgrad._core.symbols import EPSILON, z
from symgrad._core.validate import as_exact_real, as_positive_int
from symgrad._exact.roots import (
    WINDOW,
    certified_roots,
    enclosure_bounds,
    exact_roots,
    freeze_constants,
    interval,
    iv_function,
    numeric,
    symbolic_roots,
)
from symgrad.activations.record import Activation, Piece, one_sided_limit
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Record, Step
from symgrad.types import RealLike

__all__ = [
    "EPSILON",
    "ExpectedSlope",
    "MaxSlope",
    "PointSlope",
    "Reach",
    "Saturation",
    "expected_slope",
    "max_slope",
    "saturation",
    "slope",
]

_DIGITS = 40  # digits kept for certified numbers (≥ 30 promised)
_PHI = sympy.Function("varphi")(z)
_PRIME = sympy.Derivative(_PHI, z)
_SECOND = sympy.Derivative(_PHI, (z, 2))
_TIE = mpmath.mpf(10) ** -35


class Reach(enum.Enum):
    """How the supremum of |φ'| is reached."""

    #: Attained at the point ``at``.
    POINT = "point"
    #: Attained on a whole interval; ``at`` is its end nearest 0.
    INTERVAL = "interval"
    #: Approached as z → at from the left (a kink); not attained.
    LEFT_LIMIT = "left limit"
    #: Approached as z → at from the right (a kink); not attained.
    RIGHT_LIMIT = "right limit"
    #: Approached as z → ±∞ (``at`` is ``sympy.oo`` or ``-sympy.oo``); not attained.
    INFINITY = "infinity"


@dataclass(frozen=True)
class _Candidate:
    value: sympy.Expr  # |φ'| there (exact, or a Float)
    approx: mpmath.mpf
    at: sympy.Expr
    reach: Reach
    exact: bool
    where: sympy.Set  # points where |φ'| equals value (empty when not attained)

    @property
    def attained(self) -> bool:
        return bool(self.where != sympy.S.EmptySet)


def _hp(expr: sympy.Expr) -> mpmath.mpf:
    """A 60-digit value (±∞ allowed)."""
    if expr in (sympy.oo, -sympy.oo):
        return mpmath.inf if expr == sympy.oo else -mpmath.inf
    with mpmath.workdps(60):
        return mpmath.mpf(numeric(expr))


def _abs_exact(value: sympy.Expr) -> sympy.Expr:
    return -value if _hp(value) < 0 else value


def _float(value: mpmath.mpf) -> sympy.Float:
    return sympy.Float(mpmath.nstr(value, _DIGITS, min_fixed=-1, max_fixed=1), _DIGITS)


# ---- sup |φ'| ----


@dataclass(frozen=True)
class MaxSlope(Record):
    """sup over the reals of |φ'(z)|, where it is reached, and how it was obtained.

    ``value`` and ``at`` are SymPy numbers (``at`` is ±``sympy.oo`` for a supremum
    approached at ±∞); ``attained`` says whether some z has |φ'(z)| = value; ``exact``
    whether ``value`` is a closed form (else a certified number with ``value_bracket``).
    ``argmax`` is the set where the sup is attained.  At a kink φ' is the value of the
    piece containing it (:attr:`Activation.derivative`, as in the NumPy kernels and the
    deep-learning frameworks), so SELU's sup λα is attained at 0 (its left limit).
    """

    activation: str
    value: sympy.Expr
    at: sympy.Expr
    reach: Reach
    attained: bool
    exact: bool
    argmax: sympy.Set
    value_bracket: tuple[sympy.Float, sympy.Float] | None
    tails: str
    steps: tuple[Step, ...]

    @property
    def side(self) -> Reach:
        """Alias of :attr:`reach`."""
        return self.reach

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"sup |φ'| for {self.activation}"

    def summary(self) -> list[tuple[str, Any]]:
        where = "∞" if self.at == sympy.oo else "-∞" if self.at == -sympy.oo else self.at
        return [
            ("sup |φ'|", self.value),
            ("reached", f"{self.reach.value} at z = {where}"),
            ("attained", "yes" if self.attained else "no"),
            ("method", "exact" if self.exact else "certified numeric"),
        ]


def max_slope(act: Activation | str) -> MaxSlope:
    """The supremum over the reals of |φ'|, exactly where SymPy can prove it.

    Candidates are the critical points of φ' inside each smooth piece (roots of φ''),
    the one-sided limits at kinks, smooth joins, and the limits at ±∞; the largest
    |φ'| wins, so a negative lobe or a tie cannot fool it.

    >>> m = max_slope("gelu")
    >>> m.at, m.exact, round(float(m.value), 6)
    (sqrt(2), True, 1.128904)
    >>> m = max_slope("softplus")
    >>> m.value, m.at, m.attained
    (1, oo, False)
    """
    return _max_slope(as_activation(act))


@lru_cache(maxsize=256)
def _max_slope(act: Activation) -> MaxSlope:
    candidates: list[_Candidate] = []
    steps = [
        Step("Differentiate φ.", sympy.Eq(_PRIME, act.derivative, evaluate=False)),
        Step(
            "Away from kinks, |φ'| is largest at a root of φ'', at a piece's end, or at ±∞.",
            sympy.Eq(_SECOND, act.second_derivative, evaluate=False),
        ),
    ]
    tails_proven = True
    for piece in act.pieces:
        found, proven, step = _piece_candidates(piece)
        candidates += found
        tails_proven &= proven
        steps.append(step)
    candidates += _join_candidates(act)
    best = max(c.approx for c in candidates)
    tied = [c for c in candidates if abs(c.approx - best) <= _TIE * max(1, abs(best))]
    order = [Reach.INTERVAL, Reach.POINT, Reach.LEFT_LIMIT, Reach.RIGHT_LIMIT, Reach.INFINITY]
    winner = min(tied, key=lambda c: (not c.exact, order.index(c.reach), abs(_hp(c.at))))
    argmax = sympy.Union(*[c.where for c in tied]) if tied else sympy.S.EmptySet
    table = sympy.Matrix([[c.at, c.value] for c in sorted(candidates, key=lambda c: -c.approx)])
    steps.append(Step("Candidates (z, |φ'(z)|), largest first.", table))
    steps.append(
        Step(
            f"The supremum is {_REACHED[winner.reach]} {_point_text(winner.at)}.",
            sympy.Eq(sympy.Symbol("gamma"), winner.value, evaluate=False),
        )
    )
    bracket = None
    if not winner.exact:
        pad = abs(winner.approx) * mpmath.mpf(10) ** -(_DIGITS - 4)
        bracket = (_float(winner.approx - pad), _float(winner.approx + pad))
    tails = (
        "no root of φ'' beyond the window: enclosed on [2^30, ∞) by interval arithmetic"
        if tails_proven
        else f"roots of φ'' excluded by interval arithmetic for |z| ≤ {WINDOW} = 2^30;"
        " beyond it |φ'| tends to the SymPy limit"
    )
    return MaxSlope(
        activation=act.label,
        value=winner.value,
        at=winner.at,
        reach=winner.reach,
        attained=argmax != sympy.S.EmptySet,
        exact=winner.exact,
        argmax=argmax,
        value_bracket=bracket,
        tails=tails,
        steps=tuple(steps),
    )


_REACHED = {
    Reach.POINT: "attained at",
    Reach.INTERVAL: "attained on an interval ending at",
    Reach.LEFT_LIMIT: "approached from the left at the kink",
    Reach.RIGHT_LIMIT: "approached from the right at the kink",
    Reach.INFINITY: "approached as z tends to",
}


def _point_text(at: sympy.Expr) -> str:
    return "+∞" if at == sympy.oo else "−∞" if at == -sympy.oo else f"z = {sympy.sstr(at)}"


def interval_text(interval: sympy.Interval) -> str:
    """(a, b) with ∞ signs, for step texts."""
    lo = "−∞" if interval.start == -sympy.oo else sympy.sstr(interval.start)
    hi = "∞" if interval.end == sympy.oo else sympy.sstr(interval.end)
    return f"{'(' if interval.left_open else '['}{lo}, {hi}{')' if interval.right_open else ']'}"


def _piece_candidates(piece: Piece) -> tuple[list[_Candidate], bool, Step]:
    d = piece.derivative
    interval = piece.interval
    if not d.has(z):
        inside = interval.contains(0) == sympy.true
        at = sympy.Integer(0) if inside else (
            piece.lo if _hp(abs(piece.lo)) <= _hp(abs(piece.hi)) else piece.hi)
        reach = Reach.POINT if inside else Reach.INTERVAL
        value = _abs_exact(d)
        step = Step(f"On {interval_text(interval)} φ' is constant.", sympy.Eq(_PRIME, d))
        return [_Candidate(value, _hp(value), at, reach, True, interval)], True, step
    out: list[_Candidate] = []
    for end, reach, direction in ((piece.lo, Reach.RIGHT_LIMIT, "+"),
                                  (piece.hi, Reach.LEFT_LIMIT, "-")):
        if end.is_finite:
            value = _abs_exact(one_sided_limit(d, end, direction))
            out.append(_Candidate(value, _hp(value), end, reach, True, sympy.S.EmptySet))
        else:
            limit = sympy.limit(d, z, end)
            if not (limit.is_number and (limit.is_finite or limit in (sympy.oo, -sympy.oo))):
                raise NoClosedForm(f"cannot take the limit of φ' = {d} as z → {end}")
            value = sympy.oo if not limit.is_finite else _abs_exact(limit)
            approx = mpmath.inf if value == sympy.oo else _hp(value)
            out.append(_Candidate(value, approx, end, Reach.INFINITY, True, sympy.S.EmptySet))
    dd = sympy.diff(d, z)
    roots = exact_roots(dd, piece.lo, piece.hi)
    proven = True
    if roots is not None:
        for r in roots:
            value = _abs_exact(d.subs(z, r))
            out.append(_Candidate(value, _hp(value), r, Reach.POINT, True, sympy.FiniteSet(r)))
        shown: Any = sympy.FiniteSet(*roots)
        how = "exactly"
    else:
        certified, tails = certified_roots(dd, piece.lo, piece.hi)
        proven = tails.proven_to_infinity
        enclose = iv_function(d)
        points = []
        for root in certified:
            lo, hi = enclosure_bounds(enclose(_iv_point(root.lo, root.hi)))
            mid = abs(lo + hi) / 2  # |φ'| at the root, enclosed to ~1e-36 relative
            at = _float(root.mid)
            points.append(at)
            out.append(_Candidate(_float(mid), mid, at, Reach.POINT, False,
                                  sympy.FiniteSet(at)))
        shown = sympy.FiniteSet(*points)
        how = "as certified brackets (sign change verified by interval arithmetic)"
    step = Step(f"On {interval_text(interval)} the roots of φ'' are found {how}.",
                sympy.Eq(sympy.Symbol(r"z_{\mathrm{crit}}"), shown, evaluate=False))
    return out, proven, step


def _iv_point(lo: Any, hi: Any) -> Any:
    return interval(lo, hi)


def _join_candidates(act: Activation) -> list[_Candidate]:
    """Breakpoints: smooth joins, and kinks with the value φ' takes there by the
    ``Piecewise`` convention (that of the piece containing the kink, as in
    :attr:`Activation.derivative`, the NumPy kernels and the frameworks)."""
    out = []
    for b in act.breakpoints:
        value = _abs_exact(act.derivative.subs(z, b))
        out.append(_Candidate(value, _hp(value), b, Reach.POINT, True, sympy.FiniteSet(b)))
    return out


# ---- saturation ----


@dataclass(frozen=True)
class Saturation(Record):
    """The saturation region {z : |φ'(z)| < eps}, its boundary and per-side thresholds.

    ``region`` is a SymPy set (a union of intervals, possibly empty or the whole line);
    ``left_threshold`` is t with (−∞, t) ⊆ region maximal (None when the region is not
    unbounded on the left), ``right_threshold`` likewise for (t, ∞).  At a kink the
    ``Activation.derivative`` convention decides membership.  ``exact`` says whether every
    boundary point is a closed form; else the boundary points are certified numbers
    (``brackets``).
    """

    activation: str
    eps: sympy.Expr
    region: sympy.Set
    boundary: tuple[sympy.Expr, ...]
    left_threshold: sympy.Expr | None
    right_threshold: sympy.Expr | None
    exact: bool
    brackets: tuple[tuple[sympy.Float, sympy.Float], ...]
    steps: tuple[Step, ...]
    formulas: tuple[sympy.Expr, ...] = ()

    def title(self) -> str:
        return f"saturation of {self.activation} at eps = {sympy.sstr(self.eps)}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("region {|φ'| < ε}", sympy.sstr(self.region))]
        if self.left_threshold is not None:
            rows.append(("saturated for z <", self.left_threshold))
        if self.right_threshold is not None:
            rows.append(("saturated for z >", self.right_threshold))
        rows.append(("method", "exact" if self.exact else "certified numeric"))
        return rows

    def contains(self, x: RealLike) -> bool:
        """Whether x lies in the saturation region."""
        inside: bool = self.region.contains(as_exact_real(x, "x")) == sympy.true
        return inside


def saturation(act: Activation | str, eps: RealLike) -> Saturation:
    """{z : |φ'(z)| < eps} as a SymPy set, exact where the boundary has a closed form.

    ``eps`` must be a finite positive number (floats are read as their decimal).

    >>> s = saturation("sigmoid", 0.1)
    >>> s.region
    Union(Interval.open(-oo, -log(sqrt(15) + 4)), Interval.open(log(sqrt(15) + 4), oo))
    >>> saturation("relu", 0.5).region
    Interval(-oo, 0)
    """
    a = as_activation(act)
    e = as_exact_real(eps, "eps", domain=sympy.Interval.open(0, sympy.oo))
    return _saturation(a, e)


@lru_cache(maxsize=1024)
def _saturation(act: Activation, eps: sympy.Expr) -> Saturation:
    parts: list[sympy.Set] = []
    exact = True
    formulas: list[sympy.Expr] | None = []
    brackets: list[tuple[sympy.Float, sympy.Float]] = []
    steps = [Step("The region where the gradient factor is below ε.",
                  sympy.Lt(sympy.Abs(_PRIME), eps))]
    for piece in act.pieces:
        d = piece.derivative
        if not d.has(z):
            if _hp(abs(d)) < _hp(eps):
                parts.append(piece.interval)
            continue
        points: list[sympy.Expr] = []
        for target in (eps, -eps):
            roots = exact_roots(d - target, piece.lo, piece.hi)
            if roots is not None:
                points += roots
                if formulas is not None and roots:
                    general = symbolic_roots(d - target.subs(eps, EPSILON), EPSILON, eps,
                                             roots)
                    formulas = None if general is None else formulas + general
                continue
            exact = False
            formulas = None
            for root in certified_roots(d - target, piece.lo, piece.hi)[0]:
                points.append(_float(root.mid))
                brackets.append((_float(root.lo), _float(root.hi)))
        points = sorted(set(points), key=_hp)
        if points:
            steps.append(Step(f"On {interval_text(piece.interval)}, |φ'(z)| = ε at",
                              sympy.FiniteSet(*points)))
        fn = sympy.lambdify(z, d, modules="mpmath")
        edges = [piece.lo, *points, piece.hi]
        for left, right in itertools.pairwise(edges):
            if _below(fn, _inside(left, right), eps):
                parts.append(sympy.Interval.open(left, right))
    for b in act.breakpoints:
        if _hp(abs(act.derivative.subs(z, b))) < _hp(eps):
            parts.append(sympy.FiniteSet(b))
    region = sympy.Union(*parts) if parts else sympy.S.EmptySet
    boundary = tuple(sorted((p for p in region.boundary if p.is_finite), key=_hp))
    left, right = _thresholds(region)
    in_epsilon = tuple(sorted(formulas or (), key=lambda f: _hp(f.subs(EPSILON, eps))))
    if in_epsilon:
        steps.append(Step("The same equation solved for a symbolic ε gives the boundary for "
                          "every ε near this one, as a closed form:",
                          sympy.FiniteSet(*in_epsilon)))
    steps.append(Step("Hence the saturation region.", sympy.Eq(sympy.Symbol("S_epsilon"),
                                                               region, evaluate=False)))
    return Saturation(act.label, eps, region, boundary, left, right, exact, tuple(brackets),
                      tuple(steps), in_epsilon)


def _inside(a: sympy.Expr, b: sympy.Expr) -> mpmath.mpf:
    with mpmath.workdps(60):
        if a == -sympy.oo and b == sympy.oo:
            return mpmath.mpf(0)
        if a == -sympy.oo:
            return _hp(b) - 1
        if b == sympy.oo:
            return _hp(a) + 1
        return (_hp(a) + _hp(b)) / 2


def _below(fn: Any, x: mpmath.mpf, eps: sympy.Expr) -> bool:
    with mpmath.workdps(60):
        return bool(abs(fn(x)) < _hp(eps))


def _thresholds(region: sympy.Set) -> tuple[sympy.Expr | None, sympy.Expr | None]:
    if region == sympy.S.Reals:
        return None, None
    parts = region.args if isinstance(region, sympy.Union) else (region,)
    left = right = None
    for part in parts:
        if isinstance(part, sympy.Interval):
            if part.start == -sympy.oo:
                left = part.end
            if part.end == sympy.oo:
                right = part.start
    return left, right


# ---- φ'(z₀) ----


@dataclass(frozen=True)
class PointSlope(Record):
    """φ'(at) at ``dps`` significant digits; at a kink also both one-sided values."""

    activation: str
    at: sympy.Expr
    value: mpmath.mpf
    dps: int
    one_sided: tuple[sympy.Expr, sympy.Expr] | None
    steps: tuple[Step, ...] = ()

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"φ'({sympy.sstr(self.at)}) for {self.activation}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("φ'(z₀)", mpmath.nstr(self.value, self.dps))]
        if self.one_sided is not None:
            rows += [("φ'(z₀⁻)", self.one_sided[0]), ("φ'(z₀⁺)", self.one_sided[1])]
        return rows


def slope(act: Activation | str, z0: RealLike, *, dps: int = 30) -> PointSlope:
    """φ'(z0) at ``dps`` significant digits (z0 read exactly: 0.1 is 1/10).

    >>> print(slope("sigmoid", 0).value)
    0.25
    >>> slope("relu", 0).one_sided
    (0, 1)
    """
    a = as_activation(act)
    at = as_exact_real(z0, "z0")
    digits = as_positive_int(dps, "dps", minimum=5)
    with mpmath.workdps(digits + 15):
        raw = a.mpmath_prime(mpmath.mpf(sympy.N(at, digits + 15)))
    with mpmath.workdps(digits):
        value = +raw
    kink = next((k for k in a.kinks if sympy.simplify(k.at - at) == 0), None)
    return PointSlope(a.label, at, value, digits,
                      (kink.left, kink.right) if kink is not None else None,
                      (Step("Evaluate φ' at z₀.", sympy.Eq(_PRIME, a.derivative)),))


# ---- E[φ'(√q Z)^p] ----


@dataclass(frozen=True)
class ExpectedSlope(Record):
    """E[φ'(√q·Z)^power] for Z ~ N(0, 1): exact, or quadrature with an error estimate."""

    activation: str
    q: sympy.Expr
    power: int
    value: sympy.Expr
    exact: bool
    error: sympy.Float | None
    steps: tuple[Step, ...]

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"E[φ'(√q Z)^{self.power}] for {self.activation}, q = {sympy.sstr(self.q)}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("value", self.value)]
        rows.append(("method", "exact" if self.exact else "mpmath quadrature"))
        if self.error is not None:
            rows.append(("error estimate", self.error))
        return rows


def expected_slope(
    act: Activation | str, *, q: RealLike = 1, power: int = 1, dps: int = 30
) -> ExpectedSlope:
    """E[φ'(√q·Z)^power] with Z ~ N(0, 1).

    Closed form when every piece of φ'^power is a sum of polynomial × exp(quadratic)
    terms (relu, leaky_relu, hard_*, elu, selu, erf, identity); otherwise mpmath's
    tanh-sinh quadrature split at the kinks, at ``dps`` digits, with the difference to a
    second evaluation at higher precision as the error estimate.

    >>> expected_slope("relu").value
    1/2
    >>> expected_slope("erf", q=1, power=2).value
    4*sqrt(5)/(5*pi)
    """
    a = as_activation(act)
    qq = as_exact_real(q, "q", domain=sympy.Interval.open(0, sympy.oo))
    p = as_positive_int(power, "power")
    digits = as_positive_int(dps, "dps", minimum=5)
    return _expected_slope(a, qq, p, digits)


@lru_cache(maxsize=1024)
def _expected_slope(act: Activation, q: sympy.Expr, power: int, dps: int) -> ExpectedSlope:
    density = sympy.exp(-(z**2) / (2 * q)) / sympy.sqrt(2 * sympy.pi * q)
    expectation = sympy.Symbol(rf"\mathbb{{E}}\left[\varphi'(\sqrt{{q}}\,Z)^{{{power}}}\right]")
    steps = [Step("Integrate φ'^p against the N(0, q) density, piece by piece.",
                  sympy.Eq(expectation, sympy.Integral(act.derivative**power * density,
                                                       (z, -sympy.oo, sympy.oo)),
                           evaluate=False))]
    if all(_gaussian_closed(p.derivative**power) for p in act.pieces):
        total = sum((_integrate_terms(p.derivative**power, density, p.lo, p.hi)
                     for p in act.pieces), sympy.Integer(0))
        if not total.has(sympy.Integral):
            value = sympy.simplify(total)
            steps.append(Step("Every piece integrates in closed form.",
                              sympy.Eq(expectation, value, evaluate=False)))
            return ExpectedSlope(act.label, q, power, value, True, None, tuple(steps))
    value, error = _quadrature(act, q, power, dps)
    steps.append(Step(f"No closed form: tanh-sinh quadrature at {dps} digits, split at the "
                      "kinks and at 0.", sympy.Eq(expectation, value, evaluate=False)))
    return ExpectedSlope(act.label, q, power, value, False, error, tuple(steps))


def _integrate_terms(
    expr: sympy.Expr, density: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr
) -> sympy.Expr:
    """∫ expr·density over (lo, hi), term by term, each term c·zⁿ·e^{az² + bz + c0}.

    Constant factors (SELU's erfc expressions) are frozen into symbols first, so that
    expansion cannot tangle them with z, and restored in the result.
    """
    frozen, constants = freeze_constants(expr * density, keep_exp=True)
    total = sympy.Integer(0)
    for term in sympy.Add.make_args(sympy.expand(frozen, power_exp=False)):
        coeff, dependent = term.as_independent(z)
        n, exponent = 0, sympy.Integer(0)
        for factor in sympy.Mul.make_args(sympy.powsimp(dependent, combine="exp")):
            base, power = factor.as_base_exp()
            if base == z:
                n += int(power)
            else:
                exponent += factor.args[0] if isinstance(factor, sympy.exp) else power
        if coeff == 0:
            continue
        coeffs = sympy.Poly(sympy.expand(exponent), z).all_coeffs()
        if len(coeffs) > 3:
            return sympy.Integral(term, (z, lo, hi))  # not of the closed-form shape
        a, b, c0 = [sympy.Integer(0)] * (3 - len(coeffs)) + coeffs
        if not a.is_negative:
            raise InvalidArgument("E[φ'(√q Z)^p] diverges: an exp(a·z²) term with a ≥ 0")
        total += coeff * sympy.exp(c0) * _moment(n, a, b, lo, hi)
    return total.subs(constants)


def _moment(n: int, a: sympy.Expr, b: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> sympy.Expr:
    """∫_lo^hi zⁿ e^{az² + bz} dz for a < 0, exactly.

    I₀ = e^{−b²/4a}·√π/(2√−a)·[erf(√−a·(z + b/2a))], and from
    d/dz(z^m g) = m z^{m−1} g + (2az + b) z^m g:
    I_{m+1} = ([z^m g] − m·I_{m−1} − b·I_m)/(2a).
    """
    s = sympy.sqrt(-a)
    g = sympy.exp(a * z**2 + b * z)

    def erf_at(point: sympy.Expr) -> sympy.Expr:
        # erf(±∞) = ±1
        return sympy.sign(point) if point.is_infinite else sympy.erf(s * (point + b / (2 * a)))

    def boundary(m: int, point: sympy.Expr) -> sympy.Expr:
        # z^m·e^{az² + bz} → 0 at ±∞ because a < 0
        return sympy.Integer(0) if point.is_infinite else (z**m * g).subs(z, point)

    first = sympy.exp(-(b**2) / (4 * a)) * sympy.sqrt(sympy.pi) / (2 * s) * (
        erf_at(hi) - erf_at(lo))
    moments = [first]
    for m in range(n):
        previous = moments[m - 1] if m >= 1 else sympy.Integer(0)
        edge = boundary(m, hi) - boundary(m, lo)
        moments.append((edge - m * previous - b * moments[m]) / (2 * a))
    return moments[n]


def _gaussian_closed(expr: sympy.Expr) -> bool:
    """Is expr a sum of c·z^n·exp(polynomial of degree ≤ 2)?"""
    if expr == 0:
        return True
    for term in sympy.Add.make_args(sympy.expand(sympy.powsimp(expr))):
        _, dependent = term.as_independent(z)
        for factor in sympy.Mul.make_args(dependent):
            base, exponent = factor.as_base_exp()
            if base == z and exponent.is_Integer and exponent >= 0:
                continue
            if isinstance(factor, sympy.exp) or (base == sympy.E):
                arg = factor.args[0] if isinstance(factor, sympy.exp) else exponent
                if arg.is_polynomial(z) and sympy.degree(arg, z) <= 2:
                    continue
            if factor == 1:
                continue
            return False
    return True


def _quadrature(act: Activation, q: sympy.Expr, power: int, dps: int) -> tuple[
        sympy.Float, sympy.Float]:
    def run(digits: int) -> mpmath.mpf:
        with mpmath.workdps(digits):
            root_q = mpmath.sqrt(_hp(q))
            cuts = sorted({mpmath.mpf(0)} | {_hp(b) / root_q for b in act.breakpoints})
            points = [-mpmath.inf, *cuts, mpmath.inf]

            def integrand(x: mpmath.mpf) -> mpmath.mpf:
                return act.mpmath_prime(root_q * x) ** power * mpmath.npdf(x)

            return mpmath.quad(integrand, points)

    first, second = run(dps + 10), run(dps + 25)
    with mpmath.workdps(dps + 25):
        error = abs(first - second)
    if not mpmath.isfinite(second):
        raise InvalidArgument(f"E[φ'(√q Z)^{power}] diverges for {act.label}")
    return sympy.Float(mpmath.nstr(second, dps + 5), dps), sympy.Float(mpmath.nstr(error, 5))
