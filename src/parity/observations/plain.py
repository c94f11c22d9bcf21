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


#: the divisions a subject may be judged in (the rulebooks' Division values)
DIVISIONS = ("closed", "open", "network")


def known_division(text) -> str | None:
    """``text`` as a division name (lower case), or None if it is not one."""
    name = text.strip().lower() if isinstance(text, str) else None
    return name if name in DIVISIONS else None


class EvidenceSubject(Plain):
    """What saved evidence is about: its name, kind, round, division and benchmark (None: not known).

    One typed object for every writer (``check``, ``audit``, the impact corpus), so that re-judging
    (``parity judge``, ``parity rules impact``) keeps the division and benchmark the audit used.
    :meth:`from_json` also reads the free-form dicts earlier versions wrote.
    """

    __slots__ = ("benchmark", "division", "kind", "name", "round")

    def __init__(
        self,
        name: str | None = None,
        kind: str | None = None,
        round: str | None = None,
        division: str | None = None,
        benchmark: str | None = None,
    ) -> None:
        self.name, self.kind, self.round, self.benchmark = name, kind, round, benchmark
        if division is not None and division not in DIVISIONS:
            raise ValueError(f"subject.division is {echo(division)}, expected one of {', '.join(DIVISIONS)}")
        self.division = division

    def to_json(self) -> dict:
        """The JSON shape: every field, null where not known."""
        return {name: getattr(self, name) for name in ("name", "kind", "round", "division", "benchmark")}

    @classmethod
    def from_json(cls, data: dict | None) -> EvidenceSubject:
        """From the typed shape, or from the free-form shapes of earlier files (still readable).

        Earlier shapes: ``{reference, candidate}`` (``check``), ``{submission, ruleset}`` (training
        ``audit``), ``{submission, round, suite}`` (inference ``audit``), ``{name, kind, division,
        benchmark}`` (the impact corpus).

        Raises:
            ValueError: a field that is not a string, or a division no rulebook has.
        """
        data = dict(data or {})
        for key in ("name", "kind", "round", "division", "benchmark"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"subject.{key} must be a string or null, not {type(data[key]).__name__}")
        data.update(
            {
                key: str(value)
                for key, value in data.items()
                if value is not None and not isinstance(value, str)
            }
        )  # the earlier free-form fields were any JSON scalar
        name, kind = data.get("name"), data.get("kind")
        if name is None and data.get("reference") is not None and data.get("candidate") is not None:
            name = f"{data['reference']} vs {data['candidate']}"
        if name is None and data.get("candidate") is not None:
            name = data["candidate"]
        if kind is None and ("reference" in data or "candidate" in data):
            kind = "model pair"
        if name is None:
            name = data.get("submission")
        if kind is None and "submission" in data:
            kind = f"{data.get('suite') or 'training'} submission"
        division = data.get("division")
        return cls(
            name,
            kind,
            data.get("round") or data.get("ruleset"),
            division.strip().lower() if isinstance(division, str) else None,
            data.get("benchmark"),
        )


class EvidenceFile:
    """A saved set of observations, re-judgeable under any rulebook (validated, as plain objects)."""

    __slots__ = ("observations", "subject")

    def __init__(
        self, observations: list[Observation], subject: EvidenceSubject | dict | None = None
    ) -> None:
        self.observations = observations
        self.subject = subject if isinstance(subject, EvidenceSubject) else EvidenceSubject.from_json(subject)

    def to_json(self) -> dict:
        """The JSON interchange shape (docs/json-format.md)."""
        return {
            "format": EVIDENCE_FORMAT,
            "version": EVIDENCE_VERSION,
            "subject": self.subject.to_json(),
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
