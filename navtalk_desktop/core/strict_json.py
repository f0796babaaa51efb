"""Every JSON text the app writes goes through `dumps`: strict RFC 8259, so any parser can read it.

Python's `json` writes `NaN` and `Infinity` by default; those are not JSON. A non-finite number becomes
`null`, and a dict gains `<key>_reason` saying why (unless the writer already gave a better reason).
`allow_nan=False` then guarantees nothing non-finite slipped through.
"""

from __future__ import annotations

import json
import math


def _reason(value: float) -> str:
    return "not a number" if math.isnan(value) else "infinite"


def finite(data):
    """A copy of `data` with every non-finite float replaced by None (and a reason beside it in dicts)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
                reason_key = f"{key}_reason"
                if reason_key not in data:
                    out[reason_key] = _reason(value)
            else:
                out[key] = finite(value)
        return out
    if isinstance(data, (list, tuple)):
        return [finite(v) for v in data]
    return data


def dumps(data, indent: int | None = 1, **kwargs) -> str:
    return json.dumps(finite(data), indent=indent, allow_nan=False, **kwargs)


def loads_strict(text: str):
    """Parse JSON refusing NaN/Infinity/-Infinity (what a strict RFC 8259 parser does)."""
    def refuse(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)
