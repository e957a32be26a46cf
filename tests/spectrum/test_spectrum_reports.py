"""The two spectrum pages of ``proofs/``: they build, byte for byte the same, with every
cross-check row passing and simulated numbers shown with their standard errors."""

from __future__ import annotations

import re

import pytest

from symgrad.reports import render_reports
from symgrad.reports.pages.spectrum import simulated_text

PAGES = ["spectrum-isometry", "spectrum-finite-width"]


@pytest.mark.slow
def test_spectrum_pages_build_deterministically_and_their_checks_pass() -> None:
    first = render_reports(PAGES)
    assert first == render_reports(PAGES, jobs=2)
    for name in PAGES:
        text = first[f"{name}.md"].decode()
        assert "## Verification" in text and "```math" in text and "$$" not in text
        rows = [line for line in text.splitlines() if line.startswith("| ") and " | no |" in
                line]
        assert rows == [], rows
        # every simulated entry is "value ± se"
        assert re.search(r"\d ± \d", text)
    assert any(path.endswith(".svg") for path in first)


@pytest.mark.parametrize(("value", "se", "text"), [
    (0.123456, 0.0023, "0.123 ± 0.002"),
    (0.123456, 0.0013, "0.1235 ± 0.0013"),
    (12345.6, 23.0, "12350 ± 20"),
    (-0.0021, 0.0094, "-0.002 ± 0.009"),
])
def test_simulated_numbers_are_rounded_to_their_standard_error(value, se, text) -> None:
    assert simulated_text(value, se) == text
