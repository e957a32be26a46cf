"""The index page proofs/README.md: reading order and the at-a-glance activation table,
its numbers recomputed here by mpmath (root finding and quadrature at 30 digits)."""

from __future__ import annotations

import functools
import math

import mpmath
import pytest

from symgrad.activations.catalogue import CATALOGUE
from symgrad.reports.glance import HEADER, glance, glance_cells
from symgrad.reports.pipeline import Output, Report
from symgrad.reports.registry import READING_ORDER, all_reports, index


@functools.cache
def _readme() -> str:
    return index(all_reports()).content.decode()


def _row(name: str) -> dict[str, str]:
    cells = glance_cells(glance(name))
    return dict(zip(HEADER, cells, strict=True))


def _sigmoid_prime(x: mpmath.mpf) -> mpmath.mpf:
    s = 1 / (1 + mpmath.exp(-x))
    return s * (1 - s)


def _gelu_prime(x: mpmath.mpf) -> mpmath.mpf:
    return mpmath.ncdf(x) + x * mpmath.npdf(x)


def _digits(text: str) -> float:
    return float(text.split()[-1].replace("−", "-"))


def test_every_catalogue_activation_has_a_row_linking_its_page() -> None:
    text = _readme()
    for name in CATALOGUE:
        assert f"| [{name}](activation-{name}.md) |" in text, name
    assert "(meanfield.md)" in text and "χ₁" in text


def test_reading_order_links_reports_that_exist() -> None:
    text = _readme()
    names = {r.name for r in all_reports()}
    assert {name for name, _ in READING_ORDER} <= names
    positions = [text.index(f"]({name}.md): ") for name, _ in READING_ORDER]
    assert positions == sorted(positions)


def test_sigmoid_row_against_closed_forms_and_mpmath() -> None:
    row = _row("sigmoid")
    assert row["γ = sup|φ'|"] == "1/4" and row["1/γ"] == "4" and row["attained"] == "yes"
    assert row["argmax"] == "z = 0" and row["φ' = 0 for"] == "—"
    with mpmath.workdps(30):
        for eps, col in ((mpmath.mpf("0.01"), "|φ'| < 10⁻² for"),
                         (mpmath.mpf("0.0001"), "|φ'| < 10⁻⁴ for")):
            t = mpmath.findroot(lambda x, e=eps: _sigmoid_prime(x) - e, 5)
            shown = row[col]
            assert shown.startswith("|z| > ")
            assert abs(_digits(shown) - float(t)) <= 10 ** (math.floor(math.log10(t)) - 7)
        e1 = mpmath.quad(lambda x: _sigmoid_prime(x) * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])
    assert abs(_digits(row["E[φ'(Z)]"]) - float(e1)) < 1e-8


def test_gelu_dead_point_against_mpmath_root() -> None:
    row = _row("gelu")
    with mpmath.workdps(30):
        root = mpmath.findroot(_gelu_prime, -0.75)
    shown = row["φ' = 0 for"]
    assert shown.startswith("z = −")
    assert abs(_digits(shown) - float(root)) < 1e-8
    assert row["E[φ'(Z)]"] == "1/2"  # φ' − 1/2 is odd


@pytest.mark.parametrize(("name", "dead", "attained"), [
    ("relu", "z ≤ 0", "yes †"), ("softplus", "—", "no"), ("hard_tanh", "z ≤ −1 or z > 1", "yes †"),
    ("identity", "—", "yes"),
])
def test_dead_sets_and_attainment(name: str, dead: str, attained: str) -> None:
    row = _row(name)
    assert row["φ' = 0 for"] == dead and row["attained"] == attained


def test_index_without_activations_has_no_table() -> None:
    report = Report("a", "A", "a test report", "Bounds and proofs",
                    lambda: [Output.text("a.md", "")])
    text = index([report]).content.decode()
    assert "at a glance" not in text and "[A](a.md)" in text
