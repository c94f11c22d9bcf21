"""Deterministic JSON text: sorted keys, fixed indentation, a trailing newline."""

from __future__ import annotations

import json

#: version of every JSON shape parity writes (docs/json-format.md)
VERSION = 1


def envelope(kind: str, body: dict) -> dict:
    """A payload with ``format`` (``parity-<kind>``) and ``version``, so a consumer can tell what it reads."""
    return {"format": f"parity-{kind}", "version": VERSION, **body}


def to_json(payload) -> str:
    """Serialise ``payload`` so that equal inputs give byte-identical text."""
    return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
