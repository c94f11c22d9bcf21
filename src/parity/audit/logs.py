"""`parity logs check`: training result logs judged by the training rulebook of their round.

This is the start-up path of the command, so it reads compiled rules and judge tables (plain JSON) and
imports nothing heavier than ``json``; the plain observation and judgement objects need no pydantic.
"""

from __future__ import annotations

import os

from parity.audit.engines import MllogEngine, run
from parity.engines.logs.checker import LogCheck, refused_check
from parity.engines.logs.files import MAX_LOG_BYTES, Refused, logs_under
from parity.engines.logs.parser import parse
from parity.engines.logs.rounds import available, canonical_round, load_round, round_from_path
from parity.errors import BadInput
from parity.judge.model import Judgement
from parity.judge.table import JudgedResult, judge_by_table, load_table

LOG_PATTERNS = ("result_*.txt", "*.log")


class LogResult(JudgedResult):
    """One log: what the checker observed and how the rulebook judges it."""

    __slots__ = ("check", "judgement")

    def __init__(self, check: LogCheck, judgement: Judgement) -> None:
        self.check = check
        self.judgement = judgement

    @property
    def verdict(self) -> str:
        """conforms, violates or needs_review."""
        return self.judgement.verdict.value


def log_files(paths) -> list[str | Refused]:
    """The files named, and the result logs inside the folders named, in a stable order.

    What must not be read (a FIFO, a symlink leaving a folder named) comes as :class:`Refused`, to be
    reported as a finding of its own while the other logs are checked.
    """
    found: list[str | Refused] = []
    for item in paths:
        if isinstance(item, Refused):  # already listed by a caller
            found.append(item)
            continue
        path = os.fspath(item)
        if os.path.isdir(path):
            inside, refused = logs_under(path, LOG_PATTERNS)
            if not inside and not refused:
                raise BadInput(f"no result logs ({', '.join(LOG_PATTERNS)}) in the folder", path)
            found.extend(sorted([*inside, *refused], key=_order))
        elif os.path.isfile(path) and os.path.getsize(path) > MAX_LOG_BYTES:
            found.append(Refused(path, f"larger than the {MAX_LOG_BYTES}-byte limit"))
        elif os.path.isfile(path):
            _require_mllog(path)
            found.append(path)
        elif os.path.exists(path):
            found.append(Refused(path, "not a regular file (a FIFO, device or socket)"))
        else:
            raise BadInput("no such file or folder", path)
    return found


#: bytes read to tell a named file is an MLLOG log at all (its first record is near the top)
SNIFF_BYTES = 1 << 20


def _require_mllog(path: str) -> None:
    """Refuse a file named on the command line that holds no MLLOG record: it is no training log."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if b":::MLLOG" not in head:
        raise BadInput("not an MLPerf training log (no ':::MLLOG' record)", path)


def _order(item: str | Refused) -> list[str]:
    return (item.path if isinstance(item, Refused) else item).split(os.sep)


def require_ruleset(ruleset: str | None) -> str | None:
    """The packaged round ``--ruleset`` names, in any spelling (5.1, v5.1, 5.1.0).

    An unknown one is refused before any file is read.
    """
    return None if ruleset is None else canonical_round(ruleset)


def check_logs(paths, ruleset=None, benchmark=None, division=None, on_file=None) -> list[LogResult]:
    """Check every log; the round comes from ``ruleset``, else from each log's path, else the latest.

    ``on_file`` is told of each log as it starts (for progress).
    """
    ruleset = require_ruleset(ruleset)
    results = []
    for path in log_files(paths):
        if on_file is not None:
            on_file(path)
        if isinstance(path, Refused):
            rules = load_round(ruleset or round_from_path(path.path) or available()[-1])
            checked = refused_check(path, rules, benchmark, division)
        else:
            rules = load_round(ruleset or round_from_path(path) or available()[-1])
            checked = run(MllogEngine, (parse(path), rules, benchmark, division))
        judgement = judge_by_table(
            checked.observations, load_table(rules.rulebook), checked.division or "closed", checked.benchmark
        )
        results.append(LogResult(checked, judgement))
    return results
