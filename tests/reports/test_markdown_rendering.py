"""Every report, read by a CommonMark renderer the way GitHub shows it.

markdown-it-py (CommonMark, GFM tables, ``$``…``$`` math through mdit-py-plugins) parses
each generated Markdown file, and the test fails on:

* **lost asterisks**: a ``*`` (or ``_``) in the text that the renderer turned into
  emphasis, as SymPy's ``2*sqrt(3)/(3*sqrt(pi))`` turns into italics on GitHub; the only
  emphasis a report writes on purpose is bold words, such as ``**Step 1.**``;
* **math outside math**: SymPy's plain text (``sqrt(``, ``exp(``, ``log(``, ``**``,
  ``2*x``, ``oo`` …) in prose or table cells instead of ``$`…`$`` or a ```` ```math ````
  block;
* **table rows wider than** :data:`MAX_ROW` characters in the Markdown source.

All reports are built once per session (a minute on one core: marked slow); a fast test
runs the same checks on a few cheap reports and the index.
"""

from __future__ import annotations

import functools
import re

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from symgrad.reports import registered_reports, render_reports, report_names
from symgrad.reports.pipeline import generate, select
from symgrad.reports.render import Page, prose

#: The widest table row (characters of Markdown source) a report may write.
MAX_ROW = 200

#: Reports that build in a second or two each: the fast test's sample.
CHEAP = ("sigmoid-bound", "weight-bound", "chain-4-layer-sigmoid", "clipping", "claims")

_MD = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin)

#: SymPy's plain-text output: a function call, a power, a product, its infinity.
_SYMPY_TEXT = re.compile(
    r"\b(?:sqrt|exp|log|erfc?|tanh|sinh|cosh|atan|asinh|Abs|sign|Piecewise|LambertW"
    r"|Interval|Union|FiniteSet|Integral|Heaviside|Max|Min)\("
    r"|\*\*"
    r"|[\w)]\*[\w(]"
    r"|\boo\b"
)
#: The one kind of emphasis reports write on purpose: bold words ("Step 1.", a verdict,
#: a claim's id), never an operator inside.
_BOLD_WORDS = re.compile(r"\w[\w .,:'-]*")


def _check(text: str) -> list[str]:
    """Every problem in one Markdown document, as messages naming the line."""
    problems: list[str] = []
    lines = text.splitlines()
    tokens = _MD.parse(text)
    for t in tokens:
        if t.type == "table_open" and t.map is not None:
            for n in range(*t.map):
                if len(lines[n]) > MAX_ROW:
                    problems.append(f"line {n + 1}: table row of {len(lines[n])} characters "
                                    f"(> {MAX_ROW}): {lines[n][:80]}…")
        if t.type != "inline":
            continue
        where = f"line {t.map[0] + 1}" if t.map else "inline"
        problems += [f"{where}: {p}" for p in _inline_problems(t.children or [], t.content)]
    return problems


def _inline_problems(children: list[Token], source: str) -> list[str]:
    problems = []
    i = 0
    while i < len(children):
        c = children[i]
        if c.type in ("em_open", "strong_open"):
            close = c.type.replace("_open", "_close")
            depth, j = 1, i + 1
            while depth:
                depth += {c.type: 1, close: -1}.get(children[j].type, 0)
                j += 1
            inner = "".join(k.content for k in children[i + 1:j - 1])
            if not (c.type == "strong_open" and c.markup == "**"
                    and _BOLD_WORDS.fullmatch(inner)):
                problems.append(f"lost {c.markup!r}: the renderer made {inner!r} "
                                f"{'bold' if 'strong' in c.type else 'italic'} in {source!r}")
        if c.type == "text":
            found = _SYMPY_TEXT.search(c.content)
            if found:
                problems.append(f"SymPy plain text {found.group()!r} outside math in "
                                f"{c.content!r}")
        i += 1
    return problems


def _assert_renders(name: str, text: str) -> None:
    problems = _check(text)
    assert not problems, f"{name}:\n" + "\n".join(problems[:20])


# ---- the checks themselves ----

@pytest.mark.parametrize(("text", "finds"), [
    ("The sup is 2*sqrt(3)/(3*sqrt(pi)) and the mean 1*2.", "lost '*'"),
    ("| a | b |\n| --- | --- |\n| log(6*sqrt(10) + 19)/2 | 1 |", "SymPy plain text"),
    ("a value exp(-1) in prose", "SymPy plain text 'exp('"),
    ("x**2 and a^2", "SymPy plain text '**'"),
    ("| a |\n| --- |\n| " + "x" * 250 + " |", "table row of"),
    ("the limit oo", "SymPy plain text 'oo'"),
])
def test_the_checks_find_what_they_should(text: str, finds: str) -> None:
    assert any(finds in p for p in _check(text)), _check(text)


@pytest.mark.parametrize("text", [
    "**Step 1.** Expand.\n\n```math\n2 \\sqrt{3} x^{2}\n```",
    "Inline $`\\frac{2 \\sqrt{3}}{3 \\sqrt{\\pi}}`$ and code `2*sqrt(3)`.",
    "| z | value |\n| --- | --- |\n| $`\\log(6 \\sqrt{10} + 19)`$ | 1/4 |",
    "a_k = σ(z_k), ∂L/∂a_{k−1}, |w|·γ < 1, the fixed point a⁎",
])
def test_the_checks_pass_clean_markdown(text: str) -> None:
    assert _check(text) == []


# ---- the renderer's own guards ----

@pytest.mark.parametrize(("text", "formula"), [
    ("sup|φ'| = exp(-1)/sqrt(pi) + erf(1)/2 + 1/2 ≈ 1.1289", "\\operatorname{erf}"),
    ("at z = -log(700*sqrt(51) + 4999) ≈ -9.21", "700 \\sqrt{51}"),
    ("| a |\n| --- |\n| 100*sqrt(20002)/10001 ≈ 1.41 |", "\\sqrt{20002}"),
])
def test_prose_turns_sympy_text_into_inline_latex(text: str, formula: str) -> None:
    out = prose(text)
    assert _check(out) == [], out
    math = re.findall(r"\$`([^`]*)`\$", out)
    assert math and any(formula in m for m in math), out


@pytest.mark.parametrize("text", [
    "code `2*sqrt(3)` and math $`\\sqrt{2}`$ stay", "a_k·w^{k−1}, q* = 0, x*y, J^(L,0)",
    "dense(sqrt) is a word, not a call", "ln 2 ≈ 0.6931 and 1/4",
])
def test_prose_leaves_code_math_and_words_alone(text: str) -> None:
    assert prose(text) == text


def test_table_notes_number_repeated_texts_below_the_table() -> None:
    page = Page("T", generated_by="test")
    page.table(["q", "from"], [("a", "a long basis"), ("b", "a long basis"), ("c", "other"),
                               ("d", "—")], notes=1)
    text = page.markdown()
    assert "| a | (1) |" in text and "| b | (1) |" in text and "| c | (2) |" in text
    assert "| d | — |" in text
    assert "1. a long basis\n2. other" in text


# ---- the reports ----

@functools.cache
def _rendered(names: tuple[str, ...] | None) -> dict[str, bytes]:
    if names is None:
        return render_reports()
    # The cheap pages alone; the index (every activation's records) is in the slow test.
    return generate(select(registered_reports(), names))


@pytest.mark.parametrize("path", [f"{n}.md" for n in CHEAP])
def test_cheap_reports_render_cleanly(path: str) -> None:
    files = _rendered(CHEAP)
    _assert_renders(path, files[path].decode())


@pytest.mark.slow  # builds all the reports once (a minute or two on one core)
@pytest.mark.parametrize("path", [*(f"{n}.md" for n in report_names()), "README.md"])
def test_every_report_renders_cleanly(path: str) -> None:
    files = _rendered(None)
    _assert_renders(path, files[path].decode())
