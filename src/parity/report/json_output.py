"""Deterministic JSON text: sorted keys, fixed indentation, a trailing newline."""

from __future__ import annotations

import json
from typing import Any


def to_json(payload: Any) -> str:
    """Serialise ``payload`` so that equal inputs give byte-identical text."""
    return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
