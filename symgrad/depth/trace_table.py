"""The trace as a table: Markdown and LaTeX renderings of a :class:`ChainTrace`'s rows.

Each cell shows at most 6 significant digits and only those the row's enclosure
proves; log₁₀|∂L/∂a_k| keeps 4 decimals at any magnitude (fewer when fewer are proven).

>>> from symgrad import chain_trace
>>> print(chain_trace("relu", depth=2, weight=0.5).to_markdown().splitlines()[4])
| 1 | 0.5 | 0.5 | 1.0 | 0.5 | 0.5 | 0.5 | -0.3010 |
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import mpmath
from flint import arb

from symgrad._core.validate import as_positive_int
from symgrad._exact.ball import CAP_BITS, working_precision
from symgrad._exact.digits import CertifiedNumber, arb_bounds

__all__ = ["TraceTables", "proven_rounding"]


class TraceTables:
    """Renderings shared by the plain and residual traces (mixed into ChainTrace)."""

    depth: int
    lr: Any
    architecture: Any
    rows: Sequence[Any]

    def title(self) -> str:  # pragma: no cover - ChainTrace overrides it
        return "chain"

    def ratio(self) -> Any:  # pragma: no cover - ChainTrace overrides it
        raise NotImplementedError

    def ratio_ball(self) -> Any:  # pragma: no cover - ChainTrace overrides it
        raise NotImplementedError

    def _ratio_text(self, digits: int = 8) -> str:
        """The ratio with at most ``digits`` digits, only those its ball proves."""
        ball = self.ratio_ball()
        if not ball.is_finite():
            return str(mpmath.nstr(self.ratio(), digits))
        n, k = proven_rounding(ball, digits)
        with mpmath.workdps(digits + 10):
            return str(mpmath.nstr(mpmath.mpf(n) / mpmath.mpf(10) ** k, digits))

    # Markdown cells: a literal | is written \|.
    _COLUMNS = ("k", "z_k", "a_k", "φ'(z_k)", "∂L/∂a_k", "∂L/∂z_k", "∂L/∂w_k",
                "log10 \\|∂L/∂a_k\\|")

    def _table_rows(self, max_rows: int) -> list[list[str] | None]:
        n = self.depth
        if n <= max_rows:
            ks: list[int | None] = list(range(1, n + 1))
        else:
            head = max_rows // 2
            ks = [*range(1, head + 1), None, *range(n - (max_rows - head) + 1, n + 1)]
        out: list[list[str] | None] = []
        for k in ks:
            if k is None:
                out.append(None)
                continue
            row = self.rows[k - 1]
            names = ["z", "a", "slope", "grad_a", "grad_z", "grad_w"]
            if self.lr is not None:
                names.append("update")
            cells = [str(k)] + [_proven_cell(row, name) for name in names]
            cells.append(_proven_log10(row))
            out.append(cells)
        return out

    def _headers(self) -> list[str]:
        cols = list(self._COLUMNS)
        if self.architecture.value == "residual":
            cols[2] = "y_k"
            cols[4] = "∂L/∂y_k"
        if self.lr is not None:
            cols.insert(7, "−lr·∂L/∂w_k")
        return cols

    def to_markdown(self, *, max_rows: int = 20) -> str:
        """The trace as a Markdown table (middle rows elided past ``max_rows``)."""
        max_rows = as_positive_int(max_rows, "max_rows", minimum=2)
        head = self._headers()
        lines = [
            f"**{self.title()}**",
            "",
            "| " + " | ".join(head) + " |",
            "| " + " | ".join("---:" for _ in head) + " |",
        ]
        for cells in self._table_rows(max_rows):
            lines.append("| " + " | ".join(cells or ["…"] * len(head)) + " |")
        lines += ["", f"ratio ∂L/∂a_{self.depth} : ∂L/∂a_1 = {self._ratio_text()}"]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_latex(self, *, max_rows: int = 20) -> str:
        """The trace as a LaTeX ``tabular``."""
        max_rows = as_positive_int(max_rows, "max_rows", minimum=2)
        names = [r"k", r"z_k", r"a_k", r"\varphi'(z_k)", r"\partial L/\partial a_k",
                 r"\partial L/\partial z_k", r"\partial L/\partial w_k"]
        if self.architecture.value == "residual":
            names[2], names[4] = r"y_k", r"\partial L/\partial y_k"
        if self.lr is not None:
            names.append(r"-\eta\,\partial L/\partial w_k")
        names.append(r"\log_{10}|\partial L/\partial a_k|")
        lines = [r"\begin{tabular}{" + "r" * len(names) + "}", r"\hline",
                 " & ".join(f"${n}$" for n in names) + r" \\", r"\hline"]
        for cells in self._table_rows(max_rows):
            if cells is None:
                lines.append(r"\multicolumn{" + str(len(names)) + r"}{c}{$\vdots$} \\")
            else:
                lines.append(" & ".join(f"${_latex_number(c)}$" for c in cells) + r" \\")
        lines += [r"\hline", r"\end{tabular}"]
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        return self.to_latex()


def proven_rounding(ball: arb, digits: int) -> tuple[int, int]:
    """(n, k): every point of the ball rounds to n·10^(−k), with at most ``digits``
    significant digits (:func:`symgrad._exact.digits.proven_rounding`).

    A ball of magnitude 10^(−911905) is first scaled by a power of ten in ball arithmetic
    (still an enclosure), so the exact rationals stay small.

    >>> proven_rounding(arb(1) / 3, 4)
    (3333, 4)
    """
    man, exp = ball.mid().man_exp()
    if int(man) == 0:
        enclosure = CertifiedNumber.from_arb(ball, digits)
        return enclosure.rounding()
    shift = math.floor((int(man).bit_length() + int(exp)) * math.log10(2))
    with working_precision(max(64, min(CAP_BITS, ball.rel_accuracy_bits() + 64))):
        scaled = ball * arb(10) ** (-shift) if shift else ball
    n, k = CertifiedNumber.from_arb(scaled, digits).rounding()
    return n, k - shift


def _proven_cell(row: Any, name: str, digits: int = 6) -> str:
    """At most ``digits`` significant digits, only those the row's enclosure proves
    (written as ``mpmath.nstr`` writes them)."""
    ball = row.balls[name]
    if ball.is_zero():
        return str(mpmath.nstr(mpmath.mpf(0), digits))
    if not ball.is_finite():
        return str(mpmath.nstr(getattr(row, name), digits))
    n, k = proven_rounding(ball, digits)
    if n == 0:
        return f"0 ± 5e{-k - 1:+d}"
    with mpmath.workdps(digits + 10):
        return str(mpmath.nstr(mpmath.mpf(n) / mpmath.mpf(10) ** k, digits))


def _proven_log10(row: Any) -> str:
    """log10|∂L/∂a_k| with 4 decimals at any magnitude (−683371.9465, not −683372.0),
    fewer when the enclosure proves fewer."""
    ball = row.balls["log10_grad"]
    if not ball.is_finite():
        return f"{float(row.log10_grad):.4f}"
    lo, hi = arb_bounds(ball)
    for places in (4, 3, 2, 1):
        n = round(lo * 10**places)
        if n == round(hi * 10**places):
            whole, frac = divmod(abs(n), 10**places)
            return f"{'-' if n < 0 else ''}{whole}.{frac:0{places}d}"
    return CertifiedNumber.from_arb(ball).text()


def _latex_number(text: str) -> str:
    if "e" in text and not text.startswith(("inf", "-inf")):
        mant, exp = text.split("e")
        return rf"{mant} \times 10^{{{int(exp)}}}"
    return text.replace("-inf", r"-\infty")
