"""The ``symgrad`` command line under hostile input: exit 2, one stderr line, nothing written.

Each expectation is what a user should read, derived from the command's contract (see the
sub-command's --help), not copied from the implementation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from symgrad.cli.main import main
from symgrad.errors import InvalidArgument

BAD: list[tuple[list[str], int, str]] = [
    # unknown names, missing arguments, unknown flags
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    (["list", "extra"], 2, "unrecognized arguments: extra"),
    (["activation"], 2, "required: NAME"),
    (["activation", "nope"], 2, "unknown activation 'nope'"),
    (["activation", " "], 2, "NAME must not be empty"),
    (["gain", "nope"], 2, "unknown activation 'nope'"),
    (["meanfield", "tanh", "--sigma-w", "1"], 2, "required: --sigma-b"),
    (["meanfield", "tanh", "--sigma-w", "1", "--sigma-b", "0", "--mode", "bogus"], 2,
     "invalid choice: 'bogus'"),
    (["chain", "sigmoid", "--depth", "4"], 2, "required: --weight"),
    # numbers: not a number, empty, NaN, ±inf, out of range
    (["activation", "tanh", "--eps", "abc"], 2, "--eps must be a number"),
    (["activation", "tanh", "--eps", ""], 2, "--eps must be a number"),
    (["activation", "tanh", "--eps", "nan"], 2, "--eps must be a finite real number"),
    (["activation", "tanh", "--eps=-inf"], 2, "--eps must be a finite real number"),
    (["activation", "tanh", "--eps", "0"], 2, "eps must be > 0"),
    (["activation", "tanh", "--eps", "-1"], 2, "eps must be > 0"),
    (["activation", "tanh", "--eps", "1e400"], 2, "at most 1.79e308"),
    (["activation", "tanh", "--eps", "1e-999999999"], 2, "at least 1e-324"),
    (["meanfield", "tanh", "--sigma-w", "0", "--sigma-b", "0"], 2,
     "sigma_w must be in (0, 1e+100], got 0"),
    (["meanfield", "tanh", "--sigma-w", "1", "--sigma-b", "-1"], 2,
     "sigma_b must be in [0, 1e+100], got -1"),
    (["meanfield", "tanh", "--sigma-w", "inf", "--sigma-b", "0"], 2,
     "--sigma-w must be a finite real number"),
    # --param: no '=', empty key, unknown key, string value, repeated, parameterless activation
    (["activation", "elu", "--param", "alpha"], 2, "--param takes KEY=VALUE"),
    (["activation", "elu", "--param", " =3"], 2, "--param takes KEY=VALUE"),
    (["activation", "elu", "--param", "beta=1"], 2, "elu has no parameter beta"),
    (["activation", "elu", "--param", "alpha=big"], 2, "--param alpha must be a number"),
    (["activation", "elu", "--param", "alpha=nan"], 2,
     "--param alpha must be a finite real number"),
    (["activation", "elu", "--param", "alpha=-1"], 2, "alpha must be >= 0"),
    (["activation", "elu", "--param", "alpha=1", "--param", "alpha=2"], 2, "given twice"),
    (["activation", "sigmoid", "--param", "alpha=1"], 2, "sigmoid has no parameter alpha"),
    (["gain", "leaky_relu", "--param", "alpha=1e-999999"], 2, "at least 1e-324"),
    # chain: integers where integers belong, depth/dps/rows ranges, per-layer lists
    (["chain", "sigmoid", "--depth", "2.5", "--weight", "1"], 2, "invalid int value: '2.5'"),
    (["chain", "sigmoid", "--depth", "1e3", "--weight", "1"], 2, "invalid int value: '1e3'"),
    (["chain", "sigmoid", "--depth", "0", "--weight", "1"], 2, "depth must be an integer"),
    (["chain", "sigmoid", "--depth", "-3", "--weight", "1"], 2, "depth must be an integer"),
    (["chain", "sigmoid", "--depth", str(2**63), "--weight", "0.9"], 2, "--depth must be"),
    (["chain", "sigmoid", "--depth", "4", "--weight", "1", "--dps", "1000000000"], 2,
     "--dps must be an integer in [5, 10000]"),
    (["chain", "sigmoid", "--depth", "4", "--weight", "1", "--dps", "0"], 2, "--dps must be"),
    (["chain", "sigmoid", "--depth", "40", "--weight", "1", "--rows", "1"], 2,
     "--rows must be an integer >= 2"),
    (["chain", "sigmoid", "--depth", "4", "--weight", "1,2"], 2, "2 per-layer values"),
    (["chain", "sigmoid", "--depth", "4", "--weight", "1,,3,4"], 2, "--weight[1] must be a"),
    (["chain", "sigmoid", "--depth", "4", "--weight", "1", "--x", "nan"], 2,
     "--x must be a finite real number"),
    (["chain", "sigmoid", "--depth", "4", "--weight", "1", "--lr", "0"], 2, "lr must be > 0"),
    (["chain", "sigmoid", "--depth", "4", "--weight", "1", "--upstream", "0"], 2,
     "upstream must be nonzero"),
    # claims files
    (["claims"], 2, "required: FILE"),
    (["claims", ""], 2, "FILE must not be empty"),
    (["claims", "/no/such/claims.toml"], 2, "does not exist"),
    # report and crosscheck: unknown names, conflicting flags
    (["report", "--only", "no-such-report", "--out", "OUT"], 2, "unknown report 'no-such-report'"),
    (["report", "--only", "", "--out", "OUT"], 2, "unknown report ''"),
    (["report", "--list", "--check"], 2, "--list prints every report name"),
    (["report", "--out", "", "--only", "sigmoid-bound"], 2, "--out must not be empty"),
    (["report", "--jobs", "0", "--only", "sigmoid-bound", "--out", "OUT"], 2,
     "jobs must be an integer >= 1"),
    (["crosscheck", "--check", "nope"], 2, "unknown check(s) 'nope'"),
    (["crosscheck", "--list", "--check", "he_vs_xavier"], 2, "exclude each other"),
    (["crosscheck", "--seed", "abc"], 2, "invalid int value: 'abc'"),
    (["crosscheck", "-z", "nan", "--check", "he_vs_xavier"], 2, "z must be finite"),
]


def _status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code or 0)


@pytest.mark.parametrize(("argv", "code", "message"), BAD, ids=[" ".join(a) for a, _, _ in BAD])
def test_bad_input_exits_with_one_line(argv: list[str], code: int, message: str,
                                       capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    assert _status(argv) == code
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("symgrad") and "error" in lines[0] and message in lines[0]
    assert captured.out == ""
    assert not (tmp_path / "out").exists()


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(("content", "message"), [
    (b"\x00\x01\xff\xfe", "cannot read claims file"),
    (b"this is = = not toml [[", "is not valid TOML"),
    (b"", "has no claims"),
    (b'title = "x"\n', "has no claims"),
])
def test_claims_file_that_cannot_be_read(content: bytes, message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claims", _write(tmp_path / "c.toml", content)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err
    assert main(["claims", str(tmp_path)]) == 2  # a directory
    assert "cannot read claims file" in capsys.readouterr().err


def test_claims_with_several_broken_claims_lists_all_on_stdout_one_line_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = "".join(f'[[claim]]\nid = "{i}"\ntext = "t"\nkind = "nosuchkind"\n' for i in "abc")
    assert main(["claims", _write(tmp_path / "c.toml", body.encode())]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "(and 2 more, in the output)" in captured.err
    assert captured.out.count("field 'kind' is unknown") == 3


def test_report_out_refuses_files_and_foreign_directories(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("keep me")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    for out, flags, message in [(a_file, [], "exists and is not a directory"),
                                (a_file, ["--check"], "exists and is not a directory"),
                                (foreign, [], "did not write; refusing")]:
        assert main(["report", "--only", "sigmoid-bound", "--out", str(out), *flags]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1
        assert message in captured.err
    assert a_file.read_text() == "keep me" and (foreign / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_report_out_unwritable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # /proc refuses new directories even to root.
    assert main(["report", "--only", "sigmoid-bound", "-j", "1", "--out", "/proc/no-such/dir"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out '/proc/no-such/dir'" in err


@pytest.mark.parametrize("out", ["/proc/no-such/dir", "/proc/here", "/sys/no-such"])
def test_report_out_unwritable_is_refused_before_any_report_is_built(
        out: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # The permission bits call /proc and /sys writable to root; the refusal must come from
    # trying, and before the (seconds-long) build, not after it.
    import symgrad.reports as reports

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a report was built for an unwritable --out")

    monkeypatch.setattr(reports, "generate", never)
    assert main(["report", "--only", "sigmoid-bound", "-j", "1", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot write --out {out!r}" in err
    with pytest.raises(InvalidArgument, match="refuses new entries"):
        reports.build_reports(out, only=["sigmoid-bound"])


def test_json_is_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    # ReLU at σ_w = √2, σ_b = 0: c* and ξ_c have no finite value (NaN in the record);
    # JSON has no NaN, so the output must still parse with NaN refused.
    def refuse(constant: str) -> None:
        raise ValueError(constant)

    argv = ["meanfield", "relu", "--sigma-w", "1.4142135623730951", "--sigma-b", "0", "--json"]
    assert main(argv) == 0
    json.loads(capsys.readouterr().out, parse_constant=refuse)


@pytest.mark.parametrize("command", ["list", "activation", "chain", "claims", "report",
                                     "crosscheck", "meanfield", "gain"])
def test_help_shows_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _status([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "example" in text and f"symgrad {command}" in text


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True,
                          text=True, check=False, timeout=60)


@pytest.mark.parametrize(("argv", "message"), [
    (["chain", "sigmoid", "--depth", str(10**24), "--weight", "0.9"], "--depth must be"),
    (["activation", "sigmoid", "--eps", "1e-999999999"], "at least 1e-324"),
    (["report", "--out", "/proc/no-such/dir", "--only", "sigmoid-bound", "-j", "1"],
     "cannot write"),
])
def test_no_traceback_from_a_real_process(argv: list[str], message: str) -> None:
    out = _run(*argv)
    assert out.returncode == 2 and out.stdout == ""
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0]


# Extreme but valid input: the library answers (these used to crash inside it).
@pytest.mark.parametrize("argv", [
    ["meanfield", "tanh", "--sigma-w", "1e10", "--sigma-b", "0"],  # χ₁ underflows to 0
    ["activation", "tanh", "--eps", "1e-100"],  # thresholds need 200 extra digits
    ["activation", "sigmoid", "--eps", "1e-300"],
])
def test_extreme_valid_input_is_answered(argv: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    assert capsys.readouterr().err == ""


# Out of float64's working range: refused with the allowed range, not an overflow.
@pytest.mark.parametrize(("argv", "message"), [
    (["meanfield", "tanh", "--sigma-w", "1e200", "--sigma-b", "0"],
     "sigma_w must be in (0, 1e+100]"),
    (["gain", "elu", "--param", "alpha=1e300"], "between 1e-100 and 1e100"),
])
def test_out_of_range_parameters_are_refused(argv: list[str], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_tanh_is_not_saturated_at_zero_for_tiny_eps(capsys: pytest.CaptureFixture[str]) -> None:
    # tanh'(0) = 1, so {z : |tanh'(z)| < 1e-30} cannot contain 0; it is |z| > atanh(√(1-ε)).
    assert main(["activation", "tanh", "--eps", "1e-30", "--json"]) == 0
    region = json.loads(capsys.readouterr().out)["saturation"][0]["region"]
    assert "Interval(-oo, oo)" not in region and region != "Reals"
