"""A resolved rulebook: inheritance applied, rules indexed for the judge."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from parity.rulebook.schema import Division, Polarity, Rule, Source


@dataclass(frozen=True)
class HistoryEntry:
    """One step of a rule's history across rounds: added, changed or removed, by which rulebook."""

    rulebook: str
    action: Literal["defined", "added", "changed", "removed"]
    rule_id: str
    note: str = ""


@dataclass(frozen=True)
class Rulebook:
    """A rulebook ready to judge with: every inherited rule resolved, in a stable order."""

    id: str
    title: str
    suite: str
    round: str | None
    description: str
    source: Source | None
    divisions: tuple[Division, ...]
    default: Polarity
    division_defaults: dict[Division, Polarity]
    default_rationale: str
    counterpart: str | None
    weights_check: str
    lineage: tuple[str, ...]
    rules: dict[str, Rule]
    history: tuple[HistoryEntry, ...] = ()
    path: Path | None = None
    _by_kind: dict[str, list[Rule]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for rule in self.rules.values():
            for pattern in rule.governs:
                self._by_kind.setdefault(pattern, []).append(rule)

    def polarity(self, division: Division) -> Polarity:
        """The default judgement for change kinds no rule names, in this division."""
        return self.division_defaults.get(division, self.default)

    def rules_naming(self, pattern: str, division: Division) -> list[Rule]:
        """Rules applying to ``division`` that name ``pattern`` (a kind or '<category>.*') in `governs`."""
        return [rule for rule in self._by_kind.get(pattern, []) if division in rule.divisions]

    def rule_history(self, rule_id: str) -> list[HistoryEntry]:
        """Where the rule came from across the rounds this rulebook inherits."""
        return [entry for entry in self.history if entry.rule_id == rule_id]
