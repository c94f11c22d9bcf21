"""Observations as plain dicts in their JSON interchange shape, for the fast commands.

``observation(...)`` gives what ``Observation(...).model_dump(mode="json")`` would, without pydantic;
``Observation.model_validate`` reads it back wherever the typed object is needed (re-judging, reports).
Values are made strict JSON here, once for every engine: non-finite numbers (NaN from a log) become
null in details, as pydantic writes them, and are left out of metrics.
"""

from __future__ import annotations

import math


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


def json_value(value):
    """``value`` as strict JSON: non-finite floats become None, other non-JSON values their repr."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    return value if isinstance(value, str | int | bool | type(None)) else repr(value)
