"""The example notebook is stored without outputs and its code parses; CI executes it
top to bottom (.ci/run, the step "example notebooks")."""

from __future__ import annotations

import ast
import json
from pathlib import Path

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.ipynb"))


def test_there_is_an_example_notebook() -> None:
    assert [p.name for p in NOTEBOOKS] == ["from_sigmoid_to_torch.ipynb"]


def test_notebooks_are_stored_without_outputs_and_parse() -> None:
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code, path
        for cell in code:
            assert cell["outputs"] == [] and cell["execution_count"] is None, path
            ast.parse("".join(cell["source"]))


def test_ci_executes_every_notebook() -> None:
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    assert "python .ci/run_notebooks.py examples/*.ipynb" in ci
