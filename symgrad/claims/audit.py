"""Is this statement about gradients true?  Verdicts on quantitative claims.

A claims file is TOML: an array of tables ``[[claim]]``, each with ``id``, ``text``,
``kind`` and the fields its kind needs.  :func:`check_claims` computes every claim's
quantity by calling the library (:mod:`symgrad.slopes`, :mod:`symgrad.depth.product`,
:mod:`symgrad.initialization.gains`) and only compares here:

==========================  ===============================================  =====================
kind                        fields                                           the claim
==========================  ===============================================  =====================
``slope_max``               ``activation``, ``value``                        sup|φ'| = value
``slope_at``                ``activation``, ``at``, ``value``                φ'(at) = value
``slope_below_beyond``      ``activation``, ``beyond``, ``bound``            |φ'(z)| < bound for
                                                                             all |z| > beyond
``weight_bound``            ``activation``, ``bound``                        |w|·|φ'(z)| < 1 for all
                                                                             z when |w| < bound,
                                                                             and bound is largest
``chain_gradient``          ``activation``, ``depth``, ``weight``, ``x``,    ∂L/∂a at ``layer`` =
                            ``layer``, ``value``                             value (bias 0,
                                                                             upstream 1)
``chain_ratio``             ``activation``, ``depth``, ``weight``, ``x``,    the trace's
                            ``value``                                        ``ratio()`` = value
``init_variance``           ``scheme`` (xavier, he), ``fan_in``,             the weight variance
                            ``fan_out``, ``value`` (``mode`` for he)         = value
==========================  ===============================================  =====================

Optional on every claim: ``rel_tol`` (a positive number) and, with an activation,
``params`` (a table, e.g. ``{alpha = 0.2}``).

Exact or approximate.  A number written as a TOML integer or as a string expression
(``"1/4"``, ``"2/(256 + 512)"``, ``"sqrt(2)"``) is exact: the claim holds when the
computed value equals it (to 25 significant digits; the library's values carry 30 or
more).  A number written as a TOML float (``0.105``) is approximate: it holds when
within ``rel_tol`` (default 0.01) of the computed value, relative to the claimed
number.  Giving ``rel_tol`` makes any claim approximate.

A universal claim that fails (``slope_below_beyond``, ``weight_bound``) carries a
witness z: a point beyond the claimed ``beyond`` where |φ'| is not below the bound
(taken from the :func:`~symgrad.slopes.saturation.saturation` record), or where |φ'| reaches
its supremum (from :func:`~symgrad.slopes.sup.max_slope`).

An unknown kind, a missing, unexpected or ill-typed field gives that claim the
verdict ``error`` with a message naming the claim and the field; the other claims are
still checked.  A file that is not TOML, or has no ``[[claim]]`` tables, raises
:class:`~symgrad.errors.InvalidArgument`.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "claims.toml"
>>> _ = path.write_text('''
... [[claim]]
... id = "sigmoid-quarter"
... text = "The sigmoid's slope never exceeds 1/4."
... kind = "slope_max"
... activation = "sigmoid"
... value = "1/4"
... ''')
>>> [(r.id, r.verdict.value, r.value) for r in check_claims(path)]
[('sigmoid-quarter', 'holds', 1/4)]
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mpmath
import sympy

from symgrad._core.format import number_text
from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad.activations.record import Activation
from symgrad.activations.registry import activation
from symgrad.errors import InvalidArgument, SymgradError
from symgrad.records import Record, Step

__all__ = ["ClaimKind", "ClaimResult", "Verdict", "check_claims", "check_claims_text"]

#: Default relative tolerance of an approximate claim.
DEFAULT_REL_TOL = 0.01
#: Relative agreement that counts as "equal" for an exact claim.
_EXACT_REL = mpmath.mpf(10) ** -25
_DPS = 50


class Verdict(enum.Enum):
    """A claim's verdict."""

    HOLDS = "holds"
    FAILS = "fails"
    #: The claim could not be checked (unknown kind, missing or ill-typed field).
    ERROR = "error"


class ClaimKind(enum.Enum):
    """The kinds of claim a file may contain."""

    SLOPE_MAX = "slope_max"
    SLOPE_AT = "slope_at"
    SLOPE_BELOW_BEYOND = "slope_below_beyond"
    WEIGHT_BOUND = "weight_bound"
    CHAIN_GRADIENT = "chain_gradient"
    CHAIN_RATIO = "chain_ratio"
    INIT_VARIANCE = "init_variance"


@dataclass(frozen=True)
class ClaimResult(Record):
    """One claim's verdict.

    ``value`` is the computed quantity (a SymPy number or an mpmath number; None on
    error), ``claimed`` the number the claim states, ``witness`` a point z showing a
    universal claim false (None otherwise), ``detail`` one sentence on how the value
    was obtained, ``error`` the problem with a claim that could not be checked.
    """

    id: str
    text: str
    kind: str
    verdict: Verdict
    value: Any = None
    claimed: Any = None
    witness: Any = None
    detail: str = ""
    error: str | None = None
    #: Whether the claimed number was written as an approximation (a TOML float).
    approximate: bool = False
    steps: tuple[Step, ...] = field(default=(), repr=False)

    def title(self) -> str:
        return f"claim {self.id}: {self.verdict.value}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("claim", self.text), ("verdict", self.verdict.value)]
        if self.value is not None:
            rows.append(("computed", self.value))
        if self.witness is not None:
            rows.append(("witness z", self.witness))
        if self.error:
            rows.append(("error", self.error))
        return rows

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape ``symgrad claims --json`` prints."""
        return {
            "id": self.id,
            "verdict": self.verdict.value,
            "value": self.value,
            "witness": self.witness,
            "claimed": self.claimed,
            "kind": self.kind,
            "text": self.text,
            "detail": self.detail,
            "error": self.error,
        }


class _ClaimError(Exception):
    """A problem with one claim (reported in its result, not raised to the caller)."""


# ---- reading fields ----

_COMMON = frozenset({"id", "text", "kind", "rel_tol"})
_WITH_ACT = frozenset({"activation", "params"})
_FIELDS: dict[ClaimKind, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (required, optional) beyond id/text/kind/rel_tol
    ClaimKind.SLOPE_MAX: (frozenset({"activation", "value"}), frozenset({"params"})),
    ClaimKind.SLOPE_AT: (frozenset({"activation", "at", "value"}), frozenset({"params"})),
    ClaimKind.SLOPE_BELOW_BEYOND: (
        frozenset({"activation", "beyond", "bound"}), frozenset({"params"})),
    ClaimKind.WEIGHT_BOUND: (frozenset({"activation", "bound"}), frozenset({"params"})),
    ClaimKind.CHAIN_GRADIENT: (
        frozenset({"activation", "depth", "weight", "x", "layer", "value"}),
        frozenset({"params"})),
    ClaimKind.CHAIN_RATIO: (
        frozenset({"activation", "depth", "weight", "x", "value"}), frozenset({"params"})),
    ClaimKind.INIT_VARIANCE: (
        frozenset({"scheme", "fan_in", "fan_out", "value"}), frozenset({"mode"})),
}

# Names a string expression may use (anything else is refused before SymPy sees it).
_EXPR_NAMES = {"sqrt": sympy.sqrt, "exp": sympy.exp, "log": sympy.log, "ln": sympy.log,
               "pi": sympy.pi, "E": sympy.E, "tanh": sympy.tanh, "erf": sympy.erf}
_EXPR_CHARS = re.compile(r"^[0-9eE+\-*/^(). a-z]*$")


@dataclass(frozen=True)
class _Number:
    """A number as the claim states it: exact, or approximate."""

    value: sympy.Expr
    approximate: bool


class _Claim:
    """Typed access to one ``[[claim]]`` table; every problem names the field."""

    def __init__(self, table: Mapping[str, Any], label: str) -> None:
        self.table = table
        self.label = label

    def fail(self, name: str, message: str) -> _ClaimError:
        return _ClaimError(f"{self.label}: field {name!r} {message}")

    def raw(self, name: str) -> Any:
        if name not in self.table:
            return _ClaimError(f"{self.label}: field {name!r} is missing")
        return self.table[name]

    def get(self, name: str) -> Any:
        value = self.raw(name)
        if isinstance(value, _ClaimError):
            raise value
        return value

    def string(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, f"must be a non-empty string, got {describe(value)}")
        return value

    def number(self, name: str) -> _Number:
        value = self.get(name)
        if isinstance(value, bool):
            raise self.fail(name, f"must be a number, got {describe(value)}")
        if isinstance(value, int):
            return _Number(sympy.Integer(value), False)
        if isinstance(value, float):
            try:
                return _Number(as_exact_real(value, name), True)
            except InvalidArgument as exc:
                raise self.fail(name, f"must be a finite number, got {describe(value)}") from exc
        if isinstance(value, str):
            return _Number(self._expression(name, value), False)
        raise self.fail(
            name, f"must be a number or an exact expression such as \"1/4\", got {describe(value)}"
        )

    def _expression(self, name: str, text: str) -> sympy.Expr:
        # "e" appears in scientific notation (1e-3); a stray symbol is refused below.
        words = set(re.findall(r"[A-Za-z_]+", text))
        if not _EXPR_CHARS.match(text) or not words <= set(_EXPR_NAMES) | {"e"}:
            raise self.fail(name, f"is not an exact expression (numbers, + - * / ^ ( ), "
                            f"{', '.join(sorted(_EXPR_NAMES))}): {describe(text)}")
        try:
            expr = sympy.sympify(text.replace("^", "**"), locals=dict(_EXPR_NAMES))
        except (sympy.SympifyError, SyntaxError, TypeError) as exc:
            raise self.fail(name, f"is not an exact expression: {describe(text)}") from exc
        try:
            return as_exact_real(expr, name)
        except InvalidArgument as exc:
            raise self.fail(name, f"must be a finite real number, got {describe(text)}") from exc

    def integer(self, name: str, *, minimum: int = 1) -> int:
        value = self.get(name)
        try:
            return as_positive_int(value, name, minimum=minimum)
        except InvalidArgument as exc:
            message = f"must be an integer >= {minimum}, got {describe(value)}"
            raise self.fail(name, message) from exc

    def activation(self) -> Activation:
        name = self.string("activation")
        params = self.table.get("params", {})
        if not isinstance(params, Mapping):
            raise self.fail("params", f"must be a table such as {{alpha = 0.2}}, got "
                            f"{describe(params)}")
        try:
            return activation(name, **dict(params))
        except InvalidArgument as exc:
            raise self.fail("activation" if not params else "params", f"is invalid: {exc}") from exc

    def rel_tol(self) -> float | None:
        if "rel_tol" not in self.table:
            return None
        value = self.table["rel_tol"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise self.fail("rel_tol", f"must be a number in (0, 1), got {describe(value)}")
        return float(value)


# ---- comparing ----

def _mp(value: Any) -> mpmath.mpf:
    if isinstance(value, mpmath.mpf):
        return value
    expr = sympy.sympify(value)
    if expr in (sympy.oo, -sympy.oo):
        return mpmath.inf if expr == sympy.oo else -mpmath.inf
    return mpmath.mpf(sympy.Float(expr.evalf(_DPS), _DPS))


def _agrees(computed: Any, claimed: _Number, rel_tol: float | None) -> bool:
    """|computed − claimed| within the claim's tolerance, relative to |claimed|."""
    with mpmath.workdps(_DPS):
        got, want = _mp(computed), _mp(claimed.value)
        if not mpmath.isfinite(got):
            return False
        if rel_tol is None and not claimed.approximate:
            return bool(abs(got - want) <= _EXACT_REL * abs(want)) if want else got == 0
        tol = mpmath.mpf(rel_tol if rel_tol is not None else DEFAULT_REL_TOL)
        return bool(abs(got - want) <= tol * abs(want))


# ---- one function per kind: compute with the library, compare here ----

_Outcome = tuple[bool, Any, Any, str]  # holds, value, witness, detail


def _slope_max(c: _Claim) -> _Outcome:
    from symgrad import max_slope

    act, claimed = c.activation(), c.number("value")
    rec = max_slope(act)
    how = "attained" if rec.attained else "approached, not attained,"
    detail = f"sup|φ'| = {number_text(rec.value)}, {how} at z = {number_text(rec.at)}"
    return _agrees(rec.value, claimed, c.rel_tol()), rec.value, None, detail


def _slope_at(c: _Claim) -> _Outcome:
    from symgrad import slope

    act, at, claimed = c.activation(), c.number("at"), c.number("value")
    rec = slope(act, at.value)
    detail = f"φ'({number_text(at.value)}) = {number_text(rec.value)}"
    return _agrees(rec.value, claimed, c.rel_tol()), rec.value, None, detail


def _pick(points: sympy.Set) -> sympy.Expr | None:
    """A point of ``points``: the closed endpoint farthest from 0 (positive on a tie)."""
    parts = points.args if isinstance(points, sympy.Union) else (points,)
    candidates: list[sympy.Expr] = []
    fallback: list[sympy.Expr] = []
    for part in parts:
        if isinstance(part, sympy.FiniteSet):
            candidates.extend(part.args)
        elif isinstance(part, sympy.Interval):
            lo, hi = part.start, part.end
            if not part.left_open and lo.is_finite:
                candidates.append(lo)
            if not part.right_open and hi.is_finite:
                candidates.append(hi)
            if lo.is_finite and hi.is_finite:
                fallback.append((lo + hi) / 2)
            elif lo.is_finite:
                fallback.append(lo + 1)
            elif hi.is_finite:
                fallback.append(hi - 1)
            else:
                fallback.append(sympy.Integer(0))
    pool = candidates or fallback
    if not pool:
        return None
    return max(pool, key=lambda p: (abs(float(p)), float(p) > 0))


def _slope_below_beyond(c: _Claim) -> _Outcome:
    from symgrad import saturation

    act, beyond, bound = c.activation(), c.number("beyond"), c.number("bound")
    if beyond.value < 0:
        raise c.fail("beyond", f"must be >= 0, got {number_text(beyond.value)}")
    if bound.value <= 0:
        raise c.fail("bound", f"must be > 0, got {number_text(bound.value)}")
    sat = saturation(act, bound.value)
    tails = sympy.Union(sympy.Interval.open(beyond.value, sympy.oo),
                        sympy.Interval.open(-sympy.oo, -beyond.value))
    outside = sympy.Complement(tails, sat.region)
    # The computed value: the |z| beyond which |φ'| < bound everywhere.
    steep = sympy.Complement(sympy.S.Reals, sat.region)
    if steep is sympy.S.EmptySet:
        threshold: sympy.Expr = sympy.Integer(0)
    else:
        # The farther end from 0 (compared numerically: SymPy leaves Max of logs unevaluated).
        ends = (sympy.Abs(steep.inf), sympy.Abs(steep.sup))
        threshold = max(ends, key=lambda e: (float(e), -len(sympy.sstr(e))))
        threshold = sympy.simplify(threshold) if threshold.has(sympy.Abs) else threshold
    holds = outside is sympy.S.EmptySet
    witness = None if holds else _pick(outside)
    detail = f"|φ'(z)| < {number_text(bound.value)} holds for all |z| > {number_text(threshold)}"
    if witness is not None:
        detail += f" and fails at z = {number_text(witness)}, where |φ'(z)| is not below it"
    return holds, threshold, witness, detail


def _weight_bound(c: _Claim) -> _Outcome:
    from symgrad import weight_bound

    act, bound = c.activation(), c.number("bound")
    rec = weight_bound(act)
    holds = _agrees(rec.bound, bound, c.rel_tol())
    witness = None
    detail = f"1/sup|φ'| = {number_text(rec.bound)}: {rec.statement}"
    if not holds and _mp(bound.value) > _mp(rec.bound):
        # Some |w| < bound has |w|·|φ'(z)| ≥ 1 where |φ'| is largest.
        witness = rec.at
    elif not holds:
        detail += " The claimed bound is safe but not the largest."
    return holds, rec.bound, witness, detail


def _trace(c: _Claim) -> Any:
    from symgrad import chain_trace

    act = c.activation()
    depth = c.integer("depth")
    weight, x = c.number("weight"), c.number("x")
    return chain_trace(act, depth=depth, weight=weight.value, x=x.value)


def _chain_gradient(c: _Claim) -> _Outcome:
    trace = _trace(c)
    layer = c.integer("layer")
    depth = len(trace.rows)
    if layer > depth:
        raise c.fail("layer", f"must be between 1 and depth = {depth}, got {layer}")
    claimed = c.number("value")
    value = trace.rows[layer - 1].grad_a
    detail = f"∂L/∂a_{layer} = {number_text(value)} in the {depth}-layer chain"
    return _agrees(value, claimed, c.rel_tol()), value, None, detail


def _chain_ratio(c: _Claim) -> _Outcome:
    trace = _trace(c)
    claimed = c.number("value")
    value = trace.ratio()
    detail = f"∂L/∂a_{len(trace.rows)} / ∂L/∂a_1 = {number_text(value)}"
    return _agrees(value, claimed, c.rel_tol()), value, None, detail


def _init_variance(c: _Claim) -> _Outcome:
    scheme = c.string("scheme")
    fan_in, fan_out = c.integer("fan_in"), c.integer("fan_out")
    claimed = c.number("value")
    if scheme not in ("xavier", "he"):
        raise c.fail("scheme", f"must be \"xavier\" or \"he\", got {describe(scheme)}")
    mode = c.table.get("mode", "fan_in")
    if scheme == "xavier" and "mode" in c.table:
        raise c.fail("mode", "applies to scheme \"he\" only")
    if mode not in ("fan_in", "fan_out"):
        raise c.fail("mode", f"must be \"fan_in\" or \"fan_out\", got {describe(mode)}")

    from symgrad.initialization.gains import he_variance, xavier_variance

    if scheme == "xavier":
        value = xavier_variance(fan_in, fan_out).variance
        detail = f"Var(w) = 2/(fan_in + fan_out) = {number_text(value)}"
    else:
        value = he_variance(fan_in, fan_out, mode=mode).variance
        detail = f"Var(w) = 2/{mode} = {number_text(value)}"
    return _agrees(value, claimed, c.rel_tol()), value, None, detail


_CHECKERS: dict[ClaimKind, Callable[[_Claim], _Outcome]] = {
    ClaimKind.SLOPE_MAX: _slope_max,
    ClaimKind.SLOPE_AT: _slope_at,
    ClaimKind.SLOPE_BELOW_BEYOND: _slope_below_beyond,
    ClaimKind.WEIGHT_BOUND: _weight_bound,
    ClaimKind.CHAIN_GRADIENT: _chain_gradient,
    ClaimKind.CHAIN_RATIO: _chain_ratio,
    ClaimKind.INIT_VARIANCE: _init_variance,
}


def _check_one(position: int, table: Any, seen: set[str]) -> ClaimResult:
    label = f"claim #{position}"
    if not isinstance(table, Mapping):
        return ClaimResult(label, "", "", Verdict.ERROR,
                           error=f"{label}: must be a table [[claim]], got {describe(table)}")
    raw_id = table.get("id")
    cid = raw_id if isinstance(raw_id, str) and raw_id.strip() else label
    if isinstance(raw_id, str) and raw_id.strip():
        label = f"claim {raw_id!r}"
    text = str(table["text"]) if isinstance(table.get("text"), str) else ""
    kind_text = str(table["kind"]) if isinstance(table.get("kind"), str) else ""
    claim = _Claim(table, label)
    claimed: Any = None
    approximate = False
    try:
        claim_id = claim.string("id")
        if claim_id in seen:
            raise claim.fail("id", f"repeats an earlier claim's id {claim_id!r}")
        seen.add(claim_id)
        claim.string("text")
        kind_name = claim.string("kind")
        try:
            kind = ClaimKind(kind_name)
        except ValueError:
            known = ", ".join(k.value for k in ClaimKind)
            raise claim.fail("kind", f"is unknown: {kind_name!r}; known kinds: {known}") from None
        required, optional = _FIELDS[kind]
        for name in sorted(required):
            missing = claim.raw(name)
            if isinstance(missing, _ClaimError):
                raise missing
        extra = sorted(set(table) - _COMMON - required - optional)
        if extra:
            allowed = ", ".join(sorted(_COMMON | required | optional))
            raise claim.fail(extra[0], f"is not used by kind {kind.value!r} (its fields: "
                             f"{allowed})")
        claim.rel_tol()
        for name in ("value", "bound"):
            if name in required:
                stated = claim.number(name)
                claimed, approximate = stated.value, stated.approximate
        holds, value, witness, detail = _CHECKERS[kind](claim)
    except _ClaimError as exc:
        return ClaimResult(cid, text, kind_text, Verdict.ERROR, claimed=claimed, error=str(exc))
    except SymgradError as exc:
        return ClaimResult(cid, text, kind_text, Verdict.ERROR, claimed=claimed,
                           error=f"{label}: {exc}")
    verdict = Verdict.HOLDS if holds else Verdict.FAILS
    return ClaimResult(cid, text, kind.value, verdict, value, claimed, witness, detail,
                       approximate=approximate)


def check_claims_text(text: str, *, source: str = "<claims>") -> list[ClaimResult]:
    """Check the claims in TOML ``text`` (see the module docstring for the schema)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{source} is not valid TOML: {exc}") from None
    claims = data.get("claim")
    if not isinstance(claims, list) or not claims:
        raise InvalidArgument(
            f"{source} has no claims: expected an array of tables [[claim]] with id, text, kind"
        )
    stray = sorted(set(data) - {"claim"})
    if stray:
        raise InvalidArgument(f"{source}: unexpected top-level key {stray[0]!r}; "
                              "claims go in [[claim]] tables")
    seen: set[str] = set()
    return [_check_one(i, table, seen) for i, table in enumerate(claims, 1)]


def check_claims(path: str | Path) -> list[ClaimResult]:
    """Read the TOML claims file at ``path`` and return one :class:`ClaimResult` per claim.

    Each result has ``id``, ``verdict`` (:class:`Verdict`: ``holds``, ``fails``, or
    ``error`` for a claim that could not be checked), the computed ``value``, and a
    ``witness`` z when a universal claim fails.  Raises
    :class:`~symgrad.errors.InvalidArgument` when the file cannot be read or is not a
    claims file.
    """
    if not isinstance(path, str | Path):
        raise InvalidArgument(f"path must be a file path, got {describe(path)}")
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidArgument(f"claims file {str(file)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"cannot read claims file {str(file)!r}: {exc}") from None
    return check_claims_text(text, source=str(file))
