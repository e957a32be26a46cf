"""What the sub-commands print: text for people, strict JSON for scripts."""

from __future__ import annotations

import json
import math
from typing import Any

from symgrad._core.format import jsonable

__all__ = ["emit"]


def emit(payload: Any, *, as_json: bool, text: str) -> None:
    """Print ``text`` for people, or ``payload`` as JSON for scripts."""
    if as_json:
        print(json.dumps(_strict_json(jsonable(payload)), indent=2, sort_keys=False,
                         ensure_ascii=False, allow_nan=False))
    else:
        print(text)


def _strict_json(value: Any) -> Any:
    """NaN becomes the string "nan" (JSON has no NaN; ±∞ are already strings)."""
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value
