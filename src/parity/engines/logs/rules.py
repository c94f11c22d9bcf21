"""A round's log rules as the checker runs them: plain records read from the compiled JSON.

The rules are written in ``data/training_<round>.yaml`` and validated by :mod:`.schema` (pydantic) when
:mod:`parity.compile` turns them into ``compiled/training_<round>.json``, with every expression already
parsed into a program. Reading that file needs only ``json``, which keeps ``parity logs check`` fast to
start.
"""

from __future__ import annotations

from collections import namedtuple

from parity.engines.logs.expressions import build

#: One rule about one log key (field meanings: :class:`parity.engines.logs.schema.LogRule`).
LogRule = namedtuple("LogRule", "key divisions benchmarks count metadata check target kind why")
#: A virtual key built from several records (:class:`parity.engines.logs.schema.Aggregation`).
Aggregation = namedtuple("Aggregation", "key source group_by name_by divisions benchmarks")


class RoundRules:
    """All log rules of one training round, with their expressions ready to evaluate."""

    __slots__ = (
        "aggregations",
        "benchmarks",
        "expressions",
        "init_limit_minutes",
        "round",
        "rulebook",
        "rules",
        "source",
    )

    def __init__(self, data: dict) -> None:
        self.round: str = data["round"]
        self.source: dict = data["source"]
        self.rulebook: str = data["rulebook"]
        self.init_limit_minutes: dict[str, float] = data["init_limit_minutes"]
        self.benchmarks: dict[str, list[str]] = data["benchmarks"]
        self.aggregations = [Aggregation(**item) for item in data["aggregations"]]
        self.rules = [LogRule(**item) for item in data["rules"]]
        #: expression text -> closures (``env -> value``), built from the programs compiled in
        self.expressions = {text: build(program) for text, program in data["expressions"].items()}
