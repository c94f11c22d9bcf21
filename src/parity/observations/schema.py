"""The evidence file's schema: where saved observations are validated before the judge sees them.

Saved evidence is what lets ``parity judge`` re-judge an audit under another rulebook without running a
model again, so this is the stable interchange format (see docs/json-format.md). The pydantic models here
exist only at that file boundary; what they validate becomes the plain :mod:`parity.observations.plain`
objects every path shares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from parity.errors import BadInput
from parity.observations import plain
from parity.observations.plain import EVIDENCE_FORMAT, EVIDENCE_VERSION, EvidenceFile
from parity.untrusted import MAX_ECHO_CHARS, echo, read_json, without_surrogates

MAX_EVIDENCE_BYTES = 64 * 1024 * 1024
#: the most observations one file may hold (a whole round's audit makes tens of thousands)
MAX_OBSERVATIONS = 250_000
#: files whose `observations` can be re-judged: evidence, and the reports and judgements that embed it
ACCEPTED_FORMATS = (EVIDENCE_FORMAT, "parity-report", "parity-judgement")

JsonScalar = str | int | float | bool | None


class LocationSchema(BaseModel):
    """Where a difference was seen: a node, a tensor, a log line or a file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    where: Literal["node", "tensor", "log_line", "file", "hparam", "model"] = Field(
        description="What the location points at."
    )
    name: str = Field(description="Node, tensor or key name; file path for 'file'.")
    side: Literal["reference", "candidate", "both"] = Field(
        "candidate", description="Which artifact the location belongs to."
    )
    file: str | None = Field(None, description="The file the location is in, when known.")
    line: int | None = Field(None, ge=1, description="Physical line number for log lines.")


class EvidenceSchema(BaseModel):
    """What supports an observation: locations, numbers and reproducible detail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    locations: tuple[LocationSchema, ...] = Field((), description="Where the difference is.")
    metrics: dict[str, float] = Field(
        default_factory=dict, description="Measured numbers (errors, fractions, statistics, p-values)."
    )
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="Further facts (JSON values): before/after values, transform chains, stated methods.",
    )


class ObservationSchema(BaseModel):
    """One fact about how the candidate differs from (or matches) the reference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(description="A change kind from the vocabulary (``parity rules kinds``).")
    engine: str = Field("manual", description="The engine that made the observation.")
    summary: str = Field("", description="One line for people.")
    evidence: EvidenceSchema = Field(default_factory=EvidenceSchema)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        return plain.known_kind(value)


class EvidenceFileSchema(BaseModel):
    """A saved set of observations, re-judgeable under any rulebook."""

    model_config = ConfigDict(extra="ignore")

    format: Annotated[str, Field(description="Always 'parity-evidence' (reports are accepted too).")] = (
        EVIDENCE_FORMAT
    )
    version: int = Field(EVIDENCE_VERSION, description="Format version.")
    subject: dict[str, JsonScalar] = Field(
        default_factory=dict,
        description="What was audited: name, kind, round, division, benchmark (EvidenceSubject); the "
        "free-form shapes of earlier files are read too.",
    )
    observations: list[ObservationSchema] = Field(
        description="The facts, in the order the engines made them."
    )


def load_evidence(path: str | Path) -> EvidenceFile:
    """Read an evidence file (or a JSON report, which embeds its observations).

    Raises:
        BadInput: the file is missing, too large, not JSON, or names unknown change kinds.
    """
    path = Path(path)
    data = without_surrogates(read_json(path, "evidence file", MAX_EVIDENCE_BYTES))
    if not isinstance(data, dict):
        raise BadInput(f"expected a JSON object with 'observations', found {type(data).__name__}", path)
    if data.get("format", EVIDENCE_FORMAT) not in ACCEPTED_FORMATS:
        raise BadInput(f"format is {echo(data.get('format'))}, expected {EVIDENCE_FORMAT!r}", path)
    if data.get("format", EVIDENCE_FORMAT) == EVIDENCE_FORMAT and data.get("version", EVIDENCE_VERSION) != (
        EVIDENCE_VERSION
    ):
        raise BadInput(
            f"version: {echo(data.get('version'))}, this parity reads evidence version {EVIDENCE_VERSION}",
            path,
        )
    observations = data.get("observations")
    if isinstance(observations, list) and len(observations) > MAX_OBSERVATIONS:
        raise BadInput(f"{len(observations)} observations, over the {MAX_OBSERVATIONS} limit", path)
    try:
        checked = EvidenceFileSchema.model_validate(data)
    except ValidationError as exc:
        raise BadInput(_first_error(exc), path) from None
    try:
        subject = plain.EvidenceSubject.from_json(checked.subject)
    except ValueError as exc:
        raise BadInput(str(exc), path) from None
    return EvidenceFile(
        [plain.Observation.from_json(item.model_dump()) for item in checked.observations], subject
    )


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])[:MAX_ECHO_CHARS]
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{more}"
