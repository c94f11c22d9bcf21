"""Findings and judgements: what the judge concludes, as plain objects with the stable JSON shape.

The judge by rulebook (:mod:`.judging`) and the compiled judge tables (:mod:`.table`) both give these, so
`parity check` and the fast commands report through one model (see docs/json-format.md).
"""

from __future__ import annotations

from parity.judge.outcomes import SEVERITY, Outcome, Verdict, verdict_of
from parity.observations.plain import Evidence, Plain

__all__ = ["BASES", "SEVERITY", "Finding", "Judgement", "Outcome", "Verdict"]

#: what decided a finding: a rule, the rulebook's default polarity, or a kind that is no difference
BASES = ("rule", "default", "no_difference")


class Finding(Plain):
    """One observation judged: by which rule (or default), with what outcome, and why."""

    __slots__ = (
        "basis",
        "evidence",
        "kind",
        "message",
        "observation",
        "other_rules",
        "outcome",
        "rationale",
        "rule",
        "rule_title",
        "summary",
    )

    def __init__(
        self,
        observation: int,
        kind: str,
        outcome: Outcome | str,
        basis: str,
        message: str,
        rule: str | None = None,
        rule_title: str | None = None,
        other_rules: list[str] | None = None,
        rationale: str = "",
        summary: str = "",
        evidence: Evidence | None = None,
    ) -> None:
        if basis not in BASES:
            raise ValueError(f"finding basis {basis!r}: expected one of {BASES}")
        self.observation, self.kind, self.outcome, self.basis = observation, kind, Outcome(outcome), basis
        self.rule, self.rule_title, self.other_rules = rule, rule_title, list(other_rules or ())
        self.message, self.rationale, self.summary = message, rationale, summary
        self.evidence = evidence if evidence is not None else Evidence()

    def to_json(self) -> dict:
        """The JSON interchange shape (docs/json-format.md)."""
        return {
            "observation": self.observation,
            "kind": str(self.kind),
            "outcome": self.outcome.value,
            "basis": self.basis,
            "rule": self.rule,
            "rule_title": self.rule_title,
            "other_rules": list(self.other_rules),
            "message": self.message,
            "rationale": self.rationale,
            "summary": self.summary,
            "evidence": self.evidence.to_json(),
        }


class Judgement(Plain):
    """All findings of an audit under one rulebook and division, and the verdict."""

    __slots__ = ("benchmark", "counts", "division", "findings", "rulebook", "unobservable_rules", "verdict")

    def __init__(
        self,
        rulebook: str,
        division: str,
        findings: list[Finding],
        unobservable_rules: list[str] | None = None,
        benchmark: str | None = None,
    ) -> None:
        self.rulebook, self.division, self.benchmark = rulebook, division, benchmark
        self.findings = findings
        self.unobservable_rules = list(unobservable_rules or ())
        self.counts = {outcome.value: 0 for outcome in Outcome}
        for finding in findings:
            self.counts[finding.outcome.value] += 1
        self.verdict = verdict_of(finding.outcome for finding in findings)

    @property
    def problems(self) -> list[Finding]:
        """The findings that are not allowed."""
        return [finding for finding in self.findings if finding.outcome is not Outcome.ALLOWED]

    def to_json(self) -> dict:
        """The JSON interchange shape (docs/json-format.md)."""
        return {
            "rulebook": self.rulebook,
            "division": self.division,
            "benchmark": self.benchmark,
            "verdict": self.verdict.value,
            "counts": dict(self.counts),
            "findings": [finding.to_json() for finding in self.findings],
            "unobservable_rules": list(self.unobservable_rules),
        }
