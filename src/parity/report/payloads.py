"""Stable JSON shapes for every command (documented in docs/json-format.md).

Each payload carries ``format`` and ``version`` so a consumer can tell what it reads; keys are sorted
when written, so the same inputs give byte-identical output.
"""

from __future__ import annotations

from typing import Any

from parity.judge import Judgement, KindContrast
from parity.observations import Observation, all_kinds
from parity.report.json_output import envelope
from parity.rulebook import Rule, Rulebook
from parity.rulebook.diff import RulebookDiff


def rulebook_summary(book: Rulebook) -> dict[str, Any]:
    """Identity and polarity of a rulebook, without its rules."""
    return {
        "id": book.id,
        "title": book.title,
        "suite": book.suite,
        "round": book.round,
        "lineage": list(book.lineage),
        "divisions": [division.value for division in book.divisions],
        "default": book.default.value,
        "division_defaults": {d.value: p.value for d, p in book.division_defaults.items()},
        "default_rationale": book.default_rationale,
        "source": book.source.model_dump(mode="json", exclude_none=True) if book.source else None,
    }


def rule_payload(rule: Rule, book: Rulebook) -> dict[str, Any]:
    """A rule as data, with its rulebook and its history across rounds."""
    return {
        **rule.model_dump(mode="json", exclude_none=True),
        "rulebook": book.id,
        "history": [
            {"rulebook": entry.rulebook, "action": entry.action, "note": entry.note}
            for entry in book.rule_history(rule.id)
        ],
    }


def rules_list(books: list[Rulebook], aliases: dict[str, str]) -> dict[str, Any]:
    """`parity rules list`."""
    return envelope(
        "rules-list",
        {
            "aliases": dict(sorted(aliases.items())),
            "rulebooks": [
                {
                    **rulebook_summary(book),
                    "rules": [
                        {
                            "id": rule.id,
                            "title": rule.title,
                            "kind": rule.kind.value,
                            "divisions": [d.value for d in rule.divisions],
                            "enforcement": rule.enforcement.value,
                            "governs": rule.governs,
                        }
                        for rule in book.rules.values()
                    ],
                }
                for book in books
            ],
        },
    )


def contrast_payload(rows: list[KindContrast]) -> list[dict[str, Any]]:
    """Per-kind outcomes under two rulebooks."""
    return [
        {
            "kind": row.kind,
            "a": {"outcome": row.a.outcome.value, "rule": row.a.rule, "basis": row.a.basis},
            "b": {"outcome": row.b.outcome.value, "rule": row.b.rule, "basis": row.b.basis},
        }
        for row in rows
    ]


def explain_payload(rule: Rule, book: Rulebook, other: Rulebook | None, rows: list[KindContrast]) -> dict:
    """`parity rules explain`: the rule, and how the other suite judges the kinds it governs."""
    return envelope(
        "rule",
        {
            "rule": rule_payload(rule, book),
            "counterpart": None
            if other is None
            else {"rulebook": other.id, "default": other.default.value, "kinds": contrast_payload(rows)},
        },
    )


def diff_payload(diff: RulebookDiff, division: str, rows: list[KindContrast]) -> dict[str, Any]:
    """`parity rules diff`: polarity, rules only on one side, and every kind judged differently."""
    return envelope(
        "rules-diff",
        {
            "a": diff.a,
            "b": diff.b,
            "division": division,
            "default": {name: {"a": left, "b": right} for name, (left, right) in diff.polarity.items()},
            "only_in_a": diff.only_in_a,
            "only_in_b": diff.only_in_b,
            "changed": diff.changed,
            "judged_differently": contrast_payload([row for row in rows if row.differs]),
            "judged_alike": [row.kind for row in rows if not row.differs],
        },
    )


def judgement_payload(judgement: Judgement, observations: list[Observation]) -> dict[str, Any]:
    """`parity judge`: verdict, findings and the observations they judged (re-judgeable as evidence)."""
    return envelope(
        "judgement",
        {
            **judgement.to_json(),
            "observations": [obs.to_json() for obs in observations],
        },
    )


def kinds_payload() -> dict[str, Any]:
    """`parity rules kinds`: the vocabulary."""
    return envelope(
        "kinds",
        {
            "kinds": [
                {
                    "name": kind.name,
                    "meaning": kind.meaning,
                    "difference": kind.difference,
                    "parent": kind.parent,
                }
                for kind in all_kinds().values()
            ]
        },
    )


def correspondence_payload(comparison: Any) -> dict[str, Any]:
    """The graph correspondence with original names only (what other tools and engines can use)."""
    correspondence = comparison.correspondence
    return {
        "complete": correspondence.complete,
        "nodes": [
            {"reference": list(left), "candidate": list(right)} for left, right in comparison.node_pairs()
        ],
        "values": {
            left: right
            for left, right in sorted(correspondence.values.items())
            if "#" not in left and "#" not in right
        },
        "unmatched_reference": [
            name
            for node in correspondence.unmatched_reference
            for name in comparison.reference.nodes[node].origin
        ],
        "unmatched_candidate": [
            name
            for node in correspondence.unmatched_candidate
            for name in comparison.candidate.nodes[node].origin
        ],
    }


def reading_notes(result: Any) -> dict[str, list[str]]:
    """Per side, what reading its file took beyond parsing it (node order restored); empty sides left out."""
    comparison = getattr(result, "graph", None)
    if comparison is None:
        return {}
    sides = {"reference": comparison.reference, "candidate": comparison.candidate}
    return {side: list(graph.notes) for side, graph in sides.items() if getattr(graph, "notes", None)}


def report_payload(result: Any) -> dict[str, Any]:
    """`parity check`: verdict, findings, observations (re-judgeable) and the correspondence map."""
    body = {
        **result.judgement.to_json(),
        "subject": {"reference": result.reference, "candidate": result.candidate},
        "engines": result.engines,
        "rulebook_title": result.rulebook.title,
        "observations": [obs.to_json() for obs in result.observations],
    }
    if result.graph is not None:
        body["correspondence"] = correspondence_payload(result.graph)
    notes = reading_notes(result)
    if notes:
        body["reading"] = notes
    return envelope("report", body)
