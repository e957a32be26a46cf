"""Deterministic SVG figures: the same data gives the same bytes on every run.

matplotlib is the optional extra ``plots``.  Figures are drawn with the object API
(``matplotlib.figure.Figure`` on the Agg canvas, no pyplot state), with fixed fonts,
a fixed ``svg.hashsalt`` (clip-path and glyph ids) and no ``Date``/``Creator``
metadata, so ``symgrad report --check`` can compare them byte for byte.

>>> svg = figure_svg(lambda fig: fig.add_subplot().plot([0, 1], [1, 0]))
>>> svg.startswith(b"<?xml") and figure_svg(
...     lambda fig: fig.add_subplot().plot([0, 1], [1, 0])) == svg
True
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from symgrad.errors import SymgradError

__all__ = ["PALETTE", "figure_svg", "plots_available"]

#: Colours used by every figure (colour-blind safe, Okabe–Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

_RC: dict[str, Any] = {
    "svg.hashsalt": "symgrad",
    # Text stays text: no glyph outlines, so the bytes do not depend on FreeType.
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.6,
}


def plots_available() -> bool:
    """Whether the optional extra ``plots`` (matplotlib) is installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def figure_svg(draw: Callable[[Any], Any], *, size: tuple[float, float] = (6.0, 3.4)) -> bytes:
    """Call ``draw(fig)`` on a fresh :class:`matplotlib.figure.Figure`; return its SVG bytes.

    Raises :class:`~symgrad.errors.SymgradError` when matplotlib is missing (install
    ``symgrad[plots]``).
    """
    try:
        import matplotlib
        from cycler import cycler
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise SymgradError(
            "figures need matplotlib: python -m pip install 'symgrad[plots]'"
        ) from exc
    rc: Any = dict(_RC, **{"axes.prop_cycle": cycler(color=list(PALETTE))})
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=size, dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        draw(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()
