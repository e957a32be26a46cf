"""The tables of an activation report, written through the simplification pass.

Every formula goes through :class:`~symgrad.reports.pages.activation_text.Tidy` (named
constants, |z| forms, shorter proven-equal forms) and is printed as LaTeX; table cells
carry at most 12 significant digits, and the full certified digits follow in a
``<details>`` block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy

from symgrad._core.format import interval_text, latex
from symgrad._core.symbols import EPSILON
from symgrad.records import How, Provenance, Record, Step, how_text
from symgrad.reports.pages.activation_profile import ActivationProfile
from symgrad.reports.pages.activation_text import Tidy, approx
from symgrad.reports.render import Page
from symgrad.slopes import Reach, Saturation

__all__ = ["candidate_rows", "constants_block", "results", "saturation_table", "steps",
           "where_text"]

#: Digits of the ``<details>`` blocks for exact values (certified ones keep their own).
FULL_DIGITS = 30


def _kind(how: How) -> str:
    return how.kind.value


def weakest(record: Record) -> How | None:
    order = list(Provenance)
    hows = sorted(record.provenance.values(), key=lambda h: order.index(h.kind))
    return hows[-1] if hows else None


def full_digits(value: Any) -> str:
    """All the digits a value carries: a certified Float's own, 30 for a closed form."""
    expr = sympy.sympify(value)
    if expr.is_Float:
        return str(expr)
    if expr.is_Rational:
        return str(expr) if expr.is_Integer else f"{expr} = {approx(expr, FULL_DIGITS)}"
    return approx(expr, FULL_DIGITS)


def constants_block(page: Page, tidy: Tidy, label: str) -> None:
    """Name the constants once: symbol = closed form ≈ 12 digits."""
    if not tidy.constants:
        return
    names = ", ".join(f"$`{c.symbol.name}`$" for c in tidy.constants)
    page.para(f"{label} fixes its parameters to closed forms; the report names them {names} "
              "and writes every expression in terms of them (each rewrite is proven equal "
              "to the original: see the note at the end of this section).")
    for c in tidy.constants:
        # the constant itself, not through the pass (which would print its own name)
        page.math(rf"{c.symbol.name} = {latex(c.value)} \approx {c.digits}")


def where_text(tidy: Tidy, profile: ActivationProfile) -> str:
    peak = profile.peak
    if peak.reach is Reach.POINT and isinstance(peak.argmax, sympy.FiniteSet):
        points = ", ".join(tidy.cell(p) for p in peak.argmax.args)
        return f"attained at z = {points}"
    if peak.reach is Reach.INTERVAL:
        return f"attained on {tidy.inline(peak.argmax)}"
    if peak.reach is Reach.INFINITY:
        return f"approached as z → {'+' if peak.at == sympy.oo else '−'}∞, not attained"
    side = "left" if peak.reach is Reach.LEFT_LIMIT else "right"
    return f"approached from the {side} at z = {tidy.cell(peak.at)}, not attained"


def results(page: Page, tidy: Tidy, p: ActivationProfile) -> None:
    """The results table (closed forms and 12 digits), its hows, and the full digits."""
    gamma = p.peak.value
    inverse = sympy.zoo if gamma == 0 else 1 / gamma
    rows = [
        (r"$`\gamma = \sup\lvert\varphi'\rvert`$", p.peak.value, p.peak),
        (r"$`1/\gamma`$", inverse, p.peak),
        (r"$`\mathbb{E}[\varphi'(Z)]`$, $`Z \sim N(0, 1)`$", p.expected.value, p.expected),
        (r"$`\mathbb{E}[\varphi'(Z)^2]`$", p.expected_sq.value, p.expected_sq),
    ]
    table = []
    for name, value, record in rows:
        how = weakest(record)
        shown = "∞" if value == sympy.zoo else _formula(tidy, value)
        number = "∞" if value == sympy.zoo else approx(value)
        if sympy.sympify(value).is_Float:  # certified: the digits are the value
            number = ""
        table.append((name, shown, number, _kind(how) if how else "exact"))
    table.insert(1, ("where", where_text(tidy, p), "", ""))
    page.table(["quantity", "value", "≈ (12 digits)", "how"], table)
    hows = [(r"$`\gamma`$", weakest(p.peak)), (r"$`\mathbb{E}[\varphi'(Z)]`$", weakest(p.expected)),
            (r"$`\mathbb{E}[\varphi'(Z)^2]`$", weakest(p.expected_sq))]
    page.bullets([f"{name}: {how_text(how)}." for name, how in hows if how is not None])
    page.details("All digits of the results", as_list=True, items=[
        f"{name}: {full_digits(value)}" for name, value, _ in rows if value != sympy.zoo])


def _formula(tidy: Tidy, value: Any) -> str:
    """A closed form in LaTeX when short, else '(digits)'; a certified Float as 12 digits."""
    expr = sympy.sympify(value)
    if expr.is_Float:
        return approx(expr)
    if tidy.short(expr):
        return tidy.inline(expr)
    return "closed form in the derivation"


def _set_cell(tidy: Tidy, region: sympy.Set) -> str:
    """The saturated set, with |z| for a symmetric one and 12-digit certified ends."""
    if region == sympy.S.EmptySet:
        return "∅"
    if region == sympy.S.Reals:
        return r"$`\mathbb{R}`$"
    parts: tuple[Any, ...] = region.args if isinstance(region, sympy.Union) else (region,)
    if (len(parts) == 2 and all(isinstance(q, sympy.Interval) for q in parts)
            and parts[0].start == -sympy.oo and parts[1].end == sympy.oo
            and parts[0].end == -parts[1].start
            and parts[0].right_open == parts[1].left_open):  # |z| > t only if both ends agree
        rel = ">" if parts[1].left_open else r"\ge"
        return f"$`|z| {rel} {_end(tidy, parts[1].start)}`$"
    if len(parts) == 1 and isinstance(parts[0], sympy.Interval):
        q = parts[0]
        if q.start == -sympy.oo and q.end != sympy.oo:
            return f"$`z {'<' if q.right_open else chr(92) + 'le'} {_end(tidy, q.end)}`$"
        if q.end == sympy.oo and q.start != -sympy.oo:
            return f"$`z {'>' if q.left_open else chr(92) + 'ge'} {_end(tidy, q.start)}`$"
    shown = []
    for q in parts:
        if isinstance(q, sympy.Interval):
            lo = r"-\infty" if q.start == -sympy.oo else _end(tidy, q.start)
            hi = r"\infty" if q.end == sympy.oo else _end(tidy, q.end)
            shown.append(f"{'(' if q.left_open else '['}{lo}, {hi}{')' if q.right_open else ']'}")
        else:
            shown.append(tidy.latex(q))
    return "$`" + r" \cup ".join(shown) + "`$"


def _end(tidy: Tidy, value: sympy.Expr) -> str:
    expr = sympy.sympify(value)
    if expr.is_Float or not tidy.short(expr):
        return approx(expr).replace("−", "-")
    return tidy.latex(expr)


def _threshold_cells(tidy: Tidy, sat: Saturation) -> tuple[str, str]:
    left, right = sat.left_threshold, sat.right_threshold
    if left is not None and right is not None and sympy.simplify(left + right) == 0:
        inner = _end(tidy, right)
        body = f"({inner})" if isinstance(tidy.expr(right), sympy.Add) else inner
        return f"$`\\pm {body}`$", f"±{approx(right)}"
    cells = [("—", "—") if t is None else (f"$`{_end(tidy, t)}`$", approx(t))
             for t in (left, right)]
    return f"{cells[0][0]}; {cells[1][0]}", f"{cells[0][1]}; {cells[1][1]}"


def saturation_table(page: Page, tidy: Tidy, p: ActivationProfile) -> None:
    """ε, the saturated set, the thresholds (± when symmetric), 12 digits, how."""
    rows: list[tuple[str, ...]] = []
    hows: dict[str, list[str]] = {}
    digits: list[str] = []
    for eps, sat in p.saturations:
        exact_cell, approx_cell = _threshold_cells(tidy, sat)
        kinds = {h.kind for h in sat.provenance.values()}
        kind = "exact" if kinds <= {Provenance.EXACT} else "certified"
        rows.append((f"$`{_eps(eps)}`$", _set_cell(tidy, sat.region), exact_cell, approx_cell,
                     kind))
        for h in sat.provenance.values():
            hows.setdefault(how_text(h), []).append(_eps(eps))
        for side, t in (("left", sat.left_threshold), ("right", sat.right_threshold)):
            if t is not None and not sympy.sympify(t).is_Rational:
                digits.append(f"$`\\epsilon = {_eps(eps)}`$, {side}: {full_digits(t)}")
    page.table(["ε", "saturated set", "thresholds (left; right)", "≈ (12 digits)", "how"], rows)
    page.bullets([f"{how} (ε = {', '.join(dict.fromkeys(es))})" for how, es in hows.items()])
    if digits:
        page.details("All digits of the thresholds", as_list=True, items=digits)
    _in_epsilon(page, tidy, p)


def _in_epsilon(page: Page, tidy: Tidy, p: ActivationProfile) -> None:
    """The boundary as a closed form in a symbolic ε, when the derivation found one."""
    formulas = next((sat.formulas for _, sat in p.saturations if sat.formulas), ())
    if not formulas:
        return
    shown = [tidy.expr(f) for f in formulas]
    if len(shown) == 2 and _opposite(*formulas):
        inner = shown[1] if _positive_at(formulas[1], p) else shown[0]
        body = rf"\pm \left({latex(inner)}\right)" if isinstance(inner, sympy.Add) else (
            rf"\pm {latex(inner)}")
    else:
        body = ", ".join(latex(f) for f in shown)
    page.para("Solved for a symbolic ε (the same equation; valid for ε near the tabulated "
              "values, where each branch stays real), the thresholds are")
    page.math(rf"t(\epsilon) = {body}")


def _opposite(a: sympy.Expr, b: sympy.Expr) -> bool:
    """a = −b, proven: the sum simplifies to 0, or a = c·log(x), b = c·log(y) with x·y = 1
    (the arguments are positive where the thresholds are real)."""
    if sympy.simplify(a + b) == 0:
        return True
    (ca, la), (cb, lb) = a.as_independent(sympy.log), b.as_independent(sympy.log)
    if not (isinstance(la, sympy.log) and isinstance(lb, sympy.log)) or ca != cb or ca == 0:
        return False
    return bool(sympy.simplify(la.args[0] * lb.args[0] - 1) == 0)


def _positive_at(formula: sympy.Expr, p: ActivationProfile) -> bool:
    eps = p.saturations[0][0]
    return bool(sympy.N(formula.subs(EPSILON, eps)) > 0)


def _eps(eps: sympy.Expr) -> str:
    exponent = -sympy.log(eps, 10)
    return f"10^{{-{exponent}}}" if exponent.is_Integer else str(eps)


# ---- the sup search: a labelled candidate table instead of a bare matrix ----

_KIND = {
    Reach.POINT: "root of φ''",
    Reach.INTERVAL: "constant piece",
    Reach.LEFT_LIMIT: "piece end (limit from the left)",
    Reach.RIGHT_LIMIT: "piece end (limit from the right)",
    Reach.INFINITY: "limit at ±∞",
}


def candidate_rows(tidy: Tidy, p: ActivationProfile) -> list[tuple[str, str, str, str]]:
    """z, side or piece, |φ'|, kind — one row per candidate, largest first."""
    pieces = p.act.pieces
    kinks = {k.at for k in p.act.kinks}
    rows = []
    for c in p.candidates:
        if c.piece < 0:
            side = "at the point (kink convention)" if c.at in kinks else "at the point"
            kind = "kink" if c.at in kinks else "breakpoint"
        else:
            piece = pieces[c.piece]
            side = ("" if len(pieces) == 1 else f"piece {interval_text(piece.interval)}")
            if c.reach is Reach.LEFT_LIMIT:
                side = f"left of {tidy.inline(c.at)}, {side}".rstrip(", ")
            elif c.reach is Reach.RIGHT_LIMIT:
                side = f"right of {tidy.inline(c.at)}, {side}".rstrip(", ")
            kind = "limit at +∞" if c.at == sympy.oo else (
                "limit at −∞" if c.at == -sympy.oo else _KIND[c.reach])
        z_cell = "+∞" if c.at == sympy.oo else ("−∞" if c.at == -sympy.oo else tidy.cell(c.at))
        value = "∞" if c.value == sympy.oo else tidy.cell(c.value)
        rows.append((z_cell, side or "—", value, kind))
    return rows


def steps(page: Page, tidy: Tidy, items: Sequence[Step], start: int,
          profile: ActivationProfile | None = None) -> None:
    """Derivation steps with every formula through the pass; the candidates' matrix is
    replaced by the labelled table."""
    for i, step in enumerate(items, start):
        text = step.text
        if profile is not None and text == f"The supremum is {profile.peak.where()}.":
            text = f"The supremum is {where_text(tidy, profile)}."  # points in LaTeX
        page.para(f"**Step {i}.** {text}")
        if isinstance(step.math, sympy.MatrixBase) and profile is not None:
            page.table(["z", "side or piece", "|φ'(z)|", "kind"],
                       candidate_rows(tidy, profile))
        elif step.math is not None:
            page.math(step.math if isinstance(step.math, str) else tidy.latex(step.math))
