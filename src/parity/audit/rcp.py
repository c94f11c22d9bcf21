"""`parity rcp check`: the checks of a benchmark folder's runs together.

The runs against the reference convergence points, and (from round 4.1) their seeds against each other.
"""

from __future__ import annotations

import os

from parity.engines.convergence import seeds
from parity.engines.convergence.rcp import METHODS, RULES_TEXT, RcpVerdict, check_convergence, rcp_rounds
from parity.engines.convergence.runs import Run, read_runs, run_files
from parity.engines.logs.checker import refused_observation
from parity.engines.logs.files import Refused
from parity.engines.logs.rounds import round_from_path
from parity.errors import BadInput
from parity.judge.model import Judgement
from parity.judge.table import JudgedResult, judge_by_table, load_table
from parity.observations import plain
from parity.observations.kinds import (
    CONVERGENCE_FASTER,
    CONVERGENCE_METHODS_DISAGREE,
    CONVERGENCE_REFERENCE_MISSING,
    LOG_QUALITY_TARGET_MISSED,
    SUBMISSION_RUN_COUNT,
)
from parity.observations.plain import Observation

#: the rulebook RCP findings are judged by (the latest training round's)
RULEBOOK = "mlperf-training-v6.0"
#: what each failing status of the test is, in the change-kind vocabulary
KINDS = {
    "faster_than_reference": CONVERGENCE_FASTER,
    "reference_missing": CONVERGENCE_REFERENCE_MISSING,
    "insufficient_convergence": LOG_QUALITY_TARGET_MISSED,
    "insufficient_runs": SUBMISSION_RUN_COUNT,
}


class RcpResult(JudgedResult):
    """The runs, the statistics, the observation (if any) and the judgement (plain JSON shapes)."""

    __slots__ = ("folder", "judgement", "observations", "other", "runs", "verdict")

    def __init__(
        self,
        folder,
        runs: list[Run],
        verdict: RcpVerdict,
        observations: list[Observation],
        judgement: Judgement,
        other: RcpVerdict | None = None,
    ) -> None:
        self.folder = folder
        self.runs = runs
        self.verdict = verdict
        self.observations = observations
        self.judgement = judgement
        self.other = other  # the other method's verdict, where it differs

    @property
    def quality_target(self) -> str | None:
        """The round's ``eval_accuracy`` target for the benchmark (``>= 0.759``), for pictures."""
        from parity.engines.logs.rounds import available, load_round

        benchmark, round_name = self.verdict.benchmark, self.verdict.round
        if round_name not in available():
            return None
        return next(
            (
                rule.target
                for rule in load_round(round_name).rules
                if rule.key == "eval_accuracy"
                and rule.target
                and benchmark in (rule.benchmarks or [benchmark])
            ),
            None,
        )


def check_rcp(
    folder,
    ruleset: str | None = None,
    method: str = "rules",
    on_file=None,
    files: tuple[list[str], list[Refused]] | None = None,
    runs: list[Run] | None = None,
) -> RcpResult:
    """Read the runs, find their round, test them against its RCPs, and judge.

    ``files`` are the folder's logs and refusals if the caller already listed them (:func:`run_files`),
    ``runs`` the runs if it already read them; ``on_file`` is told of each log as it is read (for
    progress). A refused file is a finding.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise BadInput("not a folder of result logs", folder)
    readable, refused = run_files(folder) if files is None else files
    runs = read_runs(readable, on_file) if runs is None else runs
    benchmarks = {run.benchmark for run in runs} - {None}
    batches = {run.batch_size for run in runs} - {None}
    if len(benchmarks) != 1 or len(batches) != 1:
        raise BadInput(
            f"the runs must share one benchmark and one global_batch_size (found benchmarks "
            f"{sorted(map(str, benchmarks))}, batch sizes {sorted(batches)})",
            folder,
        )
    round_name = ruleset or _round(folder)
    if round_name not in rcp_rounds():
        raise BadInput(f"no RCPs for round {round_name!r}; known: {', '.join(rcp_rounds())}")
    benchmark, batch = benchmarks.pop(), batches.pop()
    points = [run.converged_at for run in runs]
    verdict = check_convergence(benchmark, round_name, float(batch), points, method)
    other_method = next(name for name in METHODS if name != method)
    other = check_convergence(benchmark, round_name, float(batch), points, other_method)
    differs = (
        other.status != verdict.status
        or abs((other.normalisation or 1) - (verdict.normalisation or 1)) > 1e-9
    )
    observations = [refused_observation(item) for item in refused]
    if method == "rules" and (other.status == "passed") != (verdict.status == "passed"):
        observations.append(_disagreement(verdict, other, folder))  # a reviewer decides, not parity
    else:
        observations += _observations(verdict, folder)
    if seeds.applies(round_name):
        observations += seeds.seed_observations(runs)
    judgement = judge_by_table(observations, load_table(RULEBOOK), "closed", benchmark)
    return RcpResult(folder, runs, verdict, observations, judgement, other if differs else None)


def _round(folder: str) -> str:
    found = round_from_path(folder)
    if found is None:
        for name in reversed(os.path.abspath(folder).split(os.sep)):
            match = next((r for r in rcp_rounds() if f"v{r.rsplit('.', 1)[0]}" in name), None)
            if match:
                return match
        raise BadInput("cannot tell the round from the path; pass --ruleset", folder)
    return found


def _disagreement(verdict: RcpVerdict, other: RcpVerdict, folder: str) -> Observation:
    """``convergence.methods_disagree``: both verdicts, and what the rules' text says."""
    summary = (
        f"{verdict.benchmark}: by the rules' statistics {verdict.status} ({verdict.message}); by "
        f"mlperf-logging's {other.status} ({other.message})"
    )
    details = {
        "rules": {"status": verdict.status, "min_acceptable_mean": verdict.min_acceptable_mean},
        "mlperf-logging": {"status": other.status, "min_acceptable_mean": other.min_acceptable_mean},
        "rules_text": RULES_TEXT,
    }
    metrics = {"submission_mean": verdict.submission_mean}
    where = [plain.location("file", folder)]
    return plain.observation(CONVERGENCE_METHODS_DISAGREE, "convergence", summary, where, metrics, details)


def _observations(verdict: RcpVerdict, folder: str) -> list[Observation]:
    kind = KINDS.get(verdict.status)
    if kind is None:
        return []
    metrics = {  # None (not computed) is left out by plain.observation
        "submission_mean": verdict.submission_mean,
        "min_acceptable_mean": verdict.min_acceptable_mean,
        "reference_mean": verdict.reference.mean if verdict.reference else None,
        "max_speedup": verdict.max_speedup,
        "batch_size": verdict.batch_size,
    }
    details = {
        "method": verdict.method,
        "round": verdict.round,
        "runs": [r if r != float("inf") else "did not converge" for r in verdict.runs],
    }
    summary = f"{verdict.benchmark}: {verdict.message}"
    return [
        plain.observation(kind, "convergence", summary, [plain.location("file", folder)], metrics, details)
    ]
