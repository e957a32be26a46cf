"""The report pipeline: determinism, atomic writing, --check, and the committed proofs/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import slope
from symgrad._core.plot import Figure
from symgrad.errors import InvalidArgument
from symgrad.reports import check_reports, pipeline, render_reports, report_names
from symgrad.reports.pages.sigmoid_bound import sigmoid_bound_proof
from symgrad.reports.pipeline import Output, Report, check, generate, select, write
from symgrad.reports.registry import index

REPO = Path(__file__).resolve().parents[2]


def _report(name: str, text: str, *, fail: bool = False) -> Report:
    def build() -> list[Output]:
        if fail:
            raise RuntimeError("derivation failed half-way")
        return [Output.text(f"{name}.md", text), Output.text(f"figures/{name}.svg", "<svg/>")]

    return Report(name, name.title(), "a test report", "Bounds and proofs", build)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# ---- writing ----

def test_write_then_check_is_current(tmp_path: Path) -> None:
    files = generate([_report("a", "alpha\n"), _report("b", "beta\n")])
    out = tmp_path / "proofs"
    write(out, files)
    assert _tree(out) == files
    assert check(out, files) == ""


def test_check_reports_changed_new_and_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "proofs"
    write(out, generate([_report("a", "alpha\n"), _report("b", "beta\n")]))
    (out / "stale.md").write_text("old\n")
    fresh = generate([_report("a", "alpha changed\n"), _report("b", "beta\n"),
                      _report("c", "gamma\n")])
    diff = check(out, fresh)
    assert "-alpha\n+alpha changed\n" in diff
    assert "--- /dev/null" in diff and "+gamma" in diff
    assert "-old" in diff and "+++ /dev/null" in diff
    # --check never writes.
    assert (out / "a.md").read_text() == "alpha\n"
    assert not (out / "c.md").exists()


def test_full_write_removes_stale_files_partial_write_keeps_them(tmp_path: Path) -> None:
    out = tmp_path / "proofs"
    write(out, generate([_report("a", "1\n"), _report("b", "2\n")]))
    write(out, generate([_report("a", "3\n")]), replace_all=False)
    assert (out / "a.md").read_text() == "3\n" and (out / "b.md").read_text() == "2\n"
    write(out, generate([_report("a", "3\n")]))
    assert not (out / "b.md").exists()


def test_failed_generation_leaves_previous_proofs_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import symgrad.reports as reports

    out = tmp_path / "proofs"
    # a directory symgrad wrote (its index says so): build_reports may replace it
    write(out, generate([_report("a", "before\n")], index=index))
    before = _tree(out)
    broken = (_report("a", "after\n"), _report("b", "x\n", fail=True))
    monkeypatch.setattr(reports, "all_reports", lambda: broken)
    with pytest.raises(RuntimeError, match="half-way"):
        reports.build_reports(out)
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proofs"]


def test_failed_write_half_way_leaves_previous_proofs_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "proofs"
    write(out, generate([_report("a", "before\n"), _report("b", "before\n")]))
    before = _tree(out)
    real = Path.write_bytes
    calls = []

    def flaky(self: Path, data: bytes) -> int:
        calls.append(self)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", flaky)
    with pytest.raises(OSError, match="disk full"):
        write(out, generate([_report("a", "after\n"), _report("b", "after\n")]))
    monkeypatch.undo()
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proofs"]


def test_two_reports_writing_one_path_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="twice"):
        generate([_report("a", "1\n"), _report("a", "2\n")])


def test_worker_processes_give_the_same_bytes() -> None:
    names = ["clipping", "sigmoid-bound"]
    assert render_reports(names, jobs=2) == render_reports(names)


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_jobs_must_be_a_positive_integer(jobs: object) -> None:
    with pytest.raises(InvalidArgument, match="jobs"):
        generate([_report("a", "1\n")], jobs=jobs)  # type: ignore[arg-type]


def test_unknown_report_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidArgument, match=r"known reports: .*sigmoid-bound"):
        render_reports(["no-such-report"])
    assert select([_report("a", "")], None)[0].name == "a"


def test_out_must_be_a_directory(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InvalidArgument, match="not a directory"):
        write(target, {"a.md": b"x"})


# ---- progress: on a terminal outside CI only, on stderr ----

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("tty", "ci", "shown"), [(True, "", True), (True, "true", False),
                                                  (False, "", False)])
def test_progress_only_on_a_terminal_outside_ci(
    monkeypatch: pytest.MonkeyPatch, tty: bool, ci: str, shown: bool
) -> None:
    stream = _Tty() if tty else io.StringIO()
    monkeypatch.setattr(pipeline.sys, "stderr", stream)
    monkeypatch.setenv("CI", ci)
    generate([_report("a", "1\n")])
    assert ("[1/1] a" in stream.getvalue()) is shown


# ---- determinism ----

def test_figures_are_deterministic_and_carry_no_date() -> None:
    def draw() -> bytes:
        fig = Figure()
        fig.axes().line([0, 1, 2], [2, 0, 1], label="a line")
        return fig.svg()

    first, second = draw(), draw()
    assert first == second
    assert first.startswith(b"<svg") or first.startswith(b"<?xml")
    assert b"date" not in first.lower() and b"matplotlib" not in first.lower()


def test_a_report_renders_identically_twice() -> None:
    one = render_reports(["sigmoid-bound"])
    two = render_reports(["sigmoid-bound"])
    assert one == two
    assert set(one) == {"README.md", "sigmoid-bound.md", "figures/sigmoid-bound.svg"}


def test_every_report_uses_math_blocks_and_has_a_verification_section() -> None:
    files = render_reports(["sigmoid-bound"])
    text = files["sigmoid-bound.md"].decode()
    assert "```math" in text and "## Verification" in text and "$$" not in text


@pytest.mark.slow  # renders all 33 reports (a minute): CI's slow step and oldest step run it
def test_committed_proofs_are_current() -> None:
    """`symgrad report --check` on the repository's proofs/ finds nothing to change."""
    proofs = REPO / "proofs"
    if not proofs.is_dir():
        pytest.fail("proofs/ is missing: run `symgrad report`")
    # Two workers: the suite runs serially, so both cores are free (same bytes either way).
    diff = check_reports(proofs, jobs=2)
    assert diff == "", "proofs/ is stale; run `symgrad report`:\n" + diff[:4000]
    index = (proofs / "README.md").read_text()
    for name in report_names():
        assert f"({name}.md)" in index
        text = (proofs / f"{name}.md").read_text()
        assert "## Verification" in text and "$$" not in text, name


# ---- σ'(z) ≤ 1/4 without calculus ----

def test_sigmoid_bound_identities_hold_and_steps_are_true() -> None:
    proof = sigmoid_bound_proof()
    assert proof.bound == sympy.Rational(1, 4) and proof.at == 0
    assert len(proof.checks) >= 3 and all(check.holds for check in proof.checks)
    # Each stated identity re-verified here, not trusted: symbolically and at sample points.
    for identity in proof.checks:
        difference = identity.lhs - identity.rhs
        assert sympy.simplify(difference) == 0, identity.claim
        for free in difference.free_symbols:
            for value in (sympy.Rational(-7, 3), sympy.Rational(1, 5), 4):
                gap = difference.subs(free, value)
                assert abs(sympy.N(gap, 40)) < sympy.Float(10) ** -35, identity.claim
    s = sympy.Symbol("s", real=True)
    # The completed square and the AM–GM gap, re-verified here by expansion.
    assert sympy.expand(s * (1 - s) - (sympy.Rational(1, 4) - (s - sympy.Rational(1, 2)) ** 2)) \
        == 0
    x = sympy.Symbol("x", positive=True)  # x = e^{z/2}
    assert sympy.expand((x**2 + x**-2 - 2) - (x - 1 / x) ** 2) == 0
    # The finite differences, recomputed here on the record's grid: float64 central
    # differences (σ(z + h) − σ(z − h))/2h.  Their error, derived: truncation h²|σ‴|/6 with
    # |σ‴| ≤ 1/8 (its value at 0), plus rounding ≤ 2·u·σ/(2h) ≤ u/(2h) for σ ≤ 1; at
    # h = 1e-5 that is 2.1e-12 + 5.6e-12 — doubled for the σ evaluation's own ulp: 1.6e-11.
    h = proof.step_size
    grid = np.asarray(proof.grid, dtype=float)

    def sig(v: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-v))

    fd = (sig(grid + h) - sig(grid - h)) / (2 * h)
    bound = 2 * (h * h / 48 + 2.0**-53 / (2 * h))
    np.testing.assert_allclose(proof.finite_difference, fd, rtol=0, atol=bound)
    exact = sig(grid) * (1 - sig(grid))
    assert np.max(np.abs(fd - exact)) <= bound
    assert abs(proof.numeric_max - 0.25) <= bound <= proof.numeric_tolerance
    assert proof.numeric_argmax == 0.0 == grid[np.argmax(fd)]


@settings(max_examples=60)
@given(st.floats(min_value=-50, max_value=50, allow_nan=False))
def test_sigmoid_slope_never_exceeds_a_quarter(x: float) -> None:
    # symgrad's σ'(x) against e^{-|x|}/(1 + e^{-|x|})² computed here at 40 digits (the
    # symmetric form: s(1 − s) would cancel for large x), then the bound itself.
    got = slope("sigmoid", x, dps=40).value
    with mpmath.workdps(40):
        # symgrad reads a float as its shortest decimal (DESIGN: 0.1 is 1/10), so does this.
        e = mpmath.exp(-abs(mpmath.mpf(repr(x))))
        ref = e / (1 + e) ** 2
        # 40-digit evaluations on both sides: relative 1e-35 leaves room for a few ulps.
        assert abs(got - ref) <= mpmath.mpf(10) ** -35 * ref
        assert got <= mpmath.mpf(1) / 4
        # 1/4 − σ' = (σ − 1/2)² ≈ x²/16: resolvable at 40 digits when |x| > 1e-15.
        if abs(x) > 1e-15:
            assert got < mpmath.mpf(1) / 4


def test_report_output_has_no_timestamps() -> None:
    files = render_reports(["sigmoid-bound"])
    for name, data in files.items():
        text = data.decode()
        # No dates (ISO), no clock times, no CR line ends on any platform.
        assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b", text), name
        assert not re.search(r"\b\d\d:\d\d:\d\d\b", text), name
        assert "UTC" not in text and "\r" not in text, name
