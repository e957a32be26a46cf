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
``chain_gradient``          ``activation``, ``depth``, ``weight``, ``x``,    the ``gradient`` at
                            ``value``; ``layer`` (not for the input)         ``layer`` = value
                                                                             (bias 0, upstream 1)
``chain_ratio``             ``activation``, ``depth``, ``weight``, ``x``,    top layer's gradient
                            ``value``                                        / first layer's =
                                                                             value
``init_variance``           ``scheme`` (xavier, he), ``fan_in``,             the weight variance
                            ``fan_out``, ``value`` (``mode`` for he,         = value
                            ``convention`` for xavier)
==========================  ===============================================  =====================

A chain claim names the gradient it is about with ``gradient``: ``"activation"``
(∂L/∂a_k, the default), ``"weight"`` (∂L/∂w_k, what an optimizer uses), ``"bias"``
(∂L/∂b_k = ∂L/∂z_k) or ``"input"`` (∂L/∂x; no ``layer``, no ratio).  "The top layer
learns 64,000× faster" is a statement about weights, and fails there (32,947×).  An
``init_variance`` claim about Xavier is judged under ``convention`` ``"glorot"``
(2/(fan_in + fan_out), the default) or ``"caffe"`` (1/fan_in, Caffe's XavierFiller); its
detail names both.

Optional on every claim: ``rel_tol`` (a positive number), ``source`` (where the claim is
made: required in symgrad's own audit file, ``check_claims(..., require_source=True)``)
and, with an activation, ``params`` (a table, e.g. ``{alpha = 0.2}``).

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

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from symgrad._core.validate import describe
from symgrad.claims.fields import COMMON_FIELDS, FIELDS, Claim, ClaimError
from symgrad.claims.kinds import CHECKERS
from symgrad.claims.record import ClaimKind, ClaimResult, Verdict
from symgrad.errors import InvalidArgument, SymgradError
from symgrad.records import provenances

__all__ = ["check_claims", "check_claims_text"]

#: The largest claims text read (a claims file is a few kilobytes).
_MAX_TEXT = 1_000_000


def _check_one(position: int, table: Any, seen: set[str], require_source: bool) -> ClaimResult:
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
    claim = Claim(table, label)
    claimed: Any = None
    approximate = False
    source = str(table["source"]) if isinstance(table.get("source"), str) else ""
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
        required, optional = FIELDS[kind]
        for name in sorted(required):
            missing = claim.raw(name)
            if isinstance(missing, ClaimError):
                raise missing
        extra = sorted(set(table) - COMMON_FIELDS - required - optional)
        if extra:
            allowed = ", ".join(sorted(COMMON_FIELDS | required | optional))
            raise claim.fail(extra[0], f"is not used by kind {kind.value!r} (its fields: "
                             f"{allowed})")
        claim.rel_tol()
        claim.source(required=require_source)
        for name in ("value", "bound"):
            if name in required:
                stated = claim.number(name)
                claimed, approximate = stated.value, stated.approximate
        holds, value, witness, detail, how = CHECKERS[kind](claim)
    except ClaimError as exc:
        return ClaimResult(cid, text, kind_text, Verdict.ERROR, claimed=claimed, error=str(exc),
                           source=source)
    except SymgradError as exc:
        return ClaimResult(cid, text, kind_text, Verdict.ERROR, claimed=claimed,
                           error=f"{label}: {exc}", source=source)
    verdict = Verdict.HOLDS if holds else Verdict.FAILS
    return ClaimResult(cid, text, kind.value, verdict, value, claimed, witness, detail,
                       approximate=approximate, provenance=provenances(value=how),
                       source=source)


def check_claims_text(text: str, *, source: str = "<claims>",
                      require_source: bool = False) -> list[ClaimResult]:
    """Check the claims in TOML ``text`` (see the module docstring for the schema);
    ``require_source`` makes a claim without a ``source`` field an error."""
    if not isinstance(text, str):
        raise InvalidArgument(f"claims text must be a string of TOML, got {describe(text)}")
    if len(text) > _MAX_TEXT:
        raise InvalidArgument(f"{source} is {len(text)} characters; claims files are limited "
                              f"to {_MAX_TEXT}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{source} is not valid TOML: {exc}") from None
    except RecursionError:  # tables or arrays nested thousands deep
        raise InvalidArgument(f"{source} nests tables or arrays too deeply") from None
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
    return [_check_one(i, table, seen, require_source) for i, table in enumerate(claims, 1)]


def check_claims(path: str | Path, *, require_source: bool = False) -> list[ClaimResult]:
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
    return check_claims_text(text, source=str(file), require_source=require_source)
