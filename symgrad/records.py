"""The one shape of every result symgrad returns.

A derivation is a pure function returning a frozen dataclass that subclasses
:class:`Record`.  Every record carries

* its value(s), as fields;
* ``provenance``: for each number field, how that number was obtained — one of

  - :class:`Exact`: a closed form SymPy proves;
  - :class:`Certified`: a rigorous enclosure ``[lower, upper]`` (ball or interval
    arithmetic); only the digits the enclosure proves are ever printed;
  - :class:`Estimated`: an approximation with an error estimate (not a bound);
  - :class:`Simulated`: a sample statistic with its standard error;

* ``steps``: the derivation, as :class:`Step` s holding SymPy objects;
* renderings: ``_repr_markdown_``, ``_repr_latex_``, ``_repr_html_`` for notebooks and
  ``as_dict()`` (the CLI's ``--json``).

Reports and the CLI render records through one dispatch and never recompute
mathematics or probe fields.

>>> import sympy
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Half(Record):
...     value: sympy.Expr
...     provenance: Provenances
...     steps: tuple[Step, ...] = ()
>>> r = Half(sympy.Rational(1, 2), provenances(value=Exact("parity")))
>>> r.how("value").kind.value
'exact'
>>> r.as_dict()["value"], r.as_dict()["provenance"]["value"]["kind"]
(0.5, 'exact')
"""

from __future__ import annotations

import dataclasses
import enum
import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

import sympy

from symgrad._core.format import jsonable, latex, number_text

__all__ = [
    "NO_NUMBERS",
    "Certified",
    "Estimated",
    "Exact",
    "How",
    "Provenance",
    "Provenances",
    "Record",
    "Simulated",
    "Step",
    "how_text",
    "provenances",
]


class Provenance(enum.Enum):
    """How a number was obtained, from strongest to weakest claim."""

    #: A closed form that SymPy (or a stated rule) proves.
    EXACT = "exact"
    #: A rigorous enclosure; every printed digit is proven by it.
    CERTIFIED = "certified"
    #: An approximation with an error estimate that is not a proof.
    ESTIMATED = "estimated"
    #: A statistic of simulated networks, with its standard error.
    SIMULATED = "simulated"


@dataclass(frozen=True)
class Exact:
    """A closed form; ``method`` names the rule that proves it (``"parity"``, …)."""

    method: str = "closed form"
    kind: ClassVar[Provenance] = Provenance.EXACT


@dataclass(frozen=True)
class Certified:
    """A number proven to lie in ``[lower, upper]`` (exact end points: SymPy rationals,
    Floats or mpmath numbers read exactly)."""

    lower: Any
    upper: Any
    method: str = "ball arithmetic"
    kind: ClassVar[Provenance] = Provenance.CERTIFIED


@dataclass(frozen=True)
class Estimated:
    """An approximation whose error is estimated (not bounded) by ``error``: absolute, or
    relative to the value when ``relative``."""

    error: Any
    method: str = ""
    relative: bool = False
    kind: ClassVar[Provenance] = Provenance.ESTIMATED


@dataclass(frozen=True)
class Simulated:
    """A sample statistic over ``samples`` draws with standard error ``se`` (``None`` for
    one network's batch means, whose spread across networks the cross-checks measure)."""

    se: Any
    samples: int
    method: str = ""
    kind: ClassVar[Provenance] = Provenance.SIMULATED


How: TypeAlias = Exact | Certified | Estimated | Simulated


class Provenances(Mapping[str, How]):
    """An immutable, hashable mapping from a record's field name to its :data:`How`."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, How] | None = None) -> None:
        self._items: tuple[tuple[str, How], ...] = tuple(sorted((items or {}).items()))

    def __getitem__(self, key: str) -> How:
        for name, how in self._items:
            if name == key:
                return how
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Provenances) and self._items == other._items

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._items)
        return f"provenances({inner})"


_NONE = Provenances()
#: The provenance of a record whose numbers live in the records or rows it holds.
NO_NUMBERS = _NONE


def provenances(**fields: How) -> Provenances:
    """``provenances(value=Exact(), at=Certified(lo, hi))``."""
    return Provenances(fields)


@dataclass(frozen=True)
class Step:
    """One derivation step: words, and the SymPy object (an ``Eq``, a set, a number)."""

    text: str
    math: Any = None

    def latex(self) -> str:
        if self.math is None:
            return ""
        if isinstance(self.math, str):
            return self.math
        return latex(self.math)


# ---- text for each rendering: Markdown, HTML, LaTeX (KaTeX's subset) ----

#: ASCII characters with a meaning anywhere in Markdown (CommonMark, GFM tables, the ``$``
#: of the notebook math extensions); a backslash makes each literal.
_MD_SPECIAL = frozenset("\\`*_[]<>|$~&")
#: What starts a heading, list, block quote or rule at the start of a line.
_MD_LINE_START = re.compile(r"^(\s*)(#|[-+=]|\d+(?=[.)]))")
#: Characters with a meaning inside LaTeX's ``\text{…}``, and what writes them literally.
_TEX_TEXT = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
             "#": r"\#", "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}",
             "~": r"\textasciitilde{}"}


def _md(text: str) -> str:
    """Markdown text that renders as ``text``: specials escaped, line breaks folded (so
    it stays inside one table cell)."""
    out = "".join("\\" + c if c in _MD_SPECIAL else c for c in text.replace("\n", " "))
    start = _MD_LINE_START.match(out)
    if start is None:
        return out
    lead, mark = start.groups()
    if mark[0].isdigit():  # "1." starts a list: escape the punctuation after the digits
        cut = len(lead) + len(mark)
        return out[:cut] + "\\" + out[cut:]
    return lead + "\\" + out[len(lead):]


def _cell(text: str) -> str:
    """A Markdown table cell (kept for callers): :func:`_md`."""
    return _md(text)


def _tex_text(text: str) -> str:
    """``\text{…}`` content that KaTeX and LaTeX both print as ``text``."""
    return "".join(_TEX_TEXT.get(c, c) for c in text.replace("\n", " "))


def _shown(value: Any) -> str:
    """A summary value as text: strings as they are, booleans as yes/no, numbers by
    :func:`~symgrad._core.format.number_text`."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        return number_text(value)
    except (TypeError, ValueError, AttributeError, sympy.SympifyError):
        return str(value)


def _latex_value(value: Any) -> str:
    """A summary value in LaTeX math mode (strings and booleans as ``\text``)."""
    if isinstance(value, str | bool):
        return rf"\text{{{_tex_text(_shown(value))}}}"
    try:
        return latex(value)
    except (TypeError, ValueError, sympy.SympifyError):
        return rf"\text{{{_tex_text(str(value))}}}"


def _svg_inline(svg: str | bytes | None) -> str:
    if not svg:
        return ""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2:].lstrip()
    return f"<figure>{text}</figure>"


def how_text(how: How) -> str:
    """How a number was obtained, in words (one rule per kind)."""
    if isinstance(how, Certified):
        return f"certified ({how.method})"
    if isinstance(how, Estimated):
        size = "relative error" if how.relative else "error"
        return f"estimated, {size} ≈ {number_text(how.error, 2)}"
    if isinstance(how, Simulated):
        if how.se is None:
            return f"simulated ({how.method}), {how.samples} samples"
        return f"simulated, SE {number_text(how.se, 2)} over {how.samples}"
    return f"exact ({how.method})"


class Record:
    """Base of every result record (a frozen dataclass subclasses it).

    Subclasses declare the fields ``provenance`` (a :class:`Provenances`) and ``steps``
    (a tuple of :class:`Step`), and may override :meth:`title` and :meth:`summary`.
    """

    provenance: Provenances
    steps: tuple[Step, ...]

    # ---- what a record says about itself ----

    def title(self) -> str:
        return type(self).__name__

    def summary(self) -> list[tuple[str, Any]]:
        """(label, value) rows shown first when the record is displayed."""
        return []


    @property
    def exact(self) -> bool:
        """Whether every number of the record is a closed form."""
        return all(how.kind is Provenance.EXACT for how in self.provenance.values())

    def how(self, name: str) -> How:
        """How the number in field ``name`` was obtained."""
        try:
            return self.provenance[name]
        except KeyError:
            raise KeyError(f"{type(self).__name__} has no provenance for {name!r}") from None

    def table(self) -> tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]] | None:
        """(header, rows) of a per-item table shown after the summary, or None."""
        return None

    def figure_svg(self) -> str | None:
        """A figure (SVG text) the HTML rendering embeds, or None."""
        return None

    # ---- renderings ----
    # Notebooks (JupyterLab, VS Code) receive all three through _repr_mimebundle_ and show
    # the richest they support.  Every text is escaped for its format; math is LaTeX in
    # the subset KaTeX accepts (VS Code renders with KaTeX, JupyterLab with MathJax).

    def _repr_markdown_(self) -> str:
        lines = [f"**{_md(self.title())}**", "", "| quantity | value |", "| --- | --- |"]
        lines += [f"| {_md(label)} | {_md(_shown(value))} |" for label, value in self.summary()]
        table = self.table()
        if table is not None:
            head, rows = table
            lines += ["", "| " + " | ".join(_md(h) for h in head) + " |",
                      "| " + " | ".join("---" for _ in head) + " |"]
            lines += ["| " + " | ".join(_md(_shown(c)) for c in row) + " |" for row in rows]
        if len(self.provenance):
            lines += ["", "| number | how obtained |", "| --- | --- |"]
            lines += [f"| {_md(k)} | {_md(how_text(v))} |" for k, v in self.provenance.items()]
        for step in self.steps:
            lines += ["", _md(step.text)]
            if step.math is not None:
                lines += ["", "$$", step.latex(), "$$"]
        return "\n".join(lines)

    def _latex_summary(self) -> str:
        """The title and summary as one ``aligned`` block (what notebooks get as LaTeX)."""
        rows = [rf"\textbf{{{_tex_text(self.title())}}} &"]
        rows += [rf"\text{{{_tex_text(label)}}} &: {_latex_value(value)}"
                 for label, value in self.summary()]
        return "$$\\begin{aligned}" + r" \\ ".join(rows) + "\\end{aligned}$$"

    def _repr_latex_(self) -> str:
        return self._latex_summary()

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = [f"<tr><td>{esc(label)}</td><td>{esc(_shown(value))}</td></tr>"
                for label, value in self.summary()]
        rows += [f"<tr><td>{esc(name)}</td><td><i>{esc(how_text(how))}</i></td></tr>"
                 for name, how in self.provenance.items()]
        parts = [f"<div><strong>{esc(self.title())}</strong>",
                 f"<table><tbody>{''.join(rows)}</tbody></table>"]
        table = self.table()
        if table is not None:
            head, body = table
            parts.append("<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head)
                         + "</tr></thead><tbody>" + "".join(
                             "<tr>" + "".join(f"<td>{esc(_shown(c))}</td>" for c in row)
                             + "</tr>" for row in body) + "</tbody></table>")
        parts.append(_svg_inline(self.figure_svg()))
        steps = "".join(
            f"<li>{esc(s.text)}" + (f" \\({esc(s.latex())}\\)" if s.math is not None else "")
            + "</li>" for s in self.steps)
        if steps:
            parts.append(f"<ol>{steps}</ol>")
        return "".join(parts) + "</div>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Markdown, HTML and LaTeX at once (IPython shows the richest its front end
        supports); the LaTeX is the KaTeX-safe summary of :meth:`_latex_summary` even where
        a record's own ``_repr_latex_`` writes a document table."""
        return {"text/markdown": self._repr_markdown_(), "text/html": self._repr_html_(),
                "text/latex": self._latex_summary()}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: every field, ``provenance`` per number, steps as text + LaTeX."""
        out: dict[str, Any] = {"record": type(self).__name__}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "provenance":
                out["provenance"] = {k: _how_dict(v) for k, v in value.items()}
            elif f.name == "steps":
                out["steps"] = [{"text": s.text, "latex": s.latex()} for s in value]
            elif f.name.startswith("_"):
                continue
            else:
                out[f.name] = _plain(value)
        return out


def _how_dict(how: How) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": how.kind.value}
    for f in dataclasses.fields(how):
        out[f.name] = jsonable(getattr(how, f.name))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.as_dict()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return jsonable(value)
