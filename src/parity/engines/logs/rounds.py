"""The training rounds parity has log rules for, and how a log's round, benchmark and division are found.

Everything a log says is checked against allow-lists from the package's own data before it is used to
look anything up, so a value like ``../../tmp/x`` can never name a file.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from parity.engines.logs.schema import RoundRules
from parity.errors import BadInput

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ROUND = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
#: a results path names its round as training_results_v5.1, or as v5.1 (the corpus layout)
PATH_ROUND = re.compile(r"(?:^|[/_])v([0-9]+)\.([0-9]+)(?:$|/)")


def data_dir() -> Path:
    """The folder of the packaged round rules."""
    return Path(str(resources.files("parity.engines.logs") / "data"))


@cache
def available() -> tuple[str, ...]:
    """Rounds with packaged rules, oldest first."""
    found = [path.stem.removeprefix("training_") for path in data_dir().glob("training_*.yaml")]
    return tuple(
        sorted((r for r in found if ROUND.match(r)), key=lambda r: tuple(int(p) for p in r.split(".")))
    )


@cache
def load_round(name: str) -> RoundRules:
    """The rules of one round (validated; the name must be one of :func:`available`)."""
    if name not in available():
        raise BadInput(f"unknown ruleset {name!r}; known: {', '.join(available()) or 'none'}")
    data = yaml.load((data_dir() / f"training_{name}.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
    return RoundRules.model_validate(data)


def round_from_path(path: Path) -> str | None:
    """The round a results path names (``.../v5.1/...`` or ``training_results_v5.1``), if packaged."""
    match = PATH_ROUND.search(path.resolve().as_posix())
    if match is None:
        return None
    name = f"{match.group(1)}.{match.group(2)}.0"
    return name if name in available() else None
