"""Every figure the reports draw, parsed as SVG: every panel has both axis labels, a panel
with more than one data series has every series identified by a legend, log axes are
labelled on round decades; and the plot features the activation figures rely on — a jump
drawn without a segment across it, filled and open markers by the kink convention, the
tabulated ε as lines, the dead point marked.

The SVG names its parts (``<g class="axes">``, ``class="xlabel"``, ``<g class="line">``,
``<g class="legend">``, ``class="ytick"``), so the checks read structure, not pixels.
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from symgrad._core import svg
from symgrad._core.plot import Figure
from symgrad.reports import registered_reports, render_reports
from symgrad.reports.pipeline import generate, select

NS = "{http://www.w3.org/2000/svg}"
DATA = ("line", "points", "errorbar", "bars")
#: Cheap reports covering every figure mechanism: kinks (relu, hard_sigmoid), a dead
#: point (gelu), an inset (residual), style proxies (recurrent), two panels (sigmoid-bound,
#: chain), log-log with points (clipping).
FAST = ("activation-relu", "activation-gelu", "activation-hard_sigmoid", "residual",
        "recurrent", "sigmoid-bound", "clipping")
_SUPER = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


# ---- reading an SVG ----

def _classes(el: ET.Element) -> list[str]:
    return (el.get("class") or "").split()


def _panels(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if "axes" in _classes(g)]


def _text(panel: ET.Element, cls: str) -> list[str]:
    return ["".join(t.itertext()).strip() for t in panel.iter(f"{NS}text") if cls in _classes(t)]


def _style(group: ET.Element) -> tuple[str, str, str, str]:
    """(kind, colour, dash, fill) of a series group or a legend sample."""
    kind = _classes(group)[0]
    first = next(iter(group))
    if kind == "bars":
        return kind, first.get("fill", ""), "", ""
    fill = "" if kind == "line" else ("open" if first.get("fill") == "#ffffff" else "filled")
    return kind, first.get("stroke", ""), first.get("stroke-dasharray", ""), fill


def _drawn(panel: ET.Element, kinds: tuple[str, ...]) -> list[ET.Element]:
    """The series groups of those kinds drawn in a panel (legend samples excluded)."""
    legends = {id(x) for g in panel.iter(f"{NS}g") if "legend" in _classes(g) for x in g.iter()}
    return [g for g in panel.iter(f"{NS}g")
            if _classes(g)[:1] and _classes(g)[0] in kinds and id(g) not in legends and len(g)]


def _series(panel: ET.Element) -> list[tuple[str, str, str, str]]:
    """The data series drawn in a panel (legend samples and reference lines excluded)."""
    return [_style(g) for g in _drawn(panel, DATA)]


def _legend_styles(root: ET.Element) -> list[tuple[str, str, str, str]]:
    return [_style(s) for g in root.iter(f"{NS}g") if "legend" in _classes(g)
            for s in g if s.tag == f"{NS}g" and _classes(s)]


def _identified(style: tuple[str, str, str, str],
                legend: list[tuple[str, str, str, str]]) -> bool:
    """A series is identified when a legend entry has its style, or (legend entries as
    keys) its colour names its case and, for a line, an entry of its dash names the
    quantity; markers of a case's colour belong to that case."""
    kind, colour, dash, _ = style
    if style in legend:
        return True
    coloured = any(colour and colour == c for _, c, _, _ in legend)
    if kind == "line":
        return coloured and any(k == "line" and d == dash for k, _, d, _ in legend)
    return coloured


def problems(name: str, content: bytes) -> Iterator[str]:
    """What is wrong with one figure, one sentence per problem."""
    root = ET.fromstring(content)
    legend = _legend_styles(root)
    for i, panel in enumerate(_panels(root)):
        where = f"{name}, panel {i}"
        for cls in ("xlabel", "ylabel"):
            if not any(_text(panel, cls)):
                yield f"{where}: no {cls}"
        series = _series(panel)
        if len(series) > 1:
            for style in series:
                if not _identified(style, legend):
                    yield f"{where}: the series {style} is in no legend"
        for cls in ("xtick", "ytick"):
            exponents = [_decade(t) for t in _text(panel, cls)]
            known = [k for k in exponents if k is not None]
            logarithmic = any(re.fullmatch("10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+", t) for t in _text(panel, cls))
            if logarithmic and not _round_decades(known):
                yield f"{where}: {cls} decades {known} are not round"


def _decade(label: str) -> int | None:
    if label == "1":
        return 0
    if label == "10":
        return 1
    m = re.fullmatch("10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", label)
    return int(m.group(1).translate(_SUPER)) if m else None


def _round_decades(ks: list[int]) -> bool:
    if len(ks) < 2:
        return True
    gaps = {b - a for a, b in itertools.pairwise(ks)}
    if len(gaps) != 1:
        return False
    step = gaps.pop()
    return step in (1, 2, 5, 10, 20, 50, 100) and all(k % step == 0 for k in ks)


def _text_all(panel: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in panel.iter(f"{NS}text")]


def _figures(files: dict[str, bytes]) -> dict[str, bytes]:
    return {p: c for p, c in files.items() if p.endswith(".svg")}


# ---- every figure of a few reports (all of them in the slow suite) ----

@pytest.fixture(scope="module")
def fast_figures() -> dict[str, bytes]:
    # The reports alone: the index (every activation's records) draws no figure.
    return _figures(generate(select(registered_reports(), FAST)))


def test_the_fast_selection_draws_figures(fast_figures: dict[str, bytes]) -> None:
    assert len(fast_figures) == len(FAST)


@pytest.mark.parametrize("report", FAST)
def test_figures_have_labels_legends_and_round_decades(
        fast_figures: dict[str, bytes], report: str) -> None:
    found = [p for path, c in fast_figures.items() if report in path
             for p in problems(path, c)]
    assert found == []


@pytest.mark.slow  # renders all the reports (a minute or two)
def test_every_report_figure_has_labels_legends_and_round_decades() -> None:
    figures = _figures(render_reports())
    assert len(figures) >= 30
    found = [p for path, c in sorted(figures.items()) for p in problems(path, c)]
    assert found == []


# ---- the checker itself ----

def test_the_checker_finds_a_missing_label_and_a_missing_legend() -> None:
    fig = Figure(width=300, height=200)
    ax = fig.axes()
    ax.line([1, 2], [1, 2])
    ax.line([1, 2], [2, 1])
    ax.set(xlabel="x")
    found = list(problems("bad", fig.svg()))
    assert any("no ylabel" in p for p in found)
    assert sum("in no legend" in p for p in found) == 2


def test_the_checker_accepts_style_keys_and_rejects_odd_decades() -> None:
    fig = Figure(width=300, height=200)
    ax = fig.axes()
    for color in ("#0072B2", "#D55E00"):
        ax.line([1, 2], [1e-3, 1e-1], color=color, label=f"case {color}")
        ax.line([1, 2], [1e-2, 1.0], color=color, dash="2 3")
    ax.line([], [], color="#222222", dash="2 3", label="bound")
    ax.set(xlabel="x", ylabel="y", yscale="log",
           yticks=[(1e-3, "10⁻³"), (1e-2, "10⁻²"), (1e-1, "10⁻¹"), (1.0, "1")])
    assert list(problems("keys", fig.svg())) == []
    assert not _round_decades([-14, 0, 14])
    assert _round_decades([-80, -60, -40, -20, 0])


# ---- round decades ----

@pytest.mark.parametrize(("lo", "hi"), [(-98.0, 10.0), (-79.0, 0.2), (-12.0, 2.0), (-3.0, 0.0),
                                        (-40.0, 40.0), (-1.0, 1.0)])
def test_log_ticks_are_round_decades(lo: float, hi: float) -> None:
    ks = [k for k in (_decade(t) for _, t in svg.ticks(lo, hi, "log")) if k is not None]
    assert 2 <= len(ks) <= 8
    assert _round_decades(ks)


def test_a_short_log_axis_gets_two_and_five_marks() -> None:
    assert [t for _, t in svg.ticks(math.log10(0.15), math.log10(8), "log")] == [
        "0.2", "0.5", "1", "2", "5"]
    assert svg.mantissa_text(2, -5) == "2·10⁻⁵"


# ---- jumps ----

def _path_points(d: str) -> list[list[tuple[float, float]]]:
    """The polylines of an M…L… path."""
    return [[(float(x), float(y)) for x, y in re.findall(r"([-\d.]+),([-\d.]+)", run)]
            for run in d.split("M") if run]


def _line_runs(panel: ET.Element) -> list[list[tuple[float, float]]]:
    return [run for g in _drawn(panel, ("line",)) for p in g
            for run in _path_points(p.get("d", ""))]


def _circles(panel: ET.Element) -> list[tuple[float, float, bool]]:
    return [(float(c.get("cx", "0")), float(c.get("cy", "0")), c.get("fill") != "#ffffff")
            for g in _drawn(panel, ("points",)) for c in g]


def _crossing(runs: list[list[tuple[float, float]]], x: float) -> list[tuple[float, float]]:
    return [(a, b) for run in runs for (a, _), (b, _) in itertools.pairwise(run)
            if min(a, b) < x - 0.01 and max(a, b) > x + 0.01]


def test_a_jump_is_drawn_without_a_segment_across_it() -> None:
    # 400 × 300, one panel: x 62 … 386 for [−1, 1], y 24 … 256 for [0, 1]
    fig = Figure(width=400, height=300)
    ax = fig.axes()
    ax.pieces([([-1.0, -0.5, 0.0], [0.0, 0.0, 0.0]), ([0.0, 0.5, 1.0], [1.0, 1.0, 1.0])],
              label="step")
    ax.jump(0.0, 0.0, 1.0, labels=("taken", "other side"))
    ax.set(xlim=(-1, 1), ylim=(0, 1), xlabel="x", ylabel="y")
    panel = _panels(ET.fromstring(fig.svg()))[0]
    runs = _line_runs(panel)
    assert len(runs) == 2 and _crossing(runs, 224.0) == []
    assert (224.0, 256.0, True) in _circles(panel)  # filled on the value taken
    assert (224.0, 24.0, False) in _circles(panel)  # open on the other side's limit


def test_a_joined_line_would_be_caught() -> None:
    fig = Figure(width=400, height=300)
    ax = fig.axes()
    ax.line([-1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0])
    ax.line([-1.0, 1.0], [0.0, 1.0])
    ax.set(xlim=(-1, 1), ylim=(0, 1))
    assert _crossing(_line_runs(_panels(ET.fromstring(fig.svg()))[0]), 224.0)


# ---- the activation figures ----

def _x_of(panel: ET.Element, value: float) -> float:
    """The pixel x of ``value`` from two x tick labels (a linear axis)."""
    ticks = [(float(t.get("x", "0")), float(("".join(t.itertext())).replace("−", "-")))
             for t in panel.iter(f"{NS}text") if "xtick" in _classes(t)]
    (p0, v0), (p1, v1) = ticks[0], ticks[-1]
    return p0 + (value - v0) / (v1 - v0) * (p1 - p0)


def test_relu_kink_is_a_jump_by_the_convention(fast_figures: dict[str, bytes]) -> None:
    top, bottom = _panels(ET.fromstring(fast_figures["figures/activation-relu.svg"]))
    x0 = _x_of(top, 0.0)
    for panel in (top, bottom):
        assert _crossing(_line_runs(panel), x0) == []
    marks = [(cy, filled) for cx, cy, filled in _circles(top) if math.isclose(cx, x0, abs_tol=0.02)]
    # ReLU'(0) = 0 (the left piece holds 0): filled at 0, open at 1, 0 lower on the page
    assert sorted(marks) == [(min(m[0] for m in marks), False), (max(m[0] for m in marks), True)]


def test_hard_sigmoid_kinks_fill_their_own_pieces(fast_figures: dict[str, bytes]) -> None:
    top = _panels(ET.fromstring(fast_figures["figures/activation-hard_sigmoid.svg"]))[0]
    for at in (-3.0, 3.0):
        x = _x_of(top, at)
        assert _crossing(_line_runs(top), x) == []
        filled = [cy for cx, cy, f in _circles(top) if math.isclose(cx, x, abs_tol=0.02) and f]
        opened = [cy for cx, cy, f in _circles(top) if math.isclose(cx, x, abs_tol=0.02) and not f]
        # φ'(−3) = 0 (left piece), φ'(3) = 1/6 (middle piece): filled below at −3, above at 3
        assert len(filled) == len(opened) == 1
        assert (filled[0] > opened[0]) == (at < 0)


def test_gelu_log_panel_has_every_epsilon_and_the_dead_point(
        fast_figures: dict[str, bytes]) -> None:
    content = fast_figures["figures/activation-gelu.svg"]
    top, bottom = _panels(ET.fromstring(content))
    labels = _text(bottom, "ytick")
    assert {"10⁻¹", "10⁻²", "10⁻³", "10⁻⁴"} <= set(labels)
    tick_y = {"".join(t.itertext()): float(t.get("y", "0")) - 4
              for t in bottom.iter(f"{NS}text") if "ytick" in _classes(t)}
    lines = [float(re.match(r"M[-\d.]+,([-\d.]+)H", p.get("d", "")).group(1))  # type: ignore[union-attr]
             for g in bottom.iter(f"{NS}g") if _classes(g)[:1] == ["hline"] for p in g]
    for eps in ("10⁻¹", "10⁻²", "10⁻³", "10⁻⁴"):
        assert any(math.isclose(y, tick_y[eps], abs_tol=0.02) for y in lines), eps
    assert "φ' = 0 at z = −0.7518" in _text_all(top)
    x = _x_of(top, -0.7517915)
    squares = [float(r.get("x", "0")) + float(r.get("width", "0")) / 2
               for g in _drawn(top, ("points",)) for r in g if r.tag == f"{NS}rect"]
    assert any(math.isclose(s, x, abs_tol=0.05) for s in squares)


# ---- the training figure ----

def _legend_texts(panel: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for g in panel.iter(f"{NS}g") if "legend" in _classes(g)
            for t in g.iter(f"{NS}text")]


def test_training_figure_has_the_gradient_panel_for_both_inputs() -> None:
    # Small runs (a fraction of a second) through the report's own figure function.
    from symgrad.numeric.training import compare
    from symgrad.reports.pages import training

    small = {"depth": 3, "width": 8, "epochs": 6, "samples": 64, "rng": 0}
    data = training.TrainingComparison(
        compare("sigmoid", "relu", **small), (),
        compare("sigmoid", "relu", shift=training.SHIFT, **small))
    content = training._figure(data)
    assert list(problems("training", content)) == []
    panels = _panels(ET.fromstring(content))
    gradient = [p for p in panels if any("∂L/∂W_l‖ at init" in t for t in _text(p, "ylabel"))]
    assert len(gradient) == 1
    panel = gradient[0]
    assert any(re.fullmatch("10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+", t) for t in _text(panel, "ytick"))  # log
    legend = _legend_texts(panel)
    for act in ("sigmoid", "relu"):
        assert f"{act}, centred" in legend
        assert f"{act}, shifted by +1" in legend
    # the shifted runs are drawn dashed, the centred ones solid, in every data panel
    for p in panels:
        dashes = {d for kind, _, d, _ in _series(p) if kind == "line"}
        assert "" in dashes and len(dashes) == 2
    # the headline: the last epochs' mean ± sd, one marker per run, beside the loss curve
    loss = next(p for p in panels if _text(p, "ylabel") == ["training loss"])
    assert len(_drawn(loss, ("errorbar",))) == 4
