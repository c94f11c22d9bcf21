"""Shared helpers: writing small rulebooks and evidence files the tests build."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

BASE_RULE: dict[str, Any] = {
    "id": "demo.graph.non-weight",
    "title": "Non-weight optimisations",
    "kind": "allowed",
    "divisions": ["closed"],
    "governs": ["graph.dead_code_removed"],
    "statement": "Dead code may be removed from the graph.",
    "rationale": "It changes nothing the model computes.",
    "rationale_from": "parity",
    "enforcement": "automatic",
    "source": {"document": "Demo rules", "section": "Graph", "round": "v1"},
    "examples": [
        {"description": "dead code", "observations": ["graph.dead_code_removed"], "expect": "conforms"}
    ],
}

BASE_BOOK: dict[str, Any] = {
    "id": "demo-v1",
    "title": "Demo rulebook",
    "suite": "demo",
    "round": "v1",
    "divisions": ["closed", "open"],
    "default": "deny",
    "division_defaults": {"open": "allow"},
    "default_rationale": "Closed is a closed world.",
    "rules": [BASE_RULE],
}


def make_rule(**changes: Any) -> dict[str, Any]:
    """A valid rule dict with some fields replaced (None deletes a field)."""
    rule = copy.deepcopy(BASE_RULE)
    for key, value in changes.items():
        if value is None:
            rule.pop(key, None)
        else:
            rule[key] = value
    return rule


def make_book(rules: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    """A valid rulebook dict with some fields replaced."""
    book = copy.deepcopy(BASE_BOOK)
    if rules is not None:
        book["rules"] = rules
    book.update(changes)
    return book


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write a dict (or raw text) as a YAML file in tmp_path and return its path."""

    def write(name: str, content: dict[str, Any] | str) -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
        return path

    return write


@pytest.fixture
def write_evidence(tmp_path: Path):
    """Write observations (kind strings or dicts) as an evidence file."""

    def write(observations: list[Any], name: str = "evidence.json") -> Path:
        items = [{"kind": item} if isinstance(item, str) else item for item in observations]
        path = tmp_path / name
        path.write_text(json.dumps({"format": "parity-evidence", "version": 1, "observations": items}))
        return path

    return write


def pytest_report_header(config):
    """The versions of every tool the real-tool corpus runs, in the test output."""
    from realtools.corpus import versions

    return "tools: " + ", ".join(f"{name} {version}" for name, version in versions().items())


@pytest.fixture(scope="session")
def variants(tmp_path_factory):
    """Reference models and their optimised/converted/renamed versions, on disk."""
    from model_variants import build_variants

    return build_variants(tmp_path_factory.mktemp("variants"))
