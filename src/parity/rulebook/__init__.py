"""Rulebooks as data: schema, loading with inheritance, and the packaged MLPerf rulebooks."""

from parity.rulebook.loader import aliases, load_rulebook, packaged_dir, packaged_ids
from parity.rulebook.model import HistoryEntry, Rulebook
from parity.rulebook.schema import Division, Enforcement, Example, Polarity, Rule, RuleKind, Source

__all__ = [
    "Division",
    "Enforcement",
    "Example",
    "HistoryEntry",
    "Polarity",
    "Rule",
    "RuleKind",
    "Rulebook",
    "Source",
    "aliases",
    "load_rulebook",
    "packaged_dir",
    "packaged_ids",
]
