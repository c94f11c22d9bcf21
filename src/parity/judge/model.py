"""Findings and judgements: what the judge concludes, in the stable JSON shape reports read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from parity.judge.outcomes import SEVERITY, Outcome, Verdict
from parity.observations import Evidence

__all__ = ["SEVERITY", "Finding", "Judgement", "Outcome", "Verdict"]


class Finding(BaseModel):
    """One observation judged: by which rule (or default), with what outcome, and why."""

    model_config = ConfigDict(frozen=True)

    observation: int = Field(description="Index of the observation in the audit's list.")
    kind: str = Field(description="The observation's change kind.")
    outcome: Outcome
    basis: Literal["rule", "default", "no_difference"] = Field(
        description="'rule' if a rule decided, 'default' if the rulebook's polarity did."
    )
    rule: str | None = Field(None, description="Id of the deciding rule.")
    rule_title: str | None = None
    other_rules: list[str] = Field(default_factory=list, description="Other rules that also named the kind.")
    message: str = Field(description="One line: what was seen and what the rule says about it.")
    rationale: str = Field("", description="Why the deciding rule (or default) exists.")
    summary: str = Field("", description="The observation's own summary.")
    evidence: Evidence = Field(default_factory=Evidence)


class Judgement(BaseModel):
    """All findings of an audit under one rulebook and division, and the verdict."""

    model_config = ConfigDict(frozen=True)

    rulebook: str
    division: str
    benchmark: str | None = None
    verdict: Verdict
    counts: dict[str, int] = Field(description="Findings per outcome.")
    findings: list[Finding]
    unobservable_rules: list[str] = Field(
        default_factory=list,
        description="Rules of this division no engine can observe: a person must check them.",
    )
