"""Every public result has the one record shape: provenance per number, steps, renderings."""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil

import pytest
import sympy

import symgrad
from symgrad.records import (
    Certified,
    Estimated,
    Exact,
    Provenance,
    Provenances,
    Record,
    Simulated,
    Step,
    provenances,
)


def _all_records() -> list[type[Record]]:
    for info in pkgutil.walk_packages(symgrad.__path__, "symgrad."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found: list[type[Record]] = []
    todo = list(Record.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


RECORDS = _all_records()


def test_the_records_are_found() -> None:
    names = {c.__name__ for c in RECORDS}
    assert {"MaxSlope", "MeanField", "ChainTrace", "Simulation", "ClaimResult"} <= names


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_record_is_a_frozen_dataclass_with_provenance_and_steps(cls: type) -> None:
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    names = {f.name for f in dataclasses.fields(cls)}
    assert "provenance" in names, f"{cls.__name__} has no provenance field"
    assert "steps" in names or isinstance(getattr(cls, "steps", None), property)


def test_provenances_are_an_immutable_hashable_mapping() -> None:
    p = provenances(value=Exact("parity"), at=Certified(1, 2))
    assert list(p) == ["at", "value"] and p["value"].kind is Provenance.EXACT
    assert hash(p) == hash(provenances(at=Certified(1, 2), value=Exact("parity")))
    with pytest.raises(KeyError):
        p["missing"]
    with pytest.raises(TypeError):
        p["value"] = Exact()  # type: ignore[index]


def test_each_kind_renders_and_serialises() -> None:
    @dataclasses.dataclass(frozen=True)
    class Demo(Record):
        value: sympy.Expr
        provenance: Provenances
        steps: tuple[Step, ...] = ()

        def summary(self) -> list[tuple[str, object]]:
            return [("a|b", self.value)]

    for how in (Exact("rule"), Certified(sympy.Rational(1, 3), sympy.Rational(1, 2), "balls"),
                Estimated(1e-9, "quadrature"), Simulated(0.01, 100, "nets"),
                Simulated(None, 1, "one network")):
        rec = Demo(sympy.Rational(2, 5), provenances(value=how),
                   (Step("halve", sympy.Eq(sympy.Symbol("x"), 1)),))
        md = rec._repr_markdown_()
        assert "a\\|b" in md and how.kind.value in md
        assert "<td>a|b</td>" in rec._repr_html_()
        data = json.loads(json.dumps(rec.as_dict()))
        assert data["provenance"]["value"]["kind"] == how.kind.value
        assert data["value"] == pytest.approx(0.4)
        assert data["steps"][0]["latex"] == "x = 1"


def test_a_real_record_round_trips_to_json() -> None:
    data = json.loads(json.dumps(symgrad.max_slope("swish").as_dict()))
    how = data["provenance"]["value"]
    assert how["kind"] == "certified" and how["lower"] <= data["value"] <= how["upper"]
