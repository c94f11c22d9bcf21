"""Deterministic JSON text: sorted keys, fixed indentation, a trailing newline."""

from __future__ import annotations

import functools
import json
import math
import re

from parity.untrusted import escaped

#: version of every JSON shape parity writes (docs/json-format.md)
VERSION = 1


def envelope(kind: str, body: dict) -> dict:
    """A payload with ``format`` (``parity-<kind>``) and ``version``, so a consumer can tell what it reads."""
    return {"format": f"parity-{kind}", "version": VERSION, **body}


def to_json(payload) -> str:
    r"""Serialise ``payload`` so that equal inputs give byte-identical, strict JSON text.

    Non-finite numbers become null (``NaN`` and ``Infinity`` are not JSON). ``json`` escapes C0 controls;
    :func:`_unprintable` escapes what it leaves raw (DEL, C1 controls, bidirectional overrides,
    noncharacters and lone surrogates), so the text encodes as UTF-8, ``cat`` of it cannot act on a
    terminal, and a reader still gets every submitted string back exactly (a lone surrogate as its escape).
    """
    try:
        text = json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:  # a non-finite float somewhere: the rare case pays for a second walk
        text = json.dumps(_finite(payload), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return _unprintable().sub(escaped, text) + "\n"


@functools.cache
def _unprintable() -> re.Pattern:
    r"""What JSON allows raw in a string but no report shows raw (see :func:`parity.errors.one_line`).

    These characters occur in JSON text only inside strings, where their ``\uXXXX`` escape means them.
    """
    return re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value
