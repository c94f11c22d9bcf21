"""`parity logs check`: training result logs judged by the training rulebook of their round."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from parity.engines.logs.checker import LogCheck, check_log
from parity.engines.logs.parser import parse
from parity.engines.logs.rounds import available, load_round, round_from_path
from parity.errors import BadInput
from parity.judge import Judgement, judge
from parity.rulebook import load_rulebook

LOG_PATTERNS = ("result_*.txt", "*.log")


@dataclass
class LogResult:
    """One log: what the checker observed and how the rulebook judges it."""

    check: LogCheck
    judgement: Judgement


def log_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, and the result logs inside the folders named, in a stable order."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            matches = {m for pattern in LOG_PATTERNS for m in path.rglob(pattern) if m.is_file()}
            found.extend(sorted(matches))
        elif path.is_file():
            found.append(path)
        else:
            raise BadInput("no such file or folder", path)
    return found


def check_logs(
    paths: Iterable[str | Path],
    ruleset: str | None = None,
    benchmark: str | None = None,
    division: str | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[LogResult]:
    """Check every log; the round comes from ``ruleset``, else from each log's path, else the latest."""
    if ruleset is not None and ruleset not in available():
        raise BadInput(f"unknown ruleset {ruleset!r}; known: {', '.join(available())}")
    results = []
    for path in log_files(paths):
        if on_file is not None:
            on_file(path)
        name = ruleset or round_from_path(path) or available()[-1]
        rules = load_round(name)
        checked = check_log(parse(path), rules, benchmark, division)
        book = load_rulebook(rules.rulebook)
        results.append(
            LogResult(
                checked, judge(checked.observations, book, checked.division or "closed", checked.benchmark)
            )
        )
    return results
