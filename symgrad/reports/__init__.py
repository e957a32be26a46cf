"""The derivation reports in ``proofs/``: records → Markdown + LaTeX (+ SVG) → files.

:func:`build_reports` regenerates them (what ``symgrad report`` runs);
:func:`check_reports` compares without writing.  See :mod:`symgrad.reports.pipeline`
for the atomic write and the determinism rules, :mod:`symgrad.reports.render` for the
renderers and :mod:`symgrad.reports.registry` for the list of reports.

>>> "sigmoid-bound" in report_names()
True
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from symgrad.reports.pipeline import Output, Report, Timing, check, generate, select, write
from symgrad.reports.registry import all_reports, index

__all__ = [
    "Output",
    "Report",
    "Timing",
    "build_reports",
    "check_reports",
    "render_reports",
    "report_names",
]


def report_names() -> tuple[str, ...]:
    """The names ``--only`` accepts, in generation order."""
    return tuple(r.name for r in all_reports())


def render_reports(
    only: Iterable[str] | None = None,
    *,
    progress: TextIO | None = None,
    timings: list[Timing] | None = None,
    jobs: int = 1,
) -> dict[str, bytes]:
    """Every file of the selected reports (and the index), in memory: path → bytes.

    ``jobs`` > 1 builds the reports on that many worker processes (same bytes).
    """
    chosen = select(all_reports(), only)
    files = generate(chosen, progress=progress, timings=timings, jobs=jobs)
    entry = index(all_reports())
    files[entry.path] = entry.content
    return dict(sorted(files.items()))


def build_reports(
    out: str | Path = "proofs",
    *,
    only: Iterable[str] | None = None,
    progress: TextIO | None = None,
    timings: list[Timing] | None = None,
    jobs: int = 1,
) -> dict[str, bytes]:
    """Regenerate the reports into ``out`` atomically; returns what was written.

    Without ``only`` the directory afterwards holds exactly the generated files.
    """
    files = render_reports(only, progress=progress, timings=timings, jobs=jobs)
    write(Path(out), files, replace_all=only is None)
    return files


def check_reports(
    out: str | Path = "proofs", *, only: Iterable[str] | None = None,
    progress: TextIO | None = None, jobs: int = 1,
) -> str:
    """The unified diff between ``out`` and a fresh generation ("" when current)."""
    files = render_reports(only, progress=progress, jobs=jobs)
    return check(Path(out), files, replace_all=only is None)
