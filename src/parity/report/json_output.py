"""Deterministic JSON text: sorted keys, fixed indentation, a trailing newline."""

from __future__ import annotations

import json
import math

from parity.untrusted import escaped, lone_surrogates

#: version of every JSON shape parity writes (docs/json-format.md)
VERSION = 1


def envelope(kind: str, body: dict) -> dict:
    """A payload with ``format`` (``parity-<kind>``) and ``version``, so a consumer can tell what it reads."""
    return {"format": f"parity-{kind}", "version": VERSION, **body}


def to_json(payload) -> str:
    r"""Serialise ``payload`` so that equal inputs give byte-identical, strict JSON text.

    Non-finite numbers become null (``NaN`` and ``Infinity`` are not JSON), and a lone surrogate from a
    submitted string is written as its ``\uXXXX`` escape, so the text encodes as UTF-8.
    """
    try:
        text = json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:  # a non-finite float somewhere: the rare case pays for a second walk
        text = json.dumps(_finite(payload), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return lone_surrogates().sub(escaped, text) + "\n"


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value
