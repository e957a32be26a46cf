"""Every public record renders in a notebook: Markdown, HTML and LaTeX, each parsed.

One record of each public type is built (``FACTORIES``; a public record without a
factory fails ``test_every_public_record_has_a_factory``) and its three renderings are
checked by independent parsers:

* Markdown: markdown-it-py (CommonMark + GFM tables + the ``$``/``$$`` math of JupyterLab
  and VS Code): every table row has the header's number of cells, no emphasis appears
  that the text did not ask for, and each summary value reads back whole in its cell;
* HTML: Python's XML parser (stricter than a browser: every tag closed and nested);
* LaTeX: KaTeX itself, through Node.js, on the notebook LaTeX and every formula in the
  Markdown and HTML, with ``throwOnError`` and KaTeX's strict mode as errors (except a
  Unicode letter inside ``\\text{…}``, which KaTeX renders from the page's font).
"""

from __future__ import annotations

import functools
import html
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

import symgrad
from symgrad import networks as nw
from symgrad.frameworks import LayerStats, diagnosis
from symgrad.frameworks.architecture import LinearSpec, PrimitiveSpec
from symgrad.records import Record, _shown

# ---- one record of each public type ----


def _diagnosis() -> Record:
    rows, items = [], []
    for i in range(4):
        rows += [LayerStats(f"l{i}", "Linear", 1.0, 0.5 ** (4 - i), 2.0, 0.1, 0.3),
                 LayerStats(f"a{i}", "Tanh", 0.4, 0.5 ** (4 - i))]
        items += [LinearSpec(f"l{i}", 8, 8, 1.0, 0.02, None, None),
                  PrimitiveSpec(f"a{i}", nw.activation("tanh"))]
    return diagnosis(rows, model="Sequential | toy", items=items, q0=1.0, batch=8, loss="given")


FACTORIES = {
    "GaussianExpectation": lambda: importlib.import_module("symgrad._exact.gaussian_rules")
    .gaussian_expectation(((sympy.Symbol("z") ** 2, -sympy.oo, sympy.oo),), q=1),
    "ClaimResult": lambda: importlib.import_module("symgrad.claims").check_claims_text(
        '[[claim]]\nid = "a|b"\nkind = "slope_max"\nactivation = "sigmoid"\nvalue = "1/4"\n')[0],
    "DepthThreshold": lambda: symgrad.vanishing_depth(0.25, 1e-6),
    "WeightBound": lambda: symgrad.weight_bound("sigmoid"),
    "Fact": lambda: symgrad.clipping_facts()[0],
    "FixedPoint": lambda: symgrad.fixed_point("sigmoid", weight=0.1),
    "GradientProduct": lambda: symgrad.gradient_product("sigmoid", weight=0.1),
    "ResidualBlock": lambda: symgrad.residual_block(sympy.tanh(symgrad.z), symgrad.z),
    "ResidualProduct": lambda: symgrad.residual_product("tanh"),
    "ChainTrace": lambda: symgrad.chain_trace("sigmoid", depth=4, weight=0.1),
    "Gain": lambda: symgrad.gain("relu", principle="second_moment"),
    "InitVariance": lambda: symgrad.xavier_variance(100, 300),
    "MomentFactor": lambda: symgrad.moment_factor("relu", sympy.Rational(1, 50), fan_in=100),
    # five rows with the three verdicts (both, neither, criticality) and the names that
    # need escaping; the whole catalogue's table is the initialization tests' own
    "GainTable": lambda: symgrad.gain_table(
        names=("relu", "tanh", "gelu_tanh", "leaky_relu", "softplus")),
    "CriticalPoint": lambda: symgrad.critical_sigma_w("tanh", sigma_b=0),
    "PhaseDiagram": lambda: symgrad.phase_diagram("relu", sigma_w=[1.0, 1.5], sigma_b=[0.0, 0.1]),
    "MeanField": lambda: symgrad.mean_field("tanh", sigma_w=1.5, sigma_b=0.05),
    "InitAdvice": lambda: importlib.import_module("symgrad.networks.advice")
    .recommend_init("relu", depth=3),
    "DepthLaw": lambda: nw.depth_law(nw.repeat(nw.residual(nw.serial(
        nw.layernorm(), nw.activation("relu"), nw.dense(1))), 4)),
    "Prediction": lambda: nw.predict(nw.repeat(nw.serial(nw.dense(1), nw.activation("tanh")), 3)),
    "ChainSimulation": lambda: importlib.import_module("symgrad.numeric.chain")
    .simulate_chain("sigmoid", depth=3, weight=0.5),
    "CrossCheck": lambda: symgrad.crosscheck("scalar_chain", rng=0),
    "Sweep": lambda: symgrad.sweep(lambda a, rng: a, {"a": [1, 2]}, rng=0),
    "Simulation": lambda: symgrad.simulate("tanh", width=8, depth=3, sigma_w=1.0, batch=4, rng=0),
    "NetworkSimulation": lambda: importlib.import_module("symgrad.numeric.networks")
    .simulate_network(nw.repeat(nw.serial(nw.dense(1), nw.activation("tanh")), 2), width=8,
                      batch=4, rng=0),
    "LSTMSimulation": lambda: importlib.import_module("symgrad.numeric.rnn")
    .simulate_lstm(hidden=4, steps=3, batch=2, sigma_w=0.5, rng=0),
    "RNNSimulation": lambda: importlib.import_module("symgrad.numeric.rnn")
    .simulate_rnn("tanh", hidden=4, steps=3, batch=2, sigma_w=0.5, rng=0),
    "Comparison": lambda: symgrad.compare("sigmoid", "relu", depth=2, width=4, epochs=1, rng=0),
    "Training": lambda: symgrad.train("relu", depth=2, width=4, epochs=1, rng=0),
    "BpttJacobian": lambda: symgrad.bptt_jacobian("tanh", [[0.5, 0], [0, 0.5]], h0=[0.1, 0.2],
                                                  steps=3),
    "GatePath": lambda: symgrad.lstm_carousel([sympy.Rational(9, 10)] * 3),
    "SpectralCondition": lambda: symgrad.pascanu_conditions("tanh", [[0.5, 0], [0, 0.5]]),
    "StepsProduct": lambda: symgrad.after_steps(0.9),
    "SigmoidBoundProof": lambda: importlib.import_module("symgrad.reports.pages.sigmoid_bound")
    .sigmoid_bound_proof(),
    "ExpectedSlope": lambda: symgrad.expected_slope("relu"),
    "PointSlope": lambda: symgrad.slope("sigmoid", 0),
    "Saturation": lambda: symgrad.saturation("sigmoid", 0.01),
    "MaxSlope": lambda: symgrad.max_slope("gelu"),
    "IsometryPoint": lambda: symgrad.isometry_point("tanh", depth=4, tolerance=0.5),
    "CriticalLinePoint": lambda: importlib.import_module("symgrad.spectrum")
    .critical_point("erf", q_star=sympy.Rational(1, 4)),
    "GradientNormLaw": lambda: symgrad.gradient_norm_distribution("relu", [4, 4, 4],
                                                                  sigma_w=sympy.sqrt(2)),
    "JacobianSpectrum": lambda: symgrad.jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=2,
                                                          density_points=20),
    "Diagnosis": _diagnosis,
    "DepthFit": lambda: _diagnosis().fit,
}


def _public_records() -> dict[str, type]:
    for info in pkgutil.walk_packages(symgrad.__path__, "symgrad."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found, todo = {}, list(Record.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        module = sys.modules[cls.__module__]
        if cls.__name__ in getattr(module, "__all__", ()) or cls.__name__ in FACTORIES:
            found[cls.__name__] = cls
    return found


PUBLIC = _public_records()


def test_every_public_record_has_a_factory() -> None:
    missing = sorted(set(PUBLIC) - set(FACTORIES))
    assert not missing, f"add a factory to FACTORIES for: {', '.join(missing)}"


@functools.cache
def _record(name: str) -> Record:
    rec = FACTORIES[name]()
    assert type(rec).__name__ == name
    return rec


# ---- Markdown ----

_MD = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, double_inline=True)


def _cells(tokens: list, i: int) -> tuple[list[list[str]], int]:
    """Rows of the table starting at tokens[i], as the inline text of each cell."""
    rows, row = [], None
    while tokens[i].type != "table_close":
        t = tokens[i]
        if t.type == "tr_open":
            row = []
        elif t.type == "tr_close":
            rows.append(row)
        elif t.type == "inline" and row is not None:
            assert not any(c.type in ("em_open", "strong_open", "link_open", "html_inline")
                           for c in t.children), f"markup inside a cell: {t.content!r}"
            row.append("".join(c.content for c in t.children))
        i += 1
    return rows, i


def _math(tokens: list) -> list[str]:
    out = []
    for t in tokens:
        if t.type in ("math_block", "math_inline", "math_block_eqno"):
            out.append(t.content)
        out += _math(t.children or [])
    return out


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_markdown_tables_keep_every_cell(name: str) -> None:
    rec = _record(name)
    text = rec._repr_mimebundle_()["text/markdown"]
    tokens = _MD.parse(text)
    tables = []
    i = 0
    while i < len(tokens):
        if tokens[i].type == "table_open":
            rows, i = _cells(tokens, i)
            tables.append(rows)
        i += 1
    assert tables, "no table parsed"
    if type(rec)._repr_markdown_ is Record._repr_markdown_:  # ChainTrace shows its layers
        summary = tables[0]
        assert summary[0] == ["quantity", "value"]
        assert len(summary) - 1 == len(rec.summary())
        for (label, value), row in zip(rec.summary(), summary[1:], strict=True):
            assert row == [label, _shown(value).replace("\n", " ")], (label, row)
    for rows in tables:
        assert all(len(r) == len(rows[0]) for r in rows), rows
    assert all(m.strip() for m in _math(tokens))


# ---- HTML ----

@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_html_is_well_formed_and_holds_the_values(name: str) -> None:
    rec = _record(name)
    text = rec._repr_mimebundle_()["text/html"]
    root = ET.fromstring(text)  # raises on any unclosed or misnested tag
    content = "".join(root.itertext())
    for label, value in rec.summary():
        assert html.unescape(label) in content and _shown(value) in content, label


# ---- LaTeX, through KaTeX ----

KATEX_VERSION = "0.16"  # the KaTeX line VS Code and jupyterlab-katex ship
_KATEX_SCRIPT = r"""
const katex = require(process.argv[1]);
const items = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const strict = (code, msg, token) => code === 'unknownSymbol' ? 'ignore' : 'error';
const out = items.map(([tex, display]) => {
  try {
    katex.renderToString(tex, {throwOnError: true, strict, displayMode: display});
    return null;
  } catch (e) { return e.message; }
});
process.stdout.write(JSON.stringify(out));
"""


def _katex() -> str:
    """KaTeX's module directory: $SYMGRAD_KATEX, or installed once by npm into a cache."""
    given = os.environ.get("SYMGRAD_KATEX")
    if given:
        return given
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "symgrad-katex"
    module = cache / "node_modules" / "katex"
    if not (module / "package.json").is_file():
        npm = shutil.which("npm")
        assert npm and shutil.which("node"), ("the LaTeX check runs KaTeX itself: it needs"
                                              " Node.js and npm (apt-get install nodejs npm)")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix",
                        str(cache), f"katex@{KATEX_VERSION}"], check=True, timeout=600)
    return str(module)


def _formulas(rec: Record) -> list[tuple[str, bool]]:
    bundle = rec._repr_mimebundle_()
    latex = bundle["text/latex"]
    assert latex.startswith("$$") and latex.endswith("$$")
    found = [(latex[2:-2], True)]
    found += [(m, True) for m in _math(_MD.parse(bundle["text/markdown"]))]
    body = bundle["text/html"]
    while "\\(" in body:
        start = body.index("\\(") + 2
        end = body.index("\\)", start)
        found.append((html.unescape(body[start:end]), False))
        body = body[end + 2:]
    return found


def test_every_formula_renders_in_katex() -> None:
    items, owners = [], []
    for name in sorted(FACTORIES):
        for tex, display in _formulas(_record(name)):
            items.append((tex, display))
            owners.append(name)
    result = subprocess.run(["node", "-e", _KATEX_SCRIPT, _katex()], input=json.dumps(items),
                            capture_output=True, text=True, check=True, timeout=300)
    errors = [f"{owner}: {err}\n    {tex[:200]}" for owner, (tex, _), err
              in zip(owners, items, json.loads(result.stdout), strict=True) if err]
    assert not errors, "KaTeX refuses:\n" + "\n".join(errors)


def test_the_issue_headline_value_survives_a_pipe() -> None:
    # max_slope's label is "sup |φ'|": its cell and its value must both come back whole.
    rec = symgrad.max_slope("sigmoid")
    rows, _ = _cells(_MD.parse(rec._repr_markdown_()), 0)
    assert rows[1] == ["sup |φ'|", "1/4"]


def test_markdown_escapes_what_would_be_markup() -> None:
    rec = _record("Diagnosis")
    tokens = _MD.parse(rec._repr_markdown_())
    rows, _ = _cells(tokens, next(i for i, t in enumerate(tokens) if t.type == "table_open"))
    assert rows[0] == ["quantity", "value"]
    assert np.all([len(r) == 2 for r in rows])


@given(st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp", "Zs"),
                             include_characters=" "), max_size=40))
def test_any_text_reads_back_from_a_table_cell(text: str) -> None:
    from symgrad.records import _md

    rows, _ = _cells(_MD.parse(f"| head |\n| --- |\n| {_md(text)} |\n"), 0)
    assert rows[1] == [text.strip()]


@given(st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp", "Zs"),
                             include_characters=" "), min_size=1, max_size=40))
def test_any_text_reads_back_as_a_paragraph(text: str) -> None:
    from symgrad.records import _md

    tokens = _MD.parse(_md(text) + "\n")
    inline = [t for t in tokens if t.type == "inline"]
    shown = "".join(c.content for t in inline for c in t.children)
    assert shown == text.strip() and all(t.type in ("paragraph_open", "inline",
                                                    "paragraph_close") for t in tokens)
