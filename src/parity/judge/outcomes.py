"""Outcomes of findings and verdicts of audits, and how the worst outcome makes the verdict.

Plain enums (no pydantic), shared by the judge and by the compiled judge tables of the fast paths.
"""

from __future__ import annotations

from enum import StrEnum

from parity.errors import ExitCode


class Outcome(StrEnum):
    """The judgement of one observation."""

    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"
    NEEDS_REVIEW = "needs_review"


class Verdict(StrEnum):
    """The judgement of a whole audit."""

    CONFORMS = "conforms"
    VIOLATES = "violates"
    NEEDS_REVIEW = "needs_review"

    @property
    def exit_code(self) -> ExitCode:
        """The process exit code for this verdict."""
        return {
            Verdict.CONFORMS: ExitCode.CONFORMS,
            Verdict.VIOLATES: ExitCode.VIOLATES,
            Verdict.NEEDS_REVIEW: ExitCode.NEEDS_REVIEW,
        }[self]


#: how bad an outcome is; plain strings look up the same entries (StrEnum members hash as their value)
SEVERITY = {Outcome.ALLOWED: 0, Outcome.NEEDS_REVIEW: 1, Outcome.FORBIDDEN: 2}


def verdict_of(outcomes) -> Verdict:
    """Violates if anything is forbidden, else needs review if anything does, else conforms."""
    worst = max((SEVERITY[outcome] for outcome in outcomes), default=0)
    return [Verdict.CONFORMS, Verdict.NEEDS_REVIEW, Verdict.VIOLATES][worst]


#: how bad a verdict is (exit codes are not ordered by severity: violates is 1, needs review 2)
VERDICT_SEVERITY = {Verdict.CONFORMS: 0, Verdict.NEEDS_REVIEW: 1, Verdict.VIOLATES: 2}


def worst_verdict(verdicts) -> Verdict:
    """The worst of several verdicts (a whole submission's, from its parts'); conforms if there are none."""
    return max(map(Verdict, verdicts), key=VERDICT_SEVERITY.__getitem__, default=Verdict.CONFORMS)
