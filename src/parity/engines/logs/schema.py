"""The schema of a round's log rules (``data/training_<round>.yaml``).

What must be logged, and what the logged values must satisfy, per division and benchmark. Expressions
are checked when the rules load.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from parity.engines.logs.expressions import ExpressionError, compile_expression
from parity.observations.kinds import (
    HPARAM_CHANGED,
    HPARAM_OUT_OF_RANGE,
    LOG_EVENT_MISSING,
    LOG_QUALITY_TARGET_MISSED,
    LOG_SEED_INVALID,
    LOG_TIME_LIMIT_EXCEEDED,
)

COUNT = re.compile(r"^(exactly_one|at_least_one|optional|at_least:[1-9][0-9]*|at_least_one_or:[a-z0-9_,]+)$")
KINDS = (
    LOG_EVENT_MISSING,
    HPARAM_CHANGED,
    HPARAM_OUT_OF_RANGE,
    LOG_TIME_LIMIT_EXCEEDED,
    LOG_SEED_INVALID,
    LOG_QUALITY_TARGET_MISSED,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where the rules were transcribed from."""

    repository: str
    path: str
    commit: str


class LogRule(_Strict):
    """One rule about one log key."""

    key: str = Field(pattern=r"^[a-z0-9_]+$", description="The MLLOG key the rule is about.")
    divisions: list[Literal["closed", "open"]] = Field(default_factory=list, description="Empty: both.")
    benchmarks: list[str] = Field(default_factory=list, description="Empty: every benchmark of the round.")
    count: str | None = Field(
        None,
        description="exactly_one | at_least_one | optional | at_least:N | at_least_one_or:other_key[,key]",
    )
    metadata: list[str] = Field(
        default_factory=list, description="Metadata every occurrence must carry (a|b means either)."
    )
    check: str | None = Field(None, description="Expression every occurrence must satisfy.")
    target: str | None = Field(None, description="Expression at least one occurrence must satisfy (quality).")
    kind: str | None = Field(
        None, description="Change kind when `check` fails (default hparam.out_of_range)."
    )
    why: str | None = Field(None, description="One line: what the rule protects (shown with the finding).")

    @field_validator("count")
    @classmethod
    def _count(cls, value: str | None) -> str | None:
        if value is not None and not COUNT.match(value):
            raise ValueError(
                f"count {value!r} is not one of exactly_one, at_least_one, optional, at_least:N, "
                "at_least_one_or:key"
            )
        return value

    @field_validator("check", "target")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_expression(value)
            except ExpressionError as exc:
                raise ValueError(f"{value!r}: {exc}") from None
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str | None) -> str | None:
        if value is not None and value not in KINDS:
            raise ValueError(f"kind {value!r} is not one of {', '.join(KINDS)}")
        return value

    @model_validator(mode="after")
    def _something(self) -> LogRule:
        if not (self.count or self.check or self.target or self.metadata):
            raise ValueError(f"rule for {self.key!r} checks nothing")
        return self


class Aggregation(_Strict):
    """A virtual key built from several records (mlperf-logging builds these in Python BEGIN code).

    One event per distinct ``group_by`` metadata value, whose value maps each record's ``name_by``
    metadata to its value, plus the group value itself.
    """

    key: str = Field(pattern=r"^[a-z0-9_]+$", description="The virtual key the rules then check.")
    source: str = Field(pattern=r"^[a-z0-9_]+$", description="The logged key the records come from.")
    group_by: str = Field(description="Metadata field that groups records (e.g. samples_count).")
    name_by: str = Field(description="Metadata field that names each record's value (e.g. metric).")
    divisions: list[Literal["closed", "open"]] = Field(default_factory=list)
    benchmarks: list[str] = Field(default_factory=list)


class RoundRules(_Strict):
    """All log rules of one training round."""

    round: str = Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")
    source: Source
    rulebook: str = Field(description="The parity rulebook that judges this round's findings.")
    init_limit_minutes: dict[Literal["closed", "open"], float]
    benchmarks: dict[Literal["closed", "open"], list[str]]
    aggregations: list[Aggregation] = Field(default_factory=list)
    rules: list[LogRule]
