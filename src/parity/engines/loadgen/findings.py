"""Observations of one inference result, collected as the checks read its files.

Every observation is located at a file, and at the line of the record or the printed value where there is
one, so a reviewer can open the evidence; a file that cannot be read is itself an observation
(``result.evidence_missing``), never an exception that stops the audit.
"""

from __future__ import annotations

import os

from parity.observations import plain
from parity.observations.kinds import RESULT_EVIDENCE_MISSING

ENGINE = "loadgen"


class Findings:
    """The observations of one result, in the order the checks made them."""

    __slots__ = ("notes", "observations")

    def __init__(self) -> None:
        self.observations: list[plain.Observation] = []
        self.notes: list[str] = []  # what a reader should know that no rule decides (shown in the table)

    def add(
        self,
        kind: str,
        summary: str,
        path,
        line: int | None = None,
        key: str = "",
        metrics: dict | None = None,
        details: dict | None = None,
    ) -> None:
        """One observation at ``path`` (and ``line``, naming the record ``key``)."""
        where = (
            plain.location("log_line", key or os.path.basename(os.fspath(path)), os.fspath(path), line)
            if line is not None
            else plain.location("file", os.fspath(path), os.fspath(path))
        )
        self.observations.append(plain.observation(kind, ENGINE, summary, [where], metrics, details))

    def missing(self, path, problem: str, needed_for: str) -> None:
        """A file that is missing, empty or unreadable: what it was needed for cannot be verified."""
        name = os.path.basename(os.fspath(path))
        self.add(
            RESULT_EVIDENCE_MISSING,
            f"{name} {problem}: {needed_for} cannot be verified",
            path,
            details={"problem": problem, "needed_for": needed_for},
        )
