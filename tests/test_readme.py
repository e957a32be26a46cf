"""The README's foundation examples print what they say."""

from __future__ import annotations

import doctest
from pathlib import Path

from symgrad import unregister_activation

README = Path(__file__).resolve().parents[1] / "README.md"


def _section(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"<!-- section: {name} -->")
    end = text.find("<!-- section:", start + 1)
    return text[start:end if end != -1 else None]


def test_foundation_examples_run_as_written():
    parser = doctest.DocTestParser()
    test = parser.get_doctest(_section("foundation"), {}, "README:foundation", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    try:
        runner.run(test)
    finally:
        unregister_activation("bent")
    result = runner.summarize(verbose=False)
    assert result.attempted >= 10 and result.failed == 0


def test_readme_commands_are_the_ci_commands():
    text = README.read_text(encoding="utf-8")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    install = ("python -m pip install --upgrade --upgrade-strategy eager "
               "-e '.[test,plots,distributed,progress]'")
    assert f"{install} && python -m pytest -q" in text
    assert f"{install} --quiet\n" in ci
    assert "\npython -m pytest -q\n" in ci
