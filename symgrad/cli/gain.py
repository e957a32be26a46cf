"""``symgrad gain NAME``: the gain by second-moment preservation and by criticality."""

from __future__ import annotations

import argparse
from typing import Any

from symgrad._core.format import number_text
from symgrad.cli.args import activation_from_args
from symgrad.cli.output import emit
from symgrad.errors import InvalidArgument
from symgrad.initialization.gains import Principle, gain


def run(args: argparse.Namespace) -> int:
    act = activation_from_args(args)
    payload: dict[str, Any] = {"activation": act.label}
    lines = [f"Gains of {act.label}"]
    for principle in Principle:
        try:
            g = gain(act, principle=principle)
        except InvalidArgument as exc:
            payload[principle.value] = {"value": None, "note": str(exc)}
            lines.append(f"  {principle.value:<14} none: {exc}")
            continue
        how = g.how("value").kind.value
        payload[principle.value] = {"value": g.value, "provenance": how,
                                    "text": number_text(g.value, 15), "note": g.note or None}
        lines.append(f"  {principle.value:<14} {number_text(g.value, 15)} ({how})")
        if g.note:
            lines.append(f"  {'':<14} note: {g.note}")
    emit(payload, as_json=args.json, text="\n".join(lines))
    return 0
