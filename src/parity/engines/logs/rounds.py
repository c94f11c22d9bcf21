"""The training rounds parity has log rules for, and how a log's round, benchmark and division are found.

Everything a log says is checked against allow-lists from the package's own data before it is used to
look anything up, so a value like ``../../tmp/x`` can never name a file. Rules are read from the
compiled JSON (see :mod:`parity.compile`), on the start-up path of ``parity logs check``.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache

from parity.engines.logs.rules import RoundRules
from parity.errors import BadInput

ROUND = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
#: a results path names its round as training_results_v5.1, or as v5.1 (the corpus layout)
PATH_ROUND = re.compile(r"(?:^|[/_])v([0-9]+)\.([0-9]+)(?:$|/)")
HERE = os.path.dirname(os.path.abspath(__file__))
#: the YAML the rules are written in
DATA_DIR = os.path.join(HERE, "data")
#: the JSON they are compiled to
COMPILED_DIR = os.path.join(HERE, "compiled")


def _round_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split("."))


@cache
def available() -> tuple[str, ...]:
    """Rounds with packaged rules, oldest first."""
    found = [
        name.removeprefix("training_").removesuffix(".json")
        for name in os.listdir(COMPILED_DIR)
        if name.startswith("training_") and name.endswith(".json")
    ]
    return tuple(sorted((r for r in found if ROUND.match(r)), key=_round_key))


@cache
def load_round(name: str) -> RoundRules:
    """The rules of one round (the name must be one of :func:`available`)."""
    if name not in available():
        raise BadInput(f"unknown ruleset {name!r}; known: {', '.join(available()) or 'none'}")
    with open(os.path.join(COMPILED_DIR, f"training_{name}.json"), encoding="utf-8") as handle:
        return RoundRules(json.load(handle))


def canonical_round(name: str) -> str:
    """A training round as the packaged rules name it, from any spelling users write (5.1, v5.1, 5.1.0).

    Inference names rounds ``v5.1`` and training ``5.1.0``; both commands accept either.
    """
    parts = name.strip().lower().removeprefix("v").split(".")
    if 2 <= len(parts) <= 3 and all(part.isdigit() for part in parts):
        spelled = f"{int(parts[0])}.{int(parts[1])}.{int(parts[2]) if len(parts) == 3 else 0}"
        if spelled in available():
            return spelled
    raise BadInput(f"unknown ruleset {name!r}; known: {', '.join(available()) or 'none'}")


def round_from_path(path) -> str | None:
    """The round a results path names (``.../v5.1/...`` or ``training_results_v5.1``), if packaged."""
    match = PATH_ROUND.search(os.path.realpath(path).replace(os.sep, "/"))
    if match is None:
        return None
    name = f"{match.group(1)}.{match.group(2)}.0"
    return name if name in available() else None
