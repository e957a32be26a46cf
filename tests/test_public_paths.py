"""The public subpackage paths the README lists all import, and say what they hold."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
LISTED = re.findall(r"^\| `(symgrad[.\w]*)`(?:, `(symgrad[.\w]*)`)? \|", README, flags=re.M)
PATHS = sorted({p for pair in LISTED for p in pair if p})


def test_the_readme_lists_the_layout() -> None:
    assert {"symgrad.activations", "symgrad.slopes", "symgrad.depth", "symgrad.meanfield",
            "symgrad.numeric", "symgrad.claims", "symgrad.reports"} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS)
def test_each_public_path_imports_and_declares_its_names(path: str) -> None:
    module = importlib.import_module(path)
    assert module.__doc__, f"{path} has no docstring"
    names = getattr(module, "__all__", [])  # sorted: ruff's RUF022 checks the order
    for name in names:
        assert getattr(module, name) is not None


def test_import_symgrad_loads_no_question() -> None:
    code = ("import sys, symgrad; heavy = [m for m in ('sympy', 'numpy', 'scipy', "
            "'matplotlib', 'mpmath', 'flint') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_the_cli_help_loads_no_question() -> None:
    code = ("import sys\nsys.argv = ['symgrad', '--help']\ntry:\n    from symgrad.cli import main"
            "\n    main()\nexcept SystemExit:\n    pass\nprint([m for m in ('sympy', 'numpy', "
            "'mpmath') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == "[]"
