"""The README's networks section prints what it says."""

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_networks_examples_run_as_written():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- section: networks -->")
    end = text.find("<!-- section:", start + 1)
    test = doctest.DocTestParser().get_doctest(text[start:end], {}, "README:networks",
                                              str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 8 and result.failed == 0
