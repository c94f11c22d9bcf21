"""How rulebooks judge each change kind on its own.

This is the basis of `rules diff` and of the contrasts in `rules explain`: "what would unifying
training and inference change?"
"""

from __future__ import annotations

from dataclasses import dataclass

from parity.judge.judging import judge_one
from parity.judge.model import Finding
from parity.observations import Observation, all_kinds
from parity.rulebook import Division, Rulebook


@dataclass(frozen=True)
class KindContrast:
    """One change kind judged bare (no evidence details) under two rulebooks."""

    kind: str
    a: Finding
    b: Finding

    @property
    def differs(self) -> bool:
        """True when the two rulebooks reach different outcomes."""
        return self.a.outcome != self.b.outcome


def judge_bare(kind: str, rulebook: Rulebook, division: Division) -> Finding:
    """The finding for a single observation of ``kind`` with no evidence, as the rulebook reads it."""
    return judge_one(0, Observation(kind=kind, engine="contrast"), rulebook, division, None)


def contrast(
    a: Rulebook, b: Rulebook, division: Division, kinds: list[str] | None = None
) -> list[KindContrast]:
    """Every change kind (or the given ones) judged under both rulebooks in ``division``."""
    names = kinds if kinds is not None else [name for name, kind in all_kinds().items() if kind.difference]
    return [
        KindContrast(name, judge_bare(name, a, division), judge_bare(name, b, division)) for name in names
    ]
