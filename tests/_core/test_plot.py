"""symgrad._core.plot: histograms, horizontal bands, ticks of one's own and open error-bar
markers, checked against NumPy and against pixel positions worked out by hand.

A 400 × 300 figure with one panel has its plot box at x 62 … 386 (324 px wide) and
y 24 … 256 (232 px high): margins 62 left, 14 right, 24 top, 44 bottom.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from symgrad._core import svg
from symgrad._core.plot import Axes, Figure
from symgrad.errors import InvalidArgument

X0, X1, Y0, Y1 = 62.0, 386.0, 24.0, 256.0


def _panel() -> tuple[Figure, Axes]:
    fig = Figure(width=400, height=300)
    return fig, fig.axes()


def _text_at(svg_text: str, y: float) -> dict[str, float]:
    """{label: x} of the text elements on the baseline y (tick labels of the x axis)."""
    found = re.findall(r'<text x="([-\d.]+)" y="([-\d.]+)"[^>]*>([^<]*)</text>', svg_text)
    return {label: float(x) for x, ty, label in found if math.isclose(float(ty), y)}


@pytest.mark.parametrize("density", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_histogram_counts_as_numpy_does(density: bool, weighted: bool) -> None:
    rng = np.random.default_rng(7)
    edges = np.linspace(-2.0, 3.0, 11)
    # normal draws, values exactly on edges (the last edge belongs to the last bin),
    # values outside the range and a NaN, all left out by NumPy too
    values = np.concatenate([rng.normal(size=500), edges, [-5.0, 7.0, np.nan]])
    weights = rng.uniform(0.5, 2.0, size=values.size) if weighted else None
    inside = ~np.isnan(values)
    expected, _ = np.histogram(values[inside], edges, density=density,
                               weights=None if weights is None else weights[inside])
    got = svg.histogram(values.tolist(), edges.tolist(),
                        None if weights is None else weights.tolist(), density)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_histogram_refuses_bad_edges() -> None:
    with pytest.raises(InvalidArgument):
        svg.histogram([1.0], [0.0, 0.0])
    with pytest.raises(InvalidArgument):
        svg.histogram([1.0], [0.0])


def test_bars_stand_on_zero_at_hand_computed_pixels() -> None:
    fig, ax = _panel()
    ax.hist([0.5, 1.5, 1.5, 2.5, 2.5, 2.5], [0, 1, 2, 3], label="counts")
    ax.set(xlim=(0, 3), ylim=(0, 4))
    out = fig.svg().decode()
    # heights 1, 2, 3 of 4 → y = 256 − h/4·232 = 198, 140, 82; x edges at 62 + k·108
    assert '<path d="M62,256V198H170V140H278V82H386V256Z"' in out


def test_bars_without_limits_start_the_y_axis_at_zero() -> None:
    fig, ax = _panel()
    ax.hist([0.5, 1.5, 1.5, 2.5, 2.5, 2.5], [0, 1, 2, 3])
    out = fig.svg().decode()
    # y labels sit at x = 62 − 4, baseline 4 px below their tick: "0" exactly on the bottom
    labels = re.findall(
        r'<text x="58" y="([-\d.]+)" text-anchor="end" class="ytick">([^<]*)</text>', out)
    assert ("260", "0") in labels


def test_hband_spans_the_width_between_its_values() -> None:
    fig, ax = _panel()
    ax.hband(1, 2, color="#123456")
    ax.set(xlim=(0, 1), ylim=(0, 4))
    out = fig.svg().decode()
    # y = 256 − 2/4·232 = 140 to 256 − 1/4·232 = 198
    assert '<rect x="62" y="140" width="324" height="58" fill="#123456"' in out


def test_own_ticks_on_a_log_axis() -> None:
    fig, ax = _panel()
    ax.line([2, 50], [1, 2])
    ax.set(xscale="log", xlim=(1, 100), xticks=[(2, "2"), (10, "ten"), (1000, "outside")])
    labels = _text_at(fig.svg().decode(), Y1 + 14)
    assert set(labels) == {"2", "ten"}
    assert labels["2"] == pytest.approx(X0 + math.log10(2) / 2 * 324, abs=0.006)  # 110.77
    assert labels["ten"] == pytest.approx(X0 + 324 / 2)


def test_errorbar_markers_can_be_open() -> None:
    fig, ax = _panel()
    ax.errorbar([1, 2], [1, 2], [0.1, 0.1], color="#aa0000", filled=False)
    out = fig.svg().decode()
    assert out.count('fill="#ffffff" stroke="#aa0000"') == 2


def test_best_legend_keeps_off_tall_bars() -> None:
    fig, ax = _panel()
    ax.hist([0.5] * 10 + [2.5], [0, 1, 2, 3], label="tall on the left")
    out = fig.svg().decode()
    x = float(re.search(r'<g class="legend"><rect x="([-\d.]+)"', out).group(1))  # type: ignore[union-attr]
    assert x > (X0 + X1) / 2  # the legend went to the right, over the short bars
