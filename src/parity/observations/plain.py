"""The one in-memory model of observations: plain slotted classes, shared by every path.

The fast commands (logs, RCP, audit) and the model-pair engines build the same :class:`Observation`
objects, and the judge reads them the same way. They import nothing beyond the standard library, so a
`logs check` starts without pydantic. Validation happens at the file boundaries instead: an evidence file
goes through the pydantic schema (:mod:`parity.observations.schema`), and engines write values made strict,
bounded JSON here, once for all of them: non-finite numbers (NaN from a log) become null in details and
are left out of metrics; long strings and lists from a submission are cut, saying how long they were.
"""

from __future__ import annotations

import math

from parity.observations.kinds import get_kind
from parity.untrusted import MAX_ECHO_CHARS, echo

EVIDENCE_FORMAT = "parity-evidence"
EVIDENCE_VERSION = 1
#: the most items of a list or object kept in an observation's details
MAX_ITEMS = 100
#: where a location may point, and which side it is on (the schema's Literal types say the same)
WHERE = ("node", "tensor", "log_line", "file", "hparam", "model")
SIDES = ("reference", "candidate", "both")


class Plain:
    """Equality and repr from ``__slots__``; subclasses give ``to_json``."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # details are dicts: not hashable, as before

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


def known_kind(kind: str) -> str:
    """``kind`` if the vocabulary has it, else a ValueError naming it (for objects and the file schema)."""
    if get_kind(kind) is None:
        raise ValueError(f"unknown change kind {echo(kind)} (see `parity rules kinds`)")
    return kind


class Location(Plain):
    """Where a difference was seen: a node, a tensor, a log line or a file."""

    __slots__ = ("file", "line", "name", "side", "where")

    def __init__(
        self, where: str, name: str, side: str = "candidate", file: str | None = None, line: int | None = None
    ) -> None:
        if where not in WHERE or side not in SIDES:
            raise ValueError(f"location where={where!r} side={side!r}: expected one of {WHERE} and {SIDES}")
        self.where, self.name, self.side, self.file, self.line = where, name, side, file, line

    def to_json(self) -> dict:
        """The JSON interchange shape (docs/json-format.md)."""
        return {
            "where": self.where,
            "name": self.name,
            "side": self.side,
            "file": self.file,
            "line": self.line,
        }


class Evidence(Plain):
    """What supports an observation: locations, numbers and reproducible detail (strict JSON values)."""

    __slots__ = ("details", "locations", "metrics")

    def __init__(
        self,
        locations: tuple[Location, ...] | list[Location] = (),
        metrics: dict[str, float] | None = None,
        details: dict | None = None,
    ) -> None:
        self.locations = tuple(locations)
        self.metrics = {
            name: float(value)
            for name, value in (metrics or {}).items()
            if value is not None and math.isfinite(value)
        }
        self.details = json_value(details or {})

    def to_json(self) -> dict:
        """The JSON interchange shape (docs/json-format.md)."""
        return {
            "locations": [where.to_json() for where in self.locations],
            "metrics": dict(self.metrics),
            "details": self.details,
        }

    @classmethod
    def from_json(cls, data: dict) -> Evidence:
        """From the JSON shape (already validated at the file boundary, or written by parity)."""
        return cls(
            tuple(Location(**where) for where in data.get("locations", ())),
            data.get("metrics"),
            data.get("details"),
        )


class Observation(Plain):
    """One fact about how the candidate differs from (or matches) the reference."""

    __slots__ = ("engine", "evidence", "kind", "summary")

    def __init__(
        self, kind: str, engine: str = "manual", summary: str = "", evidence: Evidence | None = None
    ) -> None:
        self.kind, self.engine, self.summary = known_kind(kind), engine, summary
        self.evidence = evidence if evidence is not None else Evidence()

    def to_json(self) -> dict:
        """The JSON interchange shape (docs/json-format.md)."""
        return {
            "kind": str(self.kind),
            "engine": self.engine,
            "summary": self.summary,
            "evidence": self.evidence.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict) -> Observation:
        """From the JSON shape (already validated at the file boundary, or written by parity)."""
        return cls(
            data["kind"],
            data.get("engine", "manual"),
            data.get("summary", ""),
            Evidence.from_json(data.get("evidence", {})),
        )


class EvidenceFile:
    """A saved set of observations, re-judgeable under any rulebook (validated, as plain objects)."""

    __slots__ = ("observations", "subject")

    def __init__(self, observations: list[Observation], subject: dict | None = None) -> None:
        self.observations = observations
        self.subject = dict(subject or {})

    def to_json(self) -> dict:
        """The JSON interchange shape (docs/json-format.md)."""
        return {
            "format": EVIDENCE_FORMAT,
            "version": EVIDENCE_VERSION,
            "subject": self.subject,
            "observations": [item.to_json() for item in self.observations],
        }


def location(where: str, name: str, file: str | None = None, line: int | None = None) -> Location:
    """Where a difference was seen, on the candidate's side."""
    return Location(where, name, "candidate", file, line)


def observation(
    kind: str,
    engine: str,
    summary: str,
    locations: list[Location],
    metrics: dict | None = None,
    details: dict | None = None,
) -> Observation:
    """One observation from its parts; metrics that are None or not finite are left out."""
    return Observation(kind, engine, summary, Evidence(locations, metrics, details))


def json_value(value, limit: int = MAX_ECHO_CHARS * 5):
    """``value`` as strict, bounded JSON (long strings and containers cut, non-finite floats None).

    Strings longer than ``limit`` and containers of more than :data:`MAX_ITEMS` items are cut, saying so;
    other non-JSON values become their (cut) repr.
    """
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        value = str(value)
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
    if isinstance(value, bool | type(None)):
        return value
    if isinstance(value, int):
        return int(value)
    return _number(value, limit)


def _number(value, limit: int):
    """A numpy scalar as the Python number it holds; anything else as its cut repr."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        held = item()
        if isinstance(held, int | float | bool):
            return json_value(held, limit)
    return echo(value, limit)
