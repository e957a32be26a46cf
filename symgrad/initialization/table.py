"""How do the frameworks' gains compare with the two principles?

The deep-learning frameworks ship a gain table (PyTorch's ``calculate_gain``; Keras and
JAX use the same constants): linear 1, sigmoid 1, tanh 5/3, relu √2, leaky_relu
√(2/(1 + α²)), selu 3/4.  :func:`gain_table` sets each entry beside the gain by
forward second-moment preservation and by criticality (χ₁ = 1 at σ_b = 0), with the χ₁
a network initialised with the framework gain actually gets and its per-layer second-
moment factor g²·E[φ(Z)²] (at unit input variance).

>>> row = {r.activation: r for r in gain_table().rows}["relu"]
>>> row.framework, row.agrees
(sqrt(2), 'both')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from symgrad._core.format import number_text
from symgrad.activations.registry import activation
from symgrad.errors import InvalidArgument
from symgrad.initialization.gains import Principle, gain, second_moment
from symgrad.meanfield.field import mean_field
from symgrad.records import How, Provenances, Record, Step

__all__ = ["FRAMEWORK_GAINS", "GainRow", "GainTable", "gain_table"]

_ALPHA = sympy.Rational(1, 100)  # leaky_relu's default slope (PyTorch's negative_slope)

#: The frameworks' table, exactly as shipped (name → gain).
FRAMEWORK_GAINS: tuple[tuple[str, sympy.Expr], ...] = (
    ("identity", sympy.Integer(1)),
    ("sigmoid", sympy.Integer(1)),
    ("tanh", sympy.Rational(5, 3)),
    ("relu", sympy.sqrt(2)),
    ("leaky_relu", sympy.sqrt(2 / (1 + _ALPHA**2))),
    ("selu", sympy.Rational(3, 4)),
)

_REL = 1e-12  # "agrees": equal to 12 digits (exact entries compare exactly)


@dataclass(frozen=True)
class GainRow:
    """One activation: the framework gain, both principled gains, and what g_f gives."""
    activation: str
    framework: sympy.Expr
    second_moment: sympy.Expr
    criticality: sympy.Expr | None
    #: χ₁ at σ_w = framework gain, σ_b = 0.
    chi1: sympy.Expr
    #: g_f²·E[φ(Z)²]: the forward second moment's factor in the first layer.
    moment_factor: sympy.Expr
    #: 'both', 'second_moment', 'criticality' or 'neither'
    agrees: str
    note: str


@dataclass(frozen=True)
class GainTable(Record):
    """The comparison, one :class:`GainRow` per framework entry."""
    rows: tuple[GainRow, ...]
    #: ``rows[i].<column>``: how each number of row i was obtained.
    provenance: Provenances
    steps: tuple[Step, ...] = ()

    def title(self) -> str:
        return "Framework gains against second-moment and criticality gains"

    def markdown(self) -> str:
        lines = ["| activation | framework | second moment | criticality | χ₁ at framework gain "
                 "| g²·E[φ(Z)²] | agrees with |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in self.rows:
            crit = number_text(r.criticality, 8) if r.criticality is not None else "none"
            lines.append(f"| {r.activation} | {number_text(r.framework, 8)} | "
                         f"{number_text(r.second_moment, 8)} | {crit} | "
                         f"{number_text(r.chi1, 8)} | {number_text(r.moment_factor, 8)} | "
                         f"{r.agrees} |")
        return "\n".join(lines)

    def summary(self) -> list[tuple[str, Any]]:
        return [(r.activation, r.agrees) for r in self.rows]


def _same(a: sympy.Expr, b: sympy.Expr) -> bool:
    """Equal: exactly when both are exact (a numeric screen at 50 digits first, then
    SymPy for short expressions), to 12 digits when either is a certified number."""
    if a.is_Float or b.is_Float:
        return bool(abs(float(a - b)) <= _REL * abs(float(b)))
    gap = abs(sympy.N(a - b, 50))
    if gap > sympy.Float(10) ** -40 * max(1, abs(sympy.N(b, 50))):
        return False
    if sympy.count_ops(a) + sympy.count_ops(b) < 60:
        return bool(sympy.simplify(a - b) == 0)
    return True  # long closed forms equal to 40 digits


def gain_table() -> GainTable:
    """Compare the framework gains with :func:`symgrad.gain` under both principles."""
    rows = []
    hows: dict[str, How] = {}
    for i, (name, g) in enumerate(FRAMEWORK_GAINS):
        act = activation(name) if name != "leaky_relu" else activation(name, alpha=_ALPHA)
        sm_gain = gain(act, principle=Principle.SECOND_MOMENT)
        sm = sm_gain.value
        hows[f"rows[{i}].second_moment"] = sm_gain.how("value")
        try:
            crit_gain = gain(act, principle=Principle.CRITICALITY)
            crit: sympy.Expr | None = crit_gain.value
            hows[f"rows[{i}].criticality"] = crit_gain.how("value")
        except InvalidArgument:
            crit = None
        mf = mean_field(act, sigma_w=g, sigma_b=0)
        hows[f"rows[{i}].chi1"] = mf.how("chi1")
        moment = second_moment(act)[0]
        factor = g**2 * moment
        if factor.has(sympy.Float):
            factor = sympy.Float(factor, 20)
        elif sympy.count_ops(factor) < 60:
            factor = sympy.simplify(factor)
        on_sm, on_crit = _same(g, sm), crit is not None and _same(g, crit)
        agrees = ("both" if on_sm and on_crit else "second_moment" if on_sm
                  else "criticality" if on_crit else "neither")
        note = f"χ₁ = {sympy.sstr(sympy.N(mf.chi1, 6))} ({mf.phase.value})"
        rows.append(GainRow(act.label, g, sm, crit, mf.chi1, factor, agrees, note))
    return GainTable(tuple(rows), Provenances(hows))
