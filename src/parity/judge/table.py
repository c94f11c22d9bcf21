"""Judge tables: a rulebook's decisions for the change kinds a fast path emits, compiled to JSON.

For most rules the outcome depends only on the kind, the division and the benchmark, never on the
observation's evidence (:func:`parity.judge.judging.reads_evidence`). :mod:`parity.compile` runs the real
judge over that finite domain and saves what it decided; judging log and RCP observations then needs no
pydantic and no YAML. Entries the evidence could change are ``null`` and go to the real judge, so a
table never decides differently from it (a test compares both on every entry).

Observations and findings here are plain dicts in their JSON interchange shape (docs/json-format.md).
"""

from __future__ import annotations

import json
import os
from functools import cache

from parity.errors import BadInput
from parity.judge.outcomes import Outcome, verdict_of

COMPILED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compiled")
#: the table entry for benchmarks without rules of their own
ANY_BENCHMARK = "*"


class JudgedResult:
    """What a result whose ``judgement`` is a plain dict (JSON shape of a Judgement) can say about it."""

    __slots__ = ()
    judgement: dict

    @property
    def problems(self) -> list[dict]:
        """The findings that are not allowed."""
        return [finding for finding in self.judgement["findings"] if finding["outcome"] != "allowed"]

    def judged(self):
        """The judgement as a validated :class:`parity.judge.Judgement` (imports pydantic)."""
        from parity.judge.model import Judgement

        return Judgement.model_validate(self.judgement)


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


def judge_plain(observations: list[dict], table: JudgeTable, division: str, benchmark: str | None) -> dict:
    """The judgement (JSON shape of :class:`parity.judge.Judgement`) of plain observations.

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
    counts = {outcome.value: 0 for outcome in Outcome}
    for finding in findings:
        counts[finding["outcome"]] += 1
    return {
        "rulebook": table.rulebook,
        "division": division,
        "benchmark": benchmark,
        "verdict": verdict_of(finding["outcome"] for finding in findings).value,
        "counts": counts,
        "findings": findings,
        "unobservable_rules": list(table.divisions[division]["unobservable_rules"]),
    }


def _finding(index: int, observation: dict, table: JudgeTable, division: str, benchmark: str | None) -> dict:
    evidence = observation["evidence"]
    benchmark = evidence["details"].get("benchmark", benchmark)
    decision = table.decision(observation["kind"], division, benchmark)
    if decision is None:
        return _by_the_judge(index, observation, table.rulebook, division, benchmark)
    return {
        "observation": index,
        "kind": observation["kind"],
        "summary": observation["summary"],
        "evidence": evidence,
        **decision,
    }


def _by_the_judge(index: int, observation: dict, rulebook: str, division: str, benchmark: str | None) -> dict:
    """The real judge, for entries that depend on evidence (loads pydantic and the rulebook)."""
    from parity.judge.judging import judge_one
    from parity.observations import Observation
    from parity.rulebook import Division, load_rulebook

    finding = judge_one(
        index, Observation.model_validate(observation), load_rulebook(rulebook), Division(division), benchmark
    )
    return finding.model_dump(mode="json")
