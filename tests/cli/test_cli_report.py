"""``symgrad report`` and ``symgrad claims`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symgrad.cli.main import main

CLAIMS = '''
[[claim]]
id = "quarter"
text = "sup σ' = 1/4"
kind = "slope_max"
activation = "sigmoid"
value = "1/4"

[[claim]]
id = "below"
text = "The sigmoid gradient is below 0.1 beyond |z| = 2."
kind = "slope_below_beyond"
activation = "sigmoid"
beyond = 2
bound = "1/10"
'''


def test_report_writes_then_check_passes_then_detects_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "proofs"
    assert main(["report", "--out", str(out), "--only", "sigmoid-bound", "-j", "1"]) == 0
    assert (out / "sigmoid-bound.md").is_file() and (out / "README.md").is_file()
    capsys.readouterr()
    assert main(["report", "--out", str(out), "--only", "sigmoid-bound", "-j", "1", "--check"]) == 0
    page = out / "sigmoid-bound.md"
    page.write_text(page.read_text().replace("AM–GM", "AM-GM"))
    before = page.read_bytes()
    assert main(["report", "--out", str(out), "--only", "sigmoid-bound", "-j", "1", "--check"]) == 1
    captured = capsys.readouterr()
    assert "-## Derivation: AM-GM" in captured.out and "+## Derivation: AM–GM" in captured.out
    assert "out of date" in captured.err
    assert page.read_bytes() == before  # --check writes nothing


def test_report_json_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p"
    assert main(["report", "--out", str(out), "--only", "sigmoid-bound", "-j", "1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "sigmoid-bound.md" in payload["files"] and payload["reports"][0]["files"] == 2
    assert main(["report", "--out", str(out), "--only", "sigmoid-bound", "-j", "1", "--check",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["current"] is True
    assert main(["report", "--list", "--json"]) == 0
    names = [r["name"] for r in json.loads(capsys.readouterr().out)]
    assert "sigmoid-bound" in names


def _status(argv: list[str]) -> int:
    """main's return value, or the code argparse exits with."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize(
    "argv",
    [["report", "--only", "no-such-report"], ["claims", "/no/such/file.toml"],
     ["report", "--bogus"], ["claims"]],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    if argv[0] == "report":
        argv = [*argv, "--out", str(tmp_path / "x")]
    assert _status(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("command", ["report", "claims"])
def test_help_shows_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text and f"symgrad {command}" in text and "--json" in text


def test_claims_json_has_the_documented_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "claims.toml"
    path.write_text(CLAIMS)
    assert main(["claims", str(path), "--json"]) == 1  # one claim fails
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["quarter", "below"]
    assert {"id", "verdict", "value", "witness"} <= set(rows[0])
    assert rows[0]["verdict"] == "holds" and rows[0]["value"] == 0.25
    assert rows[1]["verdict"] == "fails" and 2 < rows[1]["witness"] < 2.1


def test_claims_with_a_broken_claim_reports_it_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "claims.toml"
    path.write_text(CLAIMS + '\n[[claim]]\nid = "oops"\ntext = "t"\nkind = "slope_max"\n'
                    'activation = "sigmoid"\n')
    assert main(["claims", str(path)]) == 2
    captured = capsys.readouterr()
    assert "quarter" in captured.out and "holds" in captured.out
    assert "claim 'oops': field 'value' is missing" in captured.err
