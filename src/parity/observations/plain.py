"""Observations as plain dicts in their JSON interchange shape, for the fast commands.

``observation(...)`` gives what ``Observation(...).model_dump(mode="json")`` would, without pydantic;
``Observation.model_validate`` reads it back wherever the typed object is needed (re-judging, reports).
"""

from __future__ import annotations


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
    """One observation (see :class:`parity.observations.Observation`)."""
    return {
        "kind": kind,
        "engine": engine,
        "summary": summary,
        "evidence": {"locations": locations, "metrics": metrics or {}, "details": details or {}},
    }
