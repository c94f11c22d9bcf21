"""One benchmark folder of a submission: its logs, its run count, its RCP and seeds, and its score.

What the package checker decides per folder, plus what result_summarizer publishes: the olympic mean of
the compliant runs' times to train (``run_start`` to ``run_stop``, in minutes), times the RCP
normalisation factor. Every input is the folder's own files; the result is plain data (it crosses a
process boundary when the audit runs on several cores).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

from parity.audit.engines import MllogEngine, run
from parity.audit.logs import LogResult
from parity.audit.rcp import RcpResult, check_rcp
from parity.audit.tree import BenchmarkFolder
from parity.engines.convergence.rcp import SUBMISSION_RUNS, rcp_rounds, trim
from parity.engines.convergence.runs import read_run
from parity.engines.logs.boundaries import run_boundaries, run_minutes
from parity.engines.logs.checker import refused_observation
from parity.engines.logs.parser import ParsedLog, parse
from parity.engines.logs.rounds import load_round
from parity.errors import BadInput
from parity.judge.model import Finding, Judgement
from parity.judge.table import judge_by_table, load_table
from parity.observations import plain
from parity.observations.kinds import (
    CONVERGENCE_REFERENCE_MISSING,
    SUBMISSION_RUN_COUNT,
    SUBMISSION_RUNS_FAILED,
    SUBMISSION_STRAY_FILE,
    SUBMISSION_UNDEFINED_BENCHMARK,
)
from parity.observations.plain import Observation

#: the submission_* records compared with the system description
IDENTITY_KEYS = ("submission_org", "submission_platform", "submission_status", "submission_division")


@dataclass
class LogSummary:
    """One log's verdict and the problems found in it."""

    path: str
    verdict: str
    problems: list[Finding]
    minutes: float | None  # run_start to run_stop, if both were logged
    identity: dict
    observations: list[Observation] = field(default_factory=list)


@dataclass
class BenchmarkAudit:
    """A benchmark folder's own findings, its logs, its RCP result and its published score."""

    folder: BenchmarkFolder
    division: str
    observations: list[Observation] = field(default_factory=list)
    logs: list[LogSummary] = field(default_factory=list)
    rcp: RcpResult | None = None
    rcp_error: str = ""
    score: float | None = None  # minutes, normalised
    raw_score: float | None = None  # minutes, before normalisation
    normalisation: float = 1.0
    judgement: Judgement | None = None


def audit_benchmark(folder: BenchmarkFolder, ruleset: str, division: str, method: str) -> BenchmarkAudit:
    """Every check of one benchmark folder (see the module docstring)."""
    audit = BenchmarkAudit(folder, division)
    where = [plain.location("file", str(folder.path))]
    audit.observations += [refused_observation(item) for item in folder.refused]
    audit.observations += [
        plain.observation(
            SUBMISSION_STRAY_FILE,
            "submission",
            f"not a result log: {os.path.basename(path)}",
            where,
            {},
            {},
        )
        for path in folder.stray
    ]
    rules = load_round(ruleset)
    defined = folder.benchmark in rules.benchmarks.get(division, ())
    if not defined:  # in every division: its logs are still checked, nothing is scored
        summary = f"{folder.benchmark}: not a {division} benchmark of round {ruleset}"
        details = {"benchmark": folder.benchmark, "division": division, "round": ruleset}
        audit.observations.append(
            plain.observation(SUBMISSION_UNDEFINED_BENCHMARK, "submission", summary, where, {}, details)
        )
    needed = SUBMISSION_RUNS.get(folder.benchmark)
    repeated = len({run_key(os.path.basename(path)) for path in folder.logs}) != len(folder.logs)
    if needed is not None and (len(folder.logs) != needed or repeated):
        summary = f"{folder.benchmark}: {len(folder.logs)} result logs, the benchmark requires {needed}"
        if repeated:
            summary += " with distinct run numbers; some repeat (result_1.txt and result_01.txt are one run)"
        details = {"found": len(folder.logs), "needed": needed, "repeated_numbers": repeated}
        audit.observations.append(
            plain.observation(SUBMISSION_RUN_COUNT, "submission", summary, where, {}, details)
        )
    table = load_table(rules.rulebook)
    runs = []
    for path in folder.logs:  # each log is read once, for its checks, its run and its time
        parsed = parse(path)
        checked = run(MllogEngine, (parsed, rules, folder.benchmark, division))
        result = LogResult(checked, judge_by_table(checked.observations, table, division, folder.benchmark))
        minutes, identity = _time_to_train(parsed)
        audit.logs.append(
            LogSummary(path, result.verdict, result.problems, minutes, identity, checked.observations)
        )
        runs.append(read_run(path, parsed))
    failed = [log for log in audit.logs if log.verdict != "conforms"]
    allowance = trim(folder.benchmark)
    if len(failed) > allowance:
        summary = (
            f"{len(failed)} of {len(audit.logs)} logs fail their checks; olympic scoring allows {allowance}"
        )
        audit.observations.append(
            plain.observation(
                SUBMISSION_RUNS_FAILED,
                "submission",
                summary,
                where,
                {},
                {"failed": [os.path.basename(log.path) for log in failed], "allowed": allowance},
            )
        )
    if not defined:
        return audit
    if division == "closed" and folder.logs and ruleset in rcp_rounds():
        try:
            audit.rcp = check_rcp(folder.path, ruleset, method, files=(folder.logs, []), runs=runs)
            audit.observations += audit.rcp.observations
        except BadInput as exc:  # the runs cannot be tested: a reviewer decides, never a silent pass
            audit.rcp_error = exc.problem
            audit.observations.append(
                plain.observation(
                    CONVERGENCE_REFERENCE_MISSING,
                    "submission",
                    f"{folder.benchmark}: the RCP test could not be run: {exc.problem}",
                    where,
                    {},
                    {"reason": exc.problem},
                )
            )
    _score(audit, allowance)
    return audit


def run_key(name: str) -> tuple[str, int | None]:
    """Which run a log's file name stands for: its name with the trailing run number read as a number.

    ``result_1.txt`` and ``result_01.txt`` are one run; ``result_smc_3.txt`` (``result_<id>_<n>.txt``, as
    some submitters name them) is run 3 of ``smc``; a name without a number is its own run.
    """
    match = re.fullmatch(r"result_(.*?)(\d+)\.txt", name)
    if match is None:
        return name, None
    return match.group(1), int(match.group(2))


def _time_to_train(parsed: ParsedLog) -> tuple[float | None, dict]:
    """Minutes between the run's boundaries (:func:`run_boundaries`), and a log's submission_* values."""
    grouped = parsed.by_key()
    identity: dict = {"file": str(parsed.path)}
    for key in IDENTITY_KEYS:
        if grouped.get(key):
            identity[key] = grouped[key][0].value
    return run_minutes(run_boundaries(grouped)), identity


def _score(audit: BenchmarkAudit, allowance: int) -> None:
    """result_summarizer's score: olympic mean of the compliant runs' minutes, times the normalisation."""
    scores = sorted(
        log.minutes for log in audit.logs if log.verdict == "conforms" and log.minutes is not None
    )
    dropped = len(audit.logs) - len(scores)
    if dropped > allowance:
        return
    kept = scores[allowance : len(scores) - (allowance - dropped)]
    if not kept:
        return
    audit.raw_score = math.fsum(kept) / len(kept)
    if audit.rcp is not None:
        # the factor the package checker writes to scaling.json is mlperf-logging's
        verdicts = [audit.rcp.verdict, audit.rcp.other]
        official = next(
            (v for v in verdicts if v is not None and v.method == "mlperf-logging"), audit.rcp.verdict
        )
        audit.normalisation = (official.normalisation or 1.0) if official.status == "passed" else 1.0
    audit.score = audit.raw_score * audit.normalisation
