"""The README runs as written: every `>>>` example of every section, the claims example on
the TOML the README shows, the Hypothesis example as the test it is, and the commands CI
runs are the README's."""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from symgrad import unregister_activation

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")
SECTIONS = dict(zip(re.findall(r"<!-- section: (\w+) -->", TEXT),
                    re.split(r"<!-- section: \w+ -->", TEXT)[1:], strict=True))


def _blocks(section: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", SECTIONS[section], flags=re.S)


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_every_example_runs_as_written(name: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    if name == "reports":  # the claims example reads the TOML the section shows
        (tmp_path / "claims.toml").write_text(_blocks("reports", "toml")[0])
        monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest(SECTIONS[name], {}, f"README:{name}",
                                               str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    try:
        runner.run(test)
    finally:
        if name == "foundation":
            unregister_activation("bent")
    result = runner.summarize(verbose=False)
    assert result.failed == 0
    assert result.attempted >= 2 or name == "layout"


def test_the_readme_has_examples_everywhere() -> None:
    assert {"foundation", "depth", "numeric", "meanfield", "reports"} <= set(SECTIONS)
    assert sum(s.count(">>> ") for s in SECTIONS.values()) >= 40


@pytest.mark.slow  # 17 activations' first derivations in a fresh interpreter
def test_the_hypothesis_example_passes_as_written(tmp_path: Path) -> None:
    """Run in a fresh interpreter, as a user's own suite would: Hypothesis' default
    settings (deadline included), none of this suite's profiles."""
    source = next(b for b in _blocks("foundation", "python") if "@given" in b)
    names = re.findall(r"^def (test_\w+)", source, flags=re.M)
    assert len(names) == 1
    script = tmp_path / "readme_example.py"
    script.write_text(source + f"\n{names[0]}()\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # CI would load the ci profile
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_readme_commands_are_the_ci_commands() -> None:
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    install = ("python -m pip install --upgrade --upgrade-strategy eager "
               "-e '.[test,distributed,progress]'")
    assert f"{install} && python -m pytest -q -n auto\n" in TEXT
    assert f"{install} --quiet\n" in ci
    assert "\npython -m pytest -q -n auto\n" in ci
