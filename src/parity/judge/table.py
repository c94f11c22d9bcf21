"""Judge tables: a rulebook's decisions for the change kinds a fast path emits, compiled to JSON.

For most rules the outcome depends only on the kind, the division and the benchmark, never on the
observation's evidence (:func:`parity.judge.judging.reads_evidence`). :mod:`parity.compile` runs the real
judge over that finite domain and saves what it decided; judging log and RCP observations then needs no
pydantic and no YAML. Entries the evidence could change are ``null`` and go to the real judge, so a
table never decides differently from it (a test compares both on every entry).

Observations, findings and judgements are the plain objects every path shares (:mod:`parity.judge.model`).
"""

from __future__ import annotations

import json
import os
from functools import cache

from parity.errors import BadInput
from parity.judge.model import Finding, Judgement
from parity.observations.plain import Observation

COMPILED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compiled")
#: the table entry for benchmarks without rules of their own
ANY_BENCHMARK = "*"


class JudgedResult:
    """What a result with a ``judgement`` can say about it."""

    __slots__ = ()
    judgement: Judgement

    @property
    def problems(self) -> list[Finding]:
        """The findings that are not allowed."""
        return self.judgement.problems


class JudgeTable:
    """One rulebook's compiled decisions, per division, kind and benchmark."""

    __slots__ = ("divisions", "rulebook")

    def __init__(self, data: dict) -> None:
        self.rulebook: str = data["rulebook"]
        self.divisions: dict[str, dict] = data["divisions"]

    def decision(self, kind: str, division: str, benchmark: str | None) -> dict | None:
        """The finding's rule fields for a kind, or None where the evidence matters (or unknown kind)."""
        by_benchmark = self.divisions[division]["kinds"].get(kind)
        if by_benchmark is None:
            return None
        return (
            by_benchmark.get(benchmark, by_benchmark[ANY_BENCHMARK])
            if benchmark
            else by_benchmark[ANY_BENCHMARK]
        )


def table_ids() -> tuple[str, ...]:
    """Rulebooks with a compiled table."""
    return tuple(
        sorted(name.removesuffix(".json") for name in os.listdir(COMPILED_DIR) if name.endswith(".json"))
    )


@cache
def load_table(rulebook: str) -> JudgeTable:
    """The compiled table of a packaged rulebook (allow-listed by :func:`table_ids`)."""
    if rulebook not in table_ids():
        raise BadInput(f"no compiled judge table for rulebook {rulebook!r}; known: {', '.join(table_ids())}")
    with open(os.path.join(COMPILED_DIR, f"{rulebook}.json"), encoding="utf-8") as handle:
        return JudgeTable(json.load(handle))


def judge_by_table(
    observations: list[Observation], table: JudgeTable, division: str, benchmark: str | None
) -> Judgement:
    """The judgement of observations by a compiled table: the rulebook judge's, without loading it.

    Raises:
        BadInput: the rulebook has no such division.
    """
    if division not in table.divisions:
        known = ", ".join(table.divisions)
        raise BadInput(f"rulebook {table.rulebook} has no {division} division (it has: {known})")
    findings = [
        _finding(index, observation, table, division, benchmark)
        for index, observation in enumerate(observations)
    ]
    return Judgement(
        table.rulebook, division, findings, table.divisions[division]["unobservable_rules"], benchmark
    )


def _finding(
    index: int, observation: Observation, table: JudgeTable, division: str, benchmark: str | None
) -> Finding:
    benchmark = observation.evidence.details.get("benchmark", benchmark)
    decision = table.decision(observation.kind, division, benchmark)
    if decision is None:
        return _by_the_judge(index, observation, table.rulebook, division, benchmark)
    return Finding(
        index, observation.kind, summary=observation.summary, evidence=observation.evidence, **decision
    )


def _by_the_judge(
    index: int, observation: Observation, rulebook: str, division: str, benchmark: str | None
) -> Finding:
    """The real judge, for entries that depend on evidence (loads pydantic and the rulebook)."""
    from parity.judge.judging import judge_one
    from parity.rulebook import Division, load_rulebook

    return judge_one(index, observation, load_rulebook(rulebook), Division(division), benchmark)
