"""Formula versus simulation: every closed form symgrad derives, checked against runs.

:func:`crosscheck` evaluates named checks from the table :data:`CHECKS` and returns one
:class:`CheckRow` per comparison: (quantity, predicted, measured, relative error,
tolerance, ok).  Tolerances are never a blanket ``atol``:

* statistical rows compare an expectation with a sample mean; the tolerance is
  z·SE/|predicted| with z = 4.5 by default (a false alarm has probability ≈ 7e−6 per
  row for a normal sample mean), and each row says how its SE was estimated;
* exact rows compare two computations of the same number (float64 against a
  high-precision trace, a hand-written backward pass against its closed form); the
  tolerance is a float64 rounding bound derived in the check.

Adding a check is one entry in :data:`CHECKS`: a name and ``"module:function"``, the
function taking ``(seed: numpy.random.SeedSequence, z: float)`` and returning a
sequence of rows (build them with :func:`statistical_row` and :func:`exact_row`).
The function may live in any module; it is imported when the check runs.

>>> report = crosscheck(["lstm_carousel"], rng=0)
>>> [row.ok for row in report.rows]
[True]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad._core.validate import as_float, describe
from symgrad.errors import InvalidArgument
from symgrad.numeric._rng import child, root_seed, seed_label
from symgrad.numeric.checks.rows import CheckRow
from symgrad.records import NO_NUMBERS, Provenances, Record, Step
from symgrad.types import Seed

__all__ = ["CHECKS", "CrossCheck", "check_names", "crosscheck"]

@dataclass(frozen=True, eq=False)
class CrossCheck(Record):
    """Rows of one :func:`crosscheck` run; ``ok`` when every row is."""
    rows: tuple[CheckRow, ...]
    checks: tuple[str, ...]
    z: float
    seed: str
    steps: tuple[Step, ...] = ()
    #: Each row carries its own measured and predicted numbers and tolerance basis.
    provenance: Provenances = NO_NUMBERS

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def failures(self) -> tuple[CheckRow, ...]:
        return tuple(row for row in self.rows if not row.ok)

    def summary(self) -> list[tuple[str, Any]]:
        return [(row.quantity, f"{row.measured:.6g} {row.relation} {row.predicted:.6g}"
                 f" (rel. error {row.rel_error:.2g}, tolerance {row.tolerance:.2g},"
                 f" {'ok' if row.ok else 'FAIL'})") for row in self.rows]

    def markdown(self) -> str:
        """The rows as a Markdown table."""
        lines = ["| quantity | measured | | predicted | rel. error | tolerance | ok |",
                 "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in self.rows:
            relation = "≤" if r.relation == "<=" else "≈"
            lines.append(f"| {r.quantity} | {r.measured:.6g} | {relation} | {r.predicted:.6g} |"
                         f" {r.rel_error:.2g} | {r.tolerance:.2g} | {'yes' if r.ok else 'NO'} |")
        return "\n".join(lines)


Check = Callable[[np.random.SeedSequence, float], Sequence[CheckRow]]

#: The checks, by name: ``"module:function"``.  Add one line to add a check.
CHECKS: dict[str, str] = {
    "scalar_chain": "symgrad.numeric.checks.chains:check_scalar_chain",
    "residual_chain": "symgrad.numeric.checks.chains:check_residual_chain",
    "expected_slope": "symgrad.numeric.checks.statistics:check_expected_slope",
    "residual_highway": "symgrad.numeric.checks.statistics:check_residual_highway",
    "he_vs_xavier": "symgrad.numeric.checks.statistics:check_he_vs_xavier",
    "rnn_spectral_bound": "symgrad.numeric.checks.chains:check_rnn_spectral_bound",
    "lstm_carousel": "symgrad.numeric.checks.chains:check_lstm_carousel",
    "lstm_forget_decay": "symgrad.numeric.checks.statistics:check_lstm_forget_decay",
    "meanfield_gradients": "symgrad.numeric.checks.meanfield:check_meanfield_gradients",
    "networks": "symgrad.numeric.checks.networks:check_networks",
    "jacobian_spectrum": "symgrad.numeric.checks.spectrum:check_jacobian_spectrum",
    "gradient_norm_exact": "symgrad.numeric.checks.spectrum:check_gradient_norm_exact",
    "gradient_norm_beta": "symgrad.numeric.checks.spectrum:check_gradient_norm_beta",
}


def check_names() -> tuple[str, ...]:
    """The registered check names, in table order."""
    return tuple(CHECKS)


def _resolve(name: str) -> Check:
    target = CHECKS[name]
    module, _, attr = target.partition(":")
    fn: Check = getattr(importlib.import_module(module), attr)
    return fn


def crosscheck(
    checks: Sequence[str] | str | None = None,
    *,
    rng: Seed = 0,
    z: float = 4.5,
) -> CrossCheck:
    """Run the named checks (all of :data:`CHECKS` by default); rows in table order.

    Check i gets the seed ``child(root, i)`` of its position in :data:`CHECKS`, so a
    check's rows do not depend on which other checks run.  ``z`` sets the statistical
    tolerance z·SE (4 to 5 keeps false alarms below 1e−4 per row).

    Budget: every check together simulates a few hundred networks, about 2–5 minutes on
    2 cores (at most 10); one named check takes seconds.
    """
    names = check_names()
    if checks is None:
        chosen = names
    else:
        if not isinstance(checks, str | Sequence) or isinstance(checks, bytes):
            raise InvalidArgument(f"checks must be a check name or a sequence of names, got "
                                  f"{describe(checks)}")
        listed = (checks,) if isinstance(checks, str) else tuple(checks)
        unknown = [c for c in listed if not isinstance(c, str) or c not in CHECKS]
        if unknown or not listed:
            raise InvalidArgument(
                f"unknown check(s) {', '.join(map(describe, unknown)) or '(none given)'};"
                f" known checks: {', '.join(names)}")
        chosen = tuple(n for n in names if n in listed)
    z = as_float(z, "z", lower=0.0)
    if not 1.0 <= z <= 10.0:
        raise InvalidArgument(f"z must lie in [1, 10] (4 to 5 is usual), got {z:g}")
    root = root_seed(rng)
    rows: list[CheckRow] = []
    for name in chosen:
        rows.extend(_resolve(name)(child(root, names.index(name)), z))
    return CrossCheck(rows=tuple(rows), checks=chosen, z=z, seed=seed_label(root))
