"""Observations as plain dicts in their JSON interchange shape, for the fast commands.

``observation(...)`` gives what ``Observation(...).model_dump(mode="json")`` would, without pydantic;
``Observation.model_validate`` reads it back wherever the typed object is needed (re-judging, reports).
Values are made strict, bounded JSON here, once for every engine: non-finite numbers (NaN from a log)
become null in details, as pydantic writes them, and are left out of metrics; long strings and lists from
a submission are cut, saying how long they were.
"""

from __future__ import annotations

import math

from parity.untrusted import MAX_ECHO_CHARS, echo

#: the most items of a list or object kept in a finding's details
MAX_ITEMS = 100


def location(where: str, name: str, file: str | None = None, line: int | None = None) -> dict:
    """Where a difference was seen, on the candidate's side (see :class:`parity.observations.Location`)."""
    return {"where": where, "name": name, "side": "candidate", "file": file, "line": line}


def observation(
    kind: str,
    engine: str,
    summary: str,
    locations: list[dict],
    metrics: dict | None = None,
    details: dict | None = None,
) -> dict:
    """One observation (see :class:`parity.observations.Observation`); metrics that are None are left out."""
    measured = {
        name: value for name, value in (metrics or {}).items() if value is not None and math.isfinite(value)
    }
    return {
        "kind": kind,
        "engine": engine,
        "summary": summary,
        "evidence": {"locations": locations, "metrics": measured, "details": json_value(details or {})},
    }


def json_value(value, limit: int = MAX_ECHO_CHARS * 5):
    """``value`` as strict, bounded JSON (long strings and containers cut, non-finite floats None).

    Strings longer than ``limit`` and containers of more than :data:`MAX_ITEMS` items are cut, saying so;
    other non-JSON values become their (cut) repr.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if len(value) <= limit else f"{value[:limit]}… ({len(value)} characters)"
    if isinstance(value, list | tuple):
        kept = [json_value(item, limit) for item in value[:MAX_ITEMS]]
        return kept + ([f"… ({len(value)} items)"] if len(value) > MAX_ITEMS else [])
    if isinstance(value, dict):
        items = list(value.items())[: MAX_ITEMS + 1]
        kept = {str(key)[:limit]: json_value(item, limit) for key, item in items[:MAX_ITEMS]}
        if len(value) > MAX_ITEMS:
            kept["…"] = f"{len(value)} items"
        return kept
    return value if isinstance(value, int | bool | type(None)) else echo(value, limit)
