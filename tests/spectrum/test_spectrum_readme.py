"""The README's spectrum section prints what it says."""

from __future__ import annotations

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_spectrum_examples_run_as_written() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- section: spectrum -->")
    end = text.index("<!-- section:", start + 1)
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text[start:end], {}, "README:spectrum", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 8 and result.failed == 0
