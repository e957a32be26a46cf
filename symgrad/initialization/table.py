"""How do the frameworks' gains compare with the two principles, and what do they do at
depth?

The deep-learning frameworks ship a gain table (PyTorch's ``calculate_gain``; Keras and
JAX use the same constants): linear 1, sigmoid 1, tanh 5/3, relu √2, leaky_relu
√(2/(1 + α²)), selu 3/4; every other activation gets Kaiming's default √2 (what
``torch.nn.init.kaiming_normal_`` uses when told nothing).  :func:`gain_table` covers the
whole catalogue and sets each gain beside the gain by forward second-moment
preservation and by criticality (χ₁ = 1 at σ_b = 0), with the χ₁ a network initialised
with the framework gain actually gets and its per-layer second-moment factor
g²·E[φ(Z)²] (at unit input variance) — and then what happens at a given depth L: the
first-to-last gradient ratio J^{L,0} that :func:`symgrad.networks.predict` gives the
plain MLP with the framework gain (σ_b = 0, inputs of unit second moment), a verdict,
and what :func:`symgrad.recommend_init` advises instead (σ_w, σ_b and its J^{L,0}).

>>> row = {r.activation: r for r in gain_table(names=("relu",), depth=10).rows}["relu"]
>>> row.framework, row.agrees, row.verdict, round(row.advised_sigma_w, 3)
(sqrt(2), 'both', 'within band', 1.414)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from symgrad._core.format import number_text
from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.activations.registry import activation, activation_names
from symgrad.errors import InvalidArgument
from symgrad.initialization.gains import Principle, gain, second_moment
from symgrad.meanfield.field import mean_field
from symgrad.networks.advice import MAX_SENSITIVITY, assess_init, recommend_init, verdict
from symgrad.records import Exact, How, Provenances, Record, Step

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
#: The gain of activations ``calculate_gain`` does not list: Kaiming's default √2.
KAIMING_DEFAULT = sympy.sqrt(2)


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
    #: "calculate_gain" or "kaiming default" (not in the frameworks' table).
    source: str = "calculate_gain"
    #: J^{L,0} of the plain MLP at the framework gain, σ_b = 0, at the table's depth.
    jacobian: float = float("nan")
    #: "within band", "gradients vanish (J = …)", "gradients explode (J = …)".
    verdict: str = ""
    #: recommend_init's σ_w, σ_b and the J^{L,0} they give.
    advised_sigma_w: float = float("nan")
    advised_sigma_b: float = float("nan")
    advised_jacobian: float = float("nan")
    advice_reason: str = ""


@dataclass(frozen=True)
class GainTable(Record):
    """The comparison, one :class:`GainRow` per activation, at ``depth`` within ``band``."""
    rows: tuple[GainRow, ...]
    #: ``rows[i].<column>``: how each number of row i was obtained.
    provenance: Provenances
    steps: tuple[Step, ...] = ()
    depth: int = 50
    band: float = 10.0

    def title(self) -> str:
        return "Framework gains against second-moment and criticality gains"

    def markdown(self) -> str:
        lines = ["| activation | framework | second moment | criticality | χ₁ at framework gain "
                 f"| g²·E[φ(Z)²] | agrees with | J^(L,0) at L = {self.depth} | verdict "
                 "| advised σ_w | advised σ_b | J^(L,0) advised |",
                 "| --- |" + " --- |" * 11]
        for r in self.rows:
            crit = number_text(r.criticality, 8) if r.criticality is not None else "none"
            lines.append(f"| {r.activation} | {number_text(r.framework, 8)} | "
                         f"{number_text(r.second_moment, 8)} | {crit} | "
                         f"{number_text(r.chi1, 8)} | {number_text(r.moment_factor, 8)} | "
                         f"{r.agrees} | {r.jacobian:.3g} | {r.verdict} | "
                         f"{r.advised_sigma_w:.4g} | {r.advised_sigma_b:g} | "
                         f"{r.advised_jacobian:.3g} |")
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


def _framework(name: str) -> tuple[Any, sympy.Expr, str]:
    """(activation, its framework gain, where the gain comes from)."""
    table = dict(FRAMEWORK_GAINS)
    if name == "leaky_relu":
        return activation(name, alpha=_ALPHA), table[name], "calculate_gain"
    if name in table:
        return activation(name), table[name], "calculate_gain"
    return activation(name), KAIMING_DEFAULT, "kaiming default"


def gain_table(*, names: tuple[str, ...] | None = None, depth: int = 50,
               band: float = 10.0) -> GainTable:
    """Compare the framework gains with :func:`symgrad.gain` under both principles, for
    every catalogue activation (or ``names``), and say what each gain does at ``depth``
    and what :func:`symgrad.recommend_init` advises instead (module docstring).

    Budget: the whole catalogue takes 10–20 s in a fresh process (two gains, a mean-field
    record and an init search per activation; cached afterwards), at most 2 minutes."""
    depth = as_positive_int(depth, "depth")
    band = as_float(band, "band", lower=1.0)
    if names is not None and (isinstance(names, str | bytes)
                              or not isinstance(names, Sequence | set | frozenset)
                              or not all(isinstance(n, str) for n in names)):
        raise InvalidArgument(f"names must be a tuple of activation names, got {describe(names)}")
    rows = []
    hows: dict[str, How] = {}
    for i, name in enumerate(names or activation_names()):
        act, g, source = _framework(name)
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
        framework = assess_init(act, sigma_w=g, depth=depth, band=band)
        j, ratio = framework.jacobian, framework.moment_ratio
        hows[f"rows[{i}].jacobian"] = framework.how("jacobian")
        said = verdict(j, ratio, band)
        grow = framework.sensitivity
        if grow > MAX_SENSITIVITY and math.isfinite(grow):
            said += f", on an unstable variance map (perturbations grow {grow:.3g}×)"
        advice = recommend_init(act, depth=depth, band=band)
        for column, field in (("advised_sigma_w", "sigma_w"), ("advised_sigma_b", "sigma_b"),
                              ("advised_jacobian", "jacobian")):
            hows[f"rows[{i}].{column}"] = advice.how(field)
        hows[f"rows[{i}].framework"] = Exact(source)
        rows.append(GainRow(act.label, g, sm, crit, mf.chi1, factor, agrees, note, source, j,
                            said, advice.sigma_w, advice.sigma_b,
                            advice.jacobian, advice.reason))
    return GainTable(tuple(rows), Provenances(hows),
                     (Step(f"J^(L,0) of repeat(serial(dense(g), φ), {depth}) from q0 = 1, by"
                           " assess_init (predict); advice by recommend_init"),), depth, band)
