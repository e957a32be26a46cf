"""Which reports exist, in which order, and the index ``proofs/README.md``.

One entry per report; per-activation reports are one per catalogue activation.
A report whose subject module has not been written is not listed (no stubs).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from symgrad.activations.registry import activation_names
from symgrad.reports.glance import DIGITS as GLANCE_DIGITS
from symgrad.reports.glance import HEADER, glance_row
from symgrad.reports.pages import (
    activation,
    bounds,
    chain,
    claims_audit,
    clipping,
    initialization,
    meanfield,
    networks,
    recurrent,
    residual,
    sigmoid_bound,
    spectrum,
    spectrum_width,
    training,
)
from symgrad.reports.pipeline import INDEX, Output, Report

__all__ = ["all_reports", "index"]

#: Index sections, in the order they appear.
GROUPS = (
    "Bounds and proofs",
    "Activations",
    "Depth",
    "Recurrent nets",
    "Initialization and mean field",
    "Networks as people build them",
    "Beyond the mean",
    "Training",
    "Claims",
)


@functools.cache
def all_reports() -> tuple[Report, ...]:
    """Every registered report, in generation order (the index groups them by topic)."""
    # Activation reports first: the others reuse their cached sup|φ'| records.
    found: list[Report] = []
    for name in activation_names():
        found.append(Report(
            activation.report_name(name), f"{name}: slope and saturation",
            "φ, φ', sup|φ'|, saturation thresholds for ε = 1e-1 … 1e-4, E[φ'(Z)].",
            "Activations", functools.partial(activation.build_for, name),
            functools.partial(glance_row, name)))
    found += [
        Report(sigmoid_bound.NAME, sigmoid_bound.TITLE, sigmoid_bound.BLURB,
               "Bounds and proofs", sigmoid_bound.build),
        Report(bounds.NAME, bounds.TITLE, bounds.BLURB, "Bounds and proofs", bounds.build),
    ]
    found += [
        Report(chain.NAME, chain.TITLE, chain.BLURB, "Depth", chain.build),
        Report(residual.NAME, residual.TITLE, residual.BLURB, "Depth", residual.build),
        Report(clipping.NAME, clipping.TITLE, clipping.BLURB, "Depth", clipping.build),
        Report(recurrent.NAME, recurrent.TITLE, recurrent.BLURB, "Recurrent nets",
               recurrent.build),
        Report(initialization.NAME, initialization.TITLE, initialization.BLURB,
               "Initialization and mean field", initialization.build),
        Report(meanfield.NAME, meanfield.TITLE, meanfield.BLURB,
               "Initialization and mean field", meanfield.build),
    ]
    found += [
        Report(spec.name, spec.title, spec.blurb, "Networks as people build them",
               functools.partial(networks.build_family, family))
        for family, spec in networks.FAMILIES.items()
    ]
    found += [
        Report(networks.INIT_NAME, networks.INIT_TITLE, networks.INIT_BLURB,
               "Networks as people build them", networks.build_init),
        Report(spectrum.NAME, spectrum.TITLE, spectrum.BLURB, "Beyond the mean",
               spectrum.build),
        Report(spectrum_width.NAME, spectrum_width.TITLE, spectrum_width.BLURB,
               "Beyond the mean", spectrum_width.build),
        Report(training.NAME, training.TITLE, training.BLURB, "Training", training.build),
        Report(claims_audit.NAME, claims_audit.TITLE, claims_audit.BLURB, "Claims",
               claims_audit.build),
    ]
    return tuple(found)


#: The suggested path through the reports (names; those not generated are skipped).
READING_ORDER = (
    ("sigmoid-bound", "why one sigmoid layer passes on at most a quarter of its gradient"),
    ("weight-bound", "how large a weight must be before a layer stops shrinking the gradient"),
    ("chain-4-layer-sigmoid", "the textbook 4-layer chain, activation and weight gradients"),
    ("activation-sigmoid", "one activation in full (then any other from the table below)"),
    ("residual", "the identity path that keeps the product near 1"),
    ("clipping", "the usual cure for the exploding side"),
    ("initialization", "the weight variances that keep signals alive (Xavier, He)"),
    ("meanfield", "wide random networks: χ₁, order, chaos and the critical line"),
    ("networks-plain", "finite-depth networks as people build them (then residual, "
     "normalized, init)"),
    ("spectrum-isometry", "beyond the mean: the Jacobian's singular values"),
    ("training-sigmoid-vs-relu", "what all this does to SGD"),
    ("claims", "textbook statements, checked"),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _glance_table(reports: Sequence[Report], summaries: Mapping[str, Any]) -> list[str]:
    """The at-a-glance table of every listed activation report whose subject is a
    registered activation (an unregistered record's page is listed, not tabulated): its
    cells from ``summaries`` when they were made beside the report, else derived here."""
    registered = set(activation_names())
    rows = []
    for r in reports:
        name = r.name.removeprefix("activation-")
        if r.group != "Activations" or name not in registered:
            continue
        cells = list(summaries[r.name]) if r.name in summaries else glance_row(name)
        cells[0] = f"[{name}]({r.path})"
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if not rows:
        return []
    return [
        "",
        "## Every activation at a glance",
        "",
        "γ = sup|φ'| bounds every layer's factor: |w·φ'(z)| ≤ |w|·γ, so with |w| < 1/γ no",
        "layer can pass on more gradient than it receives ([weight-bound](weight-bound.md)).",
        "E[φ'(Z)²], Z ~ N(0, 1), is what a wide random network multiplies the squared",
        "gradient by per layer: it is χ₁ = σ_w²·E[φ'(√q⁎·Z)²] at σ_w = 1 and q⁎ = 1, and",
        "below 1 gradients vanish with depth, above 1 they explode",
        "([meanfield](meanfield.md)). Saturation: where |φ'| < ε (bounded islands around a",
        "dead point are counted, not listed). Numbers carry at most "
        f"{GLANCE_DIGITS} significant digits, every",
        "one proven (closed forms evaluated, certified numbers rounded from their",
        "enclosures); each activation's page has the closed forms, the enclosures and the",
        "checks.",
        "",
        "| " + " | ".join(_cell(h) for h in HEADER) + " |",
        "|" + " --- |" * len(HEADER),
        *rows,
        "",
        "† symgrad's kink convention (φ' at a kink is the value of the piece that contains",
        "it, as the frameworks compute it) decides whether the kink is in the argmax, and for",
        "some activations whether the sup is attained at all; the page says how.",
    ]


def index(reports: Sequence[Report], summaries: Mapping[str, Any] | None = None) -> Output:
    """``proofs/README.md``: a reading order, every activation at a glance, and every
    report by group with its one-line result (``summaries``: the reports' at-a-glance
    cells, by report name, where already made)."""
    lines = [
        "<!-- generated by `symgrad report`; do not edit by hand -->",
        "",
        "# symgrad proofs",
        "",
        "Every derivation symgrad makes, written out: the result, the steps, and a",
        "Verification section with the symbolic check and a numeric cross-check against",
        "a simulation. Regenerate with `symgrad report`; `symgrad report --check` fails",
        "when these files are out of date.",
    ]
    listed = {r.name: r for r in reports}
    order = [(listed[name], why) for name, why in READING_ORDER if name in listed]
    if order:
        lines += ["", "## Reading order", ""]
        lines += [f"{i}. [{r.title}]({r.path}): {why}." for i, (r, why) in enumerate(order, 1)]
    lines += _glance_table(reports, summaries or {})
    for group in GROUPS:
        members = [r for r in reports if r.group == group]
        if not members:
            continue
        lines += ["", f"## {group}", ""]
        lines += [f"- [{r.title}]({r.path}): {r.blurb}" for r in members]
    return Output.text(INDEX, "\n".join(lines) + "\n")
