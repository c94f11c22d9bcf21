"""Mutations that turn a real file into a hostile one: bytes, JSON values and text, driven by one seeded RNG.

Each mutator takes ``random.Random`` and returns new content; the same seed gives the same mutant, so a
finding of the campaign is reproduced by its loader, seed file and mutant number.
"""

from __future__ import annotations

import json
import random

#: values that broke parsers before, or could: huge and non-finite numbers, surrogates, control
#: characters, deep nesting, wrong types
HOSTILE_VALUES = [
    "\x00raw:9e5000\x00",
    "\x00raw:-1e400\x00",
    "\x00raw:NaN\x00",
    -(10**40),
    2**63,
    2**64 + 1,
    -1,
    0,
    float("nan"),
    float("inf"),
    float("-inf"),
    1e308,
    "\ud800",
    "x\udfffy",
    "line\nbreak",
    "\x00\x01\x1b[31m",
    "é" * 3,
    "",
    "y" * 200_000,
    None,
    True,
    [],
    {},
    [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]],
    "[" * 10,
    "../../outside/secret.txt",
    "/etc/passwd",
    "a" * 5000,
]

#: raw tokens spliced into text: JSON that the standard parser accepts but a strict reader must not trust
HOSTILE_TOKENS = [
    b"9" * 5000,
    b"1e400",
    b"-1e400",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b'"\\ud800"',
    b"\x00",
    b"\n",
    b"\r",
    b"\xff\xfe",
    b"[" * 600,
    b"{" * 300,
    b'"' + b"\\n" * 10 + b'"',
    b"\x1b[2J",
    b"!!python/object/apply:os.system ['echo pwned']",
    b"*alias",
    b"&anchor",
]


#: a placeholder for a list nested N deep, spliced in as text (json.dumps itself recurses)
DEEP = "\x00deep:{}\x00"
#: placeholders for raw JSON text that Python values cannot carry, and that text
RAW = {
    json.dumps("\x00raw:9e5000\x00"): "9" * 5000,
    json.dumps("\x00raw:-1e400\x00"): "-1e400",
    json.dumps("\x00raw:NaN\x00"): "NaN",
    **{json.dumps(DEEP.format(levels)): "[" * levels + "]" * levels for levels in (65, 200, 900, 5000)},
}


def splice(text: str) -> str:
    """JSON text with every placeholder replaced by its raw text."""
    for placeholder, raw in RAW.items():
        text = text.replace(placeholder, raw)
    return text


def hostile_value(rng: random.Random):
    """One hostile JSON-ish value."""
    if rng.random() < 0.1:
        return DEEP.format(rng.choice([65, 200, 900, 5000]))
    if rng.random() < 0.05:
        return list(range(rng.choice([1000, 100_000])))
    return rng.choice(HOSTILE_VALUES)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One to four byte-level edits: flips, truncation, deletion, duplication, hostile tokens."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        at = rng.randrange(len(data) + 1) if data else 0
        if choice < 0.3 and data:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif choice < 0.45:
            del data[at:]
        elif choice < 0.6 and data:
            del data[at : at + rng.randint(1, 64)]
        elif choice < 0.7 and data:
            data[at:at] = data[at : at + rng.randint(1, 256)] * rng.randint(2, 16)
        else:
            data[at:at] = rng.choice(HOSTILE_TOKENS)
    return bytes(data)


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON value, iteratively."""
    stack = [(prefix, value)]
    while stack:
        path, current = stack.pop()
        yield path, current
        if isinstance(current, dict):
            stack.extend(((*path, key), item) for key, item in current.items())
        elif isinstance(current, list):
            stack.extend(((*path, index), item) for index, item in enumerate(current))


def mutate_json_value(value, rng: random.Random):
    """A copy of ``value`` with one to three nodes replaced, removed, renamed or duplicated."""
    for _ in range(rng.randint(1, 3)):
        value = json.loads(json.dumps(value))  # a fresh copy each time: an edit never aliases another
        paths = [path for path, _ in _paths(value) if path]
        if not paths:
            return hostile_value(rng)
        path = rng.choice(paths)
        parent = value
        for part in path[:-1]:
            parent = parent[part]
        last, choice = path[-1], rng.random()
        if choice < 0.6:
            parent[last] = hostile_value(rng)
        elif choice < 0.75:
            del parent[last]
        elif choice < 0.85 and isinstance(parent, dict):
            parent[rng.choice(["bad\nkey", "\ud800", "x" * 300, "", "__metadata__"])] = parent.pop(last)
        elif isinstance(parent, list):
            parent.extend([parent[last]] * rng.randint(1, 50))
        else:
            parent[last] = [parent[last]] * rng.randint(2, 10)
    return value


def dump_json(value, rng: random.Random) -> bytes:
    """JSON text of ``value`` (NaN tokens allowed), sometimes spliced with a raw hostile token."""
    data = splice(json.dumps(value, allow_nan=True)).encode()
    return mutate_bytes(data, rng) if rng.random() < 0.15 else data


def mutate_json(data: bytes, rng: random.Random) -> bytes:
    """Mutate a JSON document structurally (most of the time) or as bytes."""
    try:
        value = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng)
    if rng.random() < 0.2:
        return mutate_bytes(data, rng)
    return dump_json(mutate_json_value(value, rng), rng)
