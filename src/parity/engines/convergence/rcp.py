"""Reference convergence points (RCP): the statistics the training rules define, and mlperf-logging's.

The rules (training_rules.adoc §"Reference Convergence Points", appendix example): olympic means (drop the
fastest and slowest, four each for unet3d) of the reference and of the submission; a one-sided two-sample
t-test at p = 0.05 with similar variances gives the minimum acceptable submission mean. The appendix
example (reference [16,14,16,17,16,16,15,16,15,16] at BS 128, 5 runs) has stdev 0.43 and minimum mean
15.21: the spread is the olympic set's. mlperf-logging computes the spread over all reference runs
(0.78, minimum 14.78: more lenient) and uses 2N reference runs when interpolating; `method` picks one.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections import namedtuple
from functools import cache

from parity.engines.convergence.student import t_ppf

ALPHA = 0.05
#: runs a submission needs per benchmark (training rules' benchmark table, as mlperf-logging lists it)
SUBMISSION_RUNS = {
    "bert": 10,
    "dlrm_dcnv2": 10,
    "gpt3": 3,
    "maskrcnn": 5,
    "resnet": 5,
    "ssd": 5,
    "retinanet": 5,
    "unet3d": 40,
    "rnnt": 10,
    "stable_diffusion": 10,
    "gnn": 10,
    "rgat": 10,
    "llama2_70b_lora": 10,
    "flux1": 10,
    "llama31_405b": 3,
    "llama31_8b": 10,
    "gpt_oss_20b": 10,
    "deepseekv3_671b": 3,
    "qwen35_397b_grpo": 3,
}
#: runs dropped at each end of the olympic mean
TRIMMED = {"unet3d": 4}
#: benchmarks whose convergence point is an evaluation's metadata samples_count (the rest: epoch_num, which
#: gpt3 fills with samples); the set mlperf-logging's rcp_checker reads, which the RCP files are made with
IN_SAMPLES = frozenset(
    {
        "llama2_70b_lora",
        "flux1",
        "llama31_8b",
        "llama31_405b",
        "gpt_oss_20b",
        "deepseekv3_671b",
        "qwen35_397b_grpo",
    }
)
#: stable diffusion converges at the first evaluation step (samples_count) where every metric meets its
#: quality target (training rules' benchmark table: FID <= 90 and CLIP >= 0.15), not at the last one
STEP_TARGETS = {"stable_diffusion": {"FID": ("<=", 90.0), "CLIP": (">=", 0.15)}}
#: v5.0 appendix: llama31_405b may converge one evaluation (46,080 samples) earlier than the RCPs allow
EARLY_EVAL_SLACK = {"llama31_405b": 46080}
METHODS = ("rules", "mlperf-logging")
#: what the rules' text says where the two methods part (quoted in reports of folders they judge apart)
RULES_TEXT = (
    "training_rules.adoc, Reference Convergence Points: a one-sided two-sample t-test at p = 0.05 on the "
    "olympic mean and standard deviation of both sets (the appendix example: stdev 0.43, minimum 15.21); "
    "only RCPs on the fastest-convergence envelope are kept (v2.0). mlperf-logging takes the standard "
    "deviation over all reference runs and prunes without re-testing the record before a removed one."
)


#: One reference batch size: its runs (epochs or samples) and their statistics.
Reference = namedtuple("Reference", "name batch_size runs mean stdev count interpolated", defaults=(False,))


class RcpVerdict:
    """What the check found, with every number it used.

    ``status`` is passed, faster_than_reference, reference_missing or insufficient_convergence. A plain
    class (not a dataclass) because `parity rcp check` starts faster without inspect and ast.
    """

    __slots__ = (
        "batch_size",
        "benchmark",
        "details",
        "max_speedup",
        "message",
        "method",
        "min_acceptable_mean",
        "normalisation",
        "reference",
        "round",
        "runs",
        "status",
        "submission_mean",
    )

    def __init__(
        self, benchmark: str, round_name: str, method: str, batch_size: float, runs: list[float]
    ) -> None:
        self.benchmark = benchmark
        self.round = round_name
        self.method = method
        self.batch_size = batch_size
        self.runs = runs
        self.status = "passed"
        self.message = ""
        self.submission_mean: float | None = None
        self.reference: Reference | None = None
        self.min_acceptable_mean: float | None = None
        self.max_speedup: float | None = None
        self.normalisation: float | None = None
        self.details: dict = {}

    @property
    def unit(self) -> str:
        """What convergence is counted in: ``samples`` or ``epochs``."""
        return "samples" if self.benchmark in IN_SAMPLES else "epochs"

    @property
    def rules_text(self) -> str:
        """What the rules' text says where the two methods part (:data:`RULES_TEXT`)."""
        return RULES_TEXT


def trim(benchmark: str) -> int:
    """Runs dropped at each end of the olympic mean."""
    return TRIMMED.get(benchmark, 1)


def olympic(values: list[float], k: int) -> list[float]:
    """The values without the k smallest and k largest."""
    ordered = sorted(values)
    return ordered[k : len(ordered) - k] if len(ordered) > 2 * k else ordered


#: the packaged RCPs, one folder per round (copied from mlcommons/logging; see its SOURCE.md)
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@cache
def rcp_rounds() -> tuple[str, ...]:
    """Rounds with packaged RCPs."""
    return tuple(
        sorted(
            name.removeprefix("training_")
            for name in os.listdir(DATA_DIR)
            if name.startswith("training_") and os.path.isdir(os.path.join(DATA_DIR, name))
        )
    )


def load_references(round_name: str, benchmark: str, method: str) -> list[Reference] | None:
    """The packaged RCP records of a round's benchmark (None if there are none); names are allow-listed."""
    folder = os.path.join(DATA_DIR, f"training_{round_name}")
    files = set(os.listdir(folder)) if round_name in rcp_rounds() else set()
    if f"rcps_{benchmark}.json" not in files:
        return None
    k = trim(benchmark)
    records = []
    with open(os.path.join(folder, f"rcps_{benchmark}.json"), encoding="utf-8") as handle:
        loaded = json.load(handle)
    for name, record in loaded.items():
        runs = record.get("Epochs to converge") or record.get("samples to converge") or []
        kept = olympic([float(v) for v in runs], k)
        spread = statistics.pstdev(kept if method == "rules" else [float(v) for v in runs])
        records.append(
            Reference(
                name,
                float(record["BS"]),
                tuple(float(v) for v in runs),
                statistics.fmean(kept),
                spread,
                len(kept),
            )
        )
    return sorted(records, key=lambda r: r.batch_size)


def prune(references: list[Reference], method: str = "rules") -> list[Reference]:
    """Keep the fastest-convergence envelope (rules §RCP, v2.0).

    Records with a smaller batch size than the fastest one go, then any record slower than the
    interpolation of its neighbours. By the rules that is the lower envelope: after a removal the record
    before is tested again. mlperf-logging tests the next one instead ("not calculating the lower convex
    envelope", says its source), so a record the envelope drops can stay, and with it its own mean.
    """
    if not references:
        return []
    fastest = min(range(len(references)), key=lambda i: references[i].mean)
    kept = list(references[fastest:])
    index = 1
    while index < len(kept) - 1:
        between = interpolate(kept[index - 1], kept[index + 1], kept[index].batch_size, kept[index].count)
        if kept[index].mean > between.mean:
            del kept[index]
            index = max(1, index - 1) if method == "rules" else index
        else:
            index += 1
    return kept


def interpolate(low: Reference, high: Reference, batch_size: float, count: int) -> Reference:
    """Linear interpolation of mean and stdev between two reference batch sizes."""
    share = (batch_size - low.batch_size) / (high.batch_size - low.batch_size)
    return Reference(
        f"interpolated({low.name}, {high.name})",
        batch_size,
        (),
        low.mean + (high.mean - low.mean) * share,
        low.stdev + (high.stdev - low.stdev) * share,
        count,
        interpolated=True,
    )


def min_acceptable_mean(reference: Reference, submission_count: int) -> float:
    """The smallest submission olympic mean a one-sided t-test (p = 0.05, equal variances) accepts."""
    n1, n2 = reference.count, submission_count
    if n1 < 1 or n2 < 1 or n1 + n2 - 2 < 1:
        return reference.mean
    quantile = t_ppf(1 - ALPHA, n1 + n2 - 2)
    return reference.mean - quantile * reference.stdev * math.sqrt(1 / n1 + 1 / n2)


def check_convergence(
    benchmark: str, round_name: str, batch_size: float, runs: list[float], method: str = "rules"
) -> RcpVerdict:
    """Compare the runs' epochs (or samples) to converge with the RCPs; runs that did not converge are inf."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    verdict = RcpVerdict(benchmark, round_name, method, batch_size, runs)
    needed = SUBMISSION_RUNS.get(benchmark, len(runs))
    k = trim(benchmark)
    if sum(1 for r in runs if math.isinf(r)) > k:
        verdict.status, verdict.message = "insufficient_convergence", f"more than {k} run(s) did not converge"
        return verdict
    references = load_references(round_name, benchmark, method)
    if not references:
        verdict.status, verdict.message = (
            "reference_missing",
            f"no RCPs for {benchmark} in round {round_name}",
        )
        return verdict
    envelope = prune(references, method)
    kept = olympic(runs, k)
    verdict.submission_mean = statistics.fmean(kept)
    submission_count = needed - 2 * k if method == "rules" else needed - 2
    reference = next((r for r in envelope if r.batch_size == batch_size), None)
    if reference is None:
        above = [r for r in envelope if r.batch_size > batch_size]
        below = [r for r in envelope if r.batch_size < batch_size]
        if above and below:
            count = 2 * needed - 2 * k if method == "rules" else 2 * needed
            reference = interpolate(below[-1], above[0], batch_size, count)
        elif not above:
            verdict.status = "reference_missing"
            verdict.message = f"batch size {batch_size:g} is larger than every RCP; submit RCPs for it"
            return verdict
        else:
            reference = envelope[0]
            verdict.details["smaller_than_every_rcp"] = True
    verdict.reference = reference
    minimum = min_acceptable_mean(reference, submission_count)
    slack = EARLY_EVAL_SLACK.get(benchmark, 0)
    at_least_v5 = tuple(int(part) for part in round_name.split(".")) >= (5, 0, 0)
    if slack and (round_name == "5.0.0" or (method == "mlperf-logging" and at_least_v5)):
        minimum -= slack
        verdict.details["early_eval_slack"] = slack
    verdict.min_acceptable_mean = minimum
    verdict.max_speedup = reference.mean / minimum if minimum else None
    if verdict.submission_mean >= minimum and len(runs) < needed:
        # the olympic mean of fewer runs than the benchmark's is not the test (mlperf-logging's is NaN)
        verdict.status = "insufficient_runs"
        verdict.message = f"{len(runs)} run(s); the RCP test of {benchmark} is over {needed}"
        return verdict
    if verdict.submission_mean >= minimum:
        verdict.status = "passed"
        verdict.normalisation = max(1.0, reference.mean / verdict.submission_mean)
        verdict.message = "converges no faster than the reference allows"
        return verdict
    if verdict.details.get("smaller_than_every_rcp"):
        verdict.status = "reference_missing"
        verdict.message = f"faster than the smallest-batch RCP; submit RCPs for batch size {batch_size:g}"
        return verdict
    verdict.status = "faster_than_reference"
    verdict.message = (
        f"olympic mean {verdict.submission_mean:g} is below the minimum acceptable "
        f"{minimum:g} (RCP mean {reference.mean:g})"
    )
    return verdict
