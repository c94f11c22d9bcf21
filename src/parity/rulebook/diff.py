"""Structural difference between two rulebooks: polarity, and rules only in one or changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from parity.rulebook.model import Rulebook
from parity.rulebook.schema import Division


@dataclass(frozen=True)
class RulebookDiff:
    """What differs between rulebooks A and B, rule by rule (the judged difference lives in the judge)."""

    a: str
    b: str
    polarity: dict[str, tuple[str | None, str | None]]
    only_in_a: list[str]
    only_in_b: list[str]
    rule_counts: tuple[int, int] = (0, 0)
    changed: dict[str, list[str]] = field(default_factory=dict)


def diff_rulebooks(a: Rulebook, b: Rulebook) -> RulebookDiff:
    """Compare two resolved rulebooks: default polarity per division and the rules by id."""
    polarity = {}
    for division in Division:
        left = a.polarity(division).value if division in a.divisions else None
        right = b.polarity(division).value if division in b.divisions else None
        if left or right:
            polarity[division.value] = (left, right)
    changed = {}
    for rule_id in a.rules.keys() & b.rules.keys():
        left, right = a.rules[rule_id].model_dump(), b.rules[rule_id].model_dump()
        fields = sorted(name for name in left if left[name] != right[name])
        if fields:
            changed[rule_id] = fields
    return RulebookDiff(
        a=a.id,
        b=b.id,
        polarity=polarity,
        only_in_a=[rule_id for rule_id in a.rules if rule_id not in b.rules],
        only_in_b=[rule_id for rule_id in b.rules if rule_id not in a.rules],
        rule_counts=(len(a.rules), len(b.rules)),
        changed=dict(sorted(changed.items())),
    )
