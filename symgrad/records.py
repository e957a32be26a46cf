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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

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


def _cell(text: str) -> str:
    """A Markdown table cell: pipes escaped, line breaks folded."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


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

    # ---- renderings ----

    def _repr_markdown_(self) -> str:
        lines = [f"**{_cell(self.title())}**", "", "| quantity | value |", "| --- | --- |"]
        for label, value in self.summary():
            shown = value if isinstance(value, str) else number_text(value)
            lines.append(f"| {_cell(label)} | {_cell(shown)} |")
        if len(self.provenance):
            lines += ["", "| number | how obtained |", "| --- | --- |"]
            lines += [f"| {_cell(k)} | {_cell(how_text(v))} |"
                      for k, v in self.provenance.items()]
        for step in self.steps:
            lines += ["", step.text]
            if step.math is not None:
                lines += ["", "$$" + step.latex() + "$$"]
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        rows = [
            rf"\text{{{label}}} &: {latex(value)}"
            for label, value in self.summary()
            if not isinstance(value, str)
        ]
        return "$\\begin{aligned}" + r" \\ ".join(rows) + "\\end{aligned}$"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for label, value in self.summary():
            shown = value if isinstance(value, str) else number_text(value)
            rows.append(f"<tr><td>{esc(label)}</td><td>{esc(shown)}</td></tr>")
        for name, how in self.provenance.items():
            rows.append(f"<tr><td>{esc(name)}</td><td><i>{esc(how_text(how))}</i></td></tr>")
        steps = "".join(
            f"<li>{esc(s.text)}" + (f" \\({esc(s.latex())}\\)" if s.math is not None else "")
            + "</li>" for s in self.steps
        )
        return (f"<div><strong>{esc(self.title())}</strong><table>{''.join(rows)}</table>"
                + (f"<ol>{steps}</ol>" if steps else "") + "</div>")

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
