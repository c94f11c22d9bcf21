"""One inference result (a system, a model, a scenario): its scored run, accuracy run and measurements.

What the round data (:mod:`parity.engines.loadgen.rounds`) says a result must show is compared with what
its logs record: LoadGen's validity and errors, the round's seeds, sample counts, equal-issue mode,
minimum duration, queries and samples per query, the latency bounds, the accuracy against its target and
upper limit in the right unit, whether the accuracy run is one (mode and samples run), and the LoadGen
build. The compliance tests are :mod:`parity.engines.loadgen.compliance`. Facts only: the rulebook judges.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from parity.engines.loadgen.accuracy_log import TRUNCATED_MAX_BYTES, read_accuracy_log
from parity.engines.loadgen.detail import Detail, file_digest, read_detail
from parity.engines.loadgen.findings import Findings
from parity.engines.loadgen.loadgen_sources import loadgen_sources
from parity.engines.loadgen.rounds import InferenceRound, Model
from parity.engines.loadgen.summary import NUMBER, printed_decimals, read_summary
from parity.engines.loadgen.summary import number as summary_number
from parity.engines.loadgen.text_file import Unreadable, checked_size, read_lines, through_link
from parity.observations.kinds import (
    RESULT_ACCURACY_ABOVE_LIMIT,
    RESULT_ACCURACY_BELOW_TARGET,
    RESULT_COPIES_DISAGREE,
    RESULT_INVALID,
    RESULT_LATENCY_EXCEEDED,
    RESULT_LOADGEN_BUILD,
    RESULT_NOT_ACCURACY_RUN,
    RESULT_SETTINGS_CHANGED,
    SUBMISSION_HYGIENE,
)
from parity.untrusted import finite_number

SUMMARY, DETAIL = "mlperf_log_summary.txt", "mlperf_log_detail.txt"
ACCURACY_LOG, ACCURACY_TEXT = "mlperf_log_accuracy.json", "accuracy.txt"
#: the result metric by scenario (submission_checker.py v5.1.1 RESULT_FIELD_NEW; LLMs report tokens)
RESULT_KEY = {
    "Offline": "result_samples_per_second",
    "Server": "result_completed_samples_per_sec",
    "Interactive": "result_completed_samples_per_sec",
    "SingleStream": "early_stopping_latency_ss",
    "MultiStream": "early_stopping_latency_ms",
}
TOKEN_RESULT_KEY = {
    "Offline": "result_tokens_per_second",
    "Server": "result_completed_tokens_per_second",
    "Interactive": "result_completed_tokens_per_second",
}
UNITS = {"Offline": "samples/s", "Server": "queries/s", "Interactive": "queries/s", "SingleStream": "ms"}
#: each scenario's scored figures in the detail log and the summary line that repeats each (loadgen
#: results.cc); the detail is the record, the summary a copy that must say the same
SCORE_COPIES = {
    "Offline": (
        ("result_samples_per_second", re.compile(r"Samples per second")),
        ("result_tokens_per_second", re.compile(r"Tokens per second")),
    ),
    "Server": (
        ("result_completed_samples_per_sec", re.compile(r"Completed samples per second")),
        ("result_completed_tokens_per_second", re.compile(r"Completed tokens per second")),
    ),
    "SingleStream": (
        (
            "early_stopping_latency_ss",
            re.compile(r".*Early stopping (90th|90\.0th|99\.9th) percentile estimate"),
        ),
    ),
    "MultiStream": (
        ("early_stopping_latency_ms", re.compile(r".*Early stopping (99th|99\.0th) percentile estimate")),
    ),
}
SCORE_COPIES["Interactive"] = SCORE_COPIES["Server"]
#: the records of a run's constraints; LoadGen logs ``result_validity`` VALID only when all are true
CONSTRAINT_RECORDS = (
    "result_min_duration_met",
    "result_min_queries_met",
    "early_stopping_met",
    "result_perf_constraints_met",
)
HASH_LINE = re.compile(r"^hash=([\w\d]+)$")
POWER_FILES = ("client.json", "client.log", "ptd_logs.txt", "server.json", "server.log")
MEASUREMENT_FIELDS = (
    "input_data_types",
    "retraining",
    "starting_weights_filename",
    "weight_data_types",
    "weight_transformations",
)


class ResultPaths:
    """Where one result's files are (both layouts lead here)."""

    __slots__ = (
        "compliance",
        "division",
        "extra_mapping",
        "measurements",
        "model",
        "path",
        "scenario",
        "system",
    )

    def __init__(
        self,
        path,
        system: str,
        model: str,
        scenario: str,
        division: str,
        compliance,
        measurements,
        extra_mapping: dict[str, str] | None = None,
    ):
        self.path = Path(path)  # results/<system>/<model>/<scenario>
        self.system, self.model, self.scenario, self.division = system, model, scenario, division
        self.compliance = Path(compliance)  # the folder holding TEST01, TEST04, TEST06
        self.measurements = Path(measurements)  # user.conf, README.md, <system>[_<scenario>].json
        self.extra_mapping = extra_mapping  # an Open organisation's model_mapping.json (folder -> model)

    @property
    def performance(self) -> Path:
        """The scored run's folder."""
        return self.path / "performance" / "run_1"

    @property
    def accuracy(self) -> Path:
        """The accuracy run's folder."""
        return self.path / "accuracy"


class ResultRow:
    """What the summary table shows of one result."""

    __slots__ = ("accuracy", "compliance", "metric", "model", "notes", "scenario", "system", "unit", "valid")

    def __init__(self, system: str, model: str, scenario: str) -> None:
        self.system, self.model, self.scenario = system, model, scenario
        self.metric: float | None = None
        self.unit = ""
        self.valid: bool | None = None
        self.accuracy: list[dict] = []  # {metric, value, target, limit}
        self.compliance: dict[str, str] = {}  # test -> passed | failed | unverifiable | not recomputed
        self.notes: list[str] = []

    def to_json(self) -> dict:
        """The row as JSON data."""
        return {name: getattr(self, name) for name in self.__slots__}


def read_detail_or_note(path: Path, found: Findings, needed_for: str) -> Detail | None:
    """The detail log, or None with the reason recorded."""
    try:
        detail = read_detail(path)
    except Unreadable as exc:
        found.missing(path, str(exc), needed_for)
        return None
    if not detail.values:
        found.missing(path, "holds no MLLOG record", needed_for)
        return None
    return detail


def check_performance(
    detail: Detail,
    model_name: str,
    model: Model,
    round_data: InferenceRound,
    found: Findings,
    label: str,
    folder_scenario: str,
) -> None:
    """A performance-mode run against the round: validity, errors, seeds, counts, durations, latencies."""
    path = detail.path
    check_run(detail, round_data, found, label)
    logged = detail.effective("scenario")
    scenario = logged if isinstance(logged, str) else folder_scenario  # a missing record is said above
    _at_least(detail, "performance_sample_count", model.performance_sample_count, found, label)
    if scenario == "Offline":
        _at_least(detail, "samples_per_query", model.offline_min_samples_per_query, found, label)
        _at_least(detail, "min_query_count", model.min_queries.get("Offline"), found, label)
    if model.equal_issue and detail.effective("sample_concatenate_permutation") is not True:
        key = "effective_sample_concatenate_permutation"
        found.add(
            RESULT_SETTINGS_CHANGED,
            f"{label}: {model_name} must run in equal-issue mode (sample_concatenate_permutation)",
            path,
            detail.line(key),
            key,
            details={"setting": "sample_concatenate_permutation", "found": detail.values.get(key)},
        )
    _latency(detail, model_name, model, scenario, folder_scenario, found, label)


def check_run(detail: Detail, round_data: InferenceRound, found: Findings, label: str) -> None:
    """What a performance run must show whatever its model (a model the round does not define too).

    LoadGen's validity and errors, the round's seeds and minimum duration, a logged scenario, the build.
    """
    path = detail.path
    validity = detail.values.get("result_validity")
    if validity != "VALID":
        reason = detail.values.get("result_invalid_reason") or detail.values.get("early_stopping_result")
        found.add(
            RESULT_INVALID,
            f"{label}: LoadGen says {validity or 'nothing'} ({str(reason)[:200] if reason else 'no reason'})",
            path,
            detail.line("result_validity"),
            "result_validity",
            details={"validity": validity, "reason": reason},
        )
    _errors(detail, found, label)
    for seed, wanted in round_data.seeds.items():
        value = detail.effective(seed)
        if str(value) != wanted:
            found.add(
                RESULT_SETTINGS_CHANGED,
                f"{label}: {seed} is {value}, the round's is {wanted}",
                path,
                detail.line(f"effective_{seed}"),
                f"effective_{seed}",
                details={"setting": seed, "found": str(value), "expected": wanted},
            )
    _at_least(detail, "min_duration_ms", round_data.min_duration_ms, found, label)
    if not isinstance(detail.effective("scenario"), str):
        found.missing(path, detail.absent("effective_scenario"), f"{label}'s scenario")
    mode = detail.effective("test_mode")
    if mode != "PerformanceOnly":
        found.add(
            RESULT_SETTINGS_CHANGED,
            f"{label}: test_mode is {mode or 'not logged'}; a performance result is a PerformanceOnly run",
            path,
            detail.line("effective_test_mode"),
            "effective_test_mode",
            details={"setting": "test_mode", "found": str(mode), "expected": "PerformanceOnly"},
        )
    _records_agree(detail, found, label)
    _loadgen_build(detail, round_data, found, label)


def _records_agree(detail: Detail, found: Findings, label: str) -> None:
    """What the detail log says twice says the same both times, and holds no number LoadGen never writes.

    LoadGen logs a run VALID exactly when every constraint record is true (results.cc: min duration, min
    queries, early stopping, performance constraints), and ``num_errors`` counts its error records. A VALID
    run with a false constraint, or a count that is not its records', is ``result.copies_disagree``: the
    log was not written as LoadGen writes it, and which record is true is for a reviewer. A non-finite
    number (``1e999``) is refused where it is read; here every such record is said once, whether or not a
    check reads it.
    """
    if detail.refused:
        listed = ", ".join(f"{key} (line {line})" for key, line in sorted(detail.refused.items()))
        found.missing(detail.path, f"has records that are not finite numbers: {listed}"[:300], label)
    if detail.values.get("result_validity") == "VALID":
        unmet = [key for key in CONSTRAINT_RECORDS if detail.values.get(key) is False]
        if unmet:
            found.add(
                RESULT_COPIES_DISAGREE,
                f"{label}: the run is logged VALID, but {', '.join(unmet)} "
                f"{'is' if len(unmet) == 1 else 'are'} false (LoadGen logs VALID only when all are true)",
                detail.path,
                detail.line(unmet[0]),
                unmet[0],
                details={"records": unmet},
            )
    counted = detail.values.get("num_errors")
    if "num_errors" in detail.values and (
        not isinstance(counted, int) or isinstance(counted, bool) or counted != len(detail.errors)
    ):
        found.add(
            RESULT_COPIES_DISAGREE,
            f"{label}: num_errors is {str(counted)[:40]}, but the log holds {len(detail.errors)} error "
            "record(s)",
            detail.path,
            detail.line("num_errors"),
            "num_errors",
            metrics={"error_records": len(detail.errors)},
            details={"num_errors": str(counted)[:40]},
        )


def _errors(detail: Detail, found: Findings, label: str) -> None:
    """The errors LoadGen logged during a run (the official checker refuses any).

    The checker counts ``num_errors`` where the log has it, else the error records: either non-zero is an
    invalid run (a count that disagrees with the records is :func:`_records_agree`'s).
    """
    counted = detail.values.get("num_errors")
    if detail.errors:
        found.add(
            RESULT_INVALID,
            f"{label}: LoadGen logged {len(detail.errors)} error(s), the first: {detail.errors[0][:200]}",
            detail.path,
            details={"errors": detail.errors[:5]},
        )
    elif isinstance(counted, int) and not isinstance(counted, bool) and counted > 0:
        found.add(
            RESULT_INVALID,
            f"{label}: LoadGen counts {counted} error(s) (num_errors)",
            detail.path,
            detail.line("num_errors"),
            "num_errors",
            details={"num_errors": counted},
        )


def _at_least(detail: Detail, setting: str, minimum, found: Findings, label: str) -> None:
    if minimum is None:
        return
    value = detail.effective(setting)
    if not finite_number(value) or value < minimum:
        shown = value if f"effective_{setting}" in detail.values else detail.absent(f"effective_{setting}")
        found.add(
            RESULT_SETTINGS_CHANGED,
            f"{label}: {setting} is {shown}, the round requires at least {minimum}",
            detail.path,
            detail.line(f"effective_{setting}"),
            f"effective_{setting}",
            metrics={"found": value if isinstance(value, int | float) else None, "minimum": minimum},
            details={"setting": setting},
        )


def _latency(
    detail: Detail, model_name: str, model: Model, scenario, folder_scenario: str, found: Findings, label: str
) -> None:
    """The Server target latency LoadGen used, and an LLM's measured TTFT and TPOT 99th percentiles.

    The LLM limits are the folder's scenario's (an Interactive run is logged as a Server one).
    """
    bound = model.latency_constraint_ns.get(scenario) if isinstance(scenario, str) else None
    target = detail.effective("target_latency_ns")
    if bound and scenario in ("Server", "Interactive") and (not finite_number(target) or target > bound):
        found.add(
            RESULT_LATENCY_EXCEEDED,
            f"{label}: target latency {target} ns is above the {scenario} bound of {bound} ns",
            detail.path,
            detail.line("effective_target_latency_ns"),
            "effective_target_latency_ns",
            metrics={"found": target, "bound": bound},
        )
    limits = model.llm_latency_limits_ns.get(folder_scenario)
    if not model.llm_latency_limits_ns:
        return
    if detail.requested("use_token_latencies") is not True:
        found.add(
            RESULT_SETTINGS_CHANGED,
            f"{label}: {model_name} must measure token latencies (use_token_latencies)",
            detail.path,
            detail.line("requested_use_token_latencies"),
            "requested_use_token_latencies",
            details={"setting": "use_token_latencies"},
        )
        return
    for name, key in (
        ("ttft", "result_first_token_99.00_percentile_latency_ns"),
        ("tpot", "result_time_per_output_token_99.00_percentile_ns"),
    ):
        bound = (limits or {}).get(name)
        value = detail.values.get(key)
        if bound is None:
            continue
        if not finite_number(value) or value >= bound:
            found.add(
                RESULT_LATENCY_EXCEEDED,
                f"{label}: {name.upper()} 99th percentile {value} ns is not below {bound} ns",
                detail.path,
                detail.line(key),
                key,
                metrics={"found": value if isinstance(value, int | float) else None, "bound": bound},
            )


def _loadgen_build(detail: Detail, round_data: InferenceRound, found: Findings, label: str) -> None:
    """A LoadGen of another major release than the round's, or one built from modified sources."""
    version = detail.loadgen_version or ""
    release = version.split("@")[0].strip()
    status = detail.values.get("loadgen_git_status_message")
    if release.split(".")[0] != round_data.round.split(".")[0]:
        found.add(
            RESULT_LOADGEN_BUILD,
            f"{label}: LoadGen {version or 'of no version'} is not a "
            f"{round_data.round.split('.')[0]}.x release",
            detail.path,
            detail.line("loadgen_version"),
            "loadgen_version",
            details={"loadgen_version": version, "round": round_data.round},
        )
    logged = detail.values.get("loadgen_file_sha1")
    window = loadgen_sources(round_data.round)
    if window is not None and not isinstance(logged, dict):
        found.missing(detail.path, detail.absent("loadgen_file_sha1"), f"{label}'s LoadGen sources")
    if not isinstance(status, str):
        found.missing(detail.path, detail.absent("loadgen_git_status_message"), f"{label}'s LoadGen build")
    if isinstance(logged, dict) and window is not None and (changed := window.modified(logged)):
        found.add(
            RESULT_LOADGEN_BUILD,
            f"{label}: {len(changed)} LoadGen source file(s) match no version of the round's window "
            f"({', '.join(changed[:5])}{', ...' if len(changed) > 5 else ''})",
            detail.path,
            detail.line("loadgen_file_sha1"),
            "loadgen_file_sha1",
            details={"files": changed[:50], "window": f"{window.source['since']}..{window.source['until']}"},
        )
    if isinstance(status, str) and status.strip() not in ("", "NA"):  # NA: not built in a git checkout
        found.add(
            RESULT_LOADGEN_BUILD,
            f"{label}: LoadGen was built from modified sources ({status.strip()[:200]})",
            detail.path,
            detail.line("loadgen_git_status_message"),
            "loadgen_git_status_message",
            details={"git_status": status.strip()[:500]},
        )


def result_metric(
    detail: Detail, model: Model | None, found: Findings | None = None
) -> tuple[float | None, str]:
    """The reported metric and its unit (tokens/s for LLMs; ms for the stream scenarios), from the detail.

    A metric the detail does not give as a positive finite number is said in ``found``: a result whose
    score cannot be read is not scored.
    """
    scenario = detail.effective("scenario")
    if not isinstance(scenario, str) or scenario not in RESULT_KEY:
        return None, ""  # the missing or unknown scenario is its own observation
    key = TOKEN_RESULT_KEY.get(scenario) if model is not None and model.llm_latency_limits_ns else None
    key = key or RESULT_KEY[scenario]
    value = detail.values.get(key)
    if not finite_number(value) or value <= 0:
        if found is not None:
            problem = detail.absent(key) if key not in detail.values else f"gives {key} = {value!r}"
            found.missing(detail.path, problem[:200], "the result's score")
        return None, ""
    if key in TOKEN_RESULT_KEY.values():
        return float(value), "tokens/s"
    if scenario in ("SingleStream", "MultiStream"):
        return float(value) / 1e6, "ms"
    return float(value), UNITS.get(scenario, "")


def check_accuracy(
    paths: ResultPaths, model_name: str, model: Model | None, round_data: InferenceRound, found: Findings, row
) -> None:
    """The accuracy folder: an accuracy-mode run over the dataset, its metrics against the round's bounds.

    For a model the round does not define (``model`` None) what needs no round facts: the run's mode,
    LoadGen's errors, the log's truncation and accuracy.txt's hash line.
    """
    folder = paths.accuracy
    detail = read_detail_or_note(folder / DETAIL, found, "the accuracy run")
    if detail is not None:
        _accuracy_run(detail, paths.scenario, model, found)
        _errors(detail, found, "accuracy run")
    log = folder / ACCURACY_LOG
    try:
        size = checked_size(log, 1 << 40)
    except Unreadable as exc:
        found.missing(log, str(exc), "the accuracy run's outputs")
        size = None
    else:
        if size > TRUNCATED_MAX_BYTES:
            found.add(
                SUBMISSION_HYGIENE,
                f"{ACCURACY_LOG} is {size} bytes: not truncated as the submission rules require",
                log,
                metrics={"size": size, "limit": TRUNCATED_MAX_BYTES},
            )
    text = folder / ACCURACY_TEXT
    try:
        lines = read_lines(text)
    except Unreadable as exc:
        found.missing(text, str(exc), "the accuracy")
        return
    if model is not None:
        _metrics(lines, text, model, round_data, found, row)
    hashes = [match.group(1) for line in lines if (match := HASH_LINE.match(line))]
    if not hashes:
        found.missing(text, "has no hash= line", "which accuracy log the accuracy was computed from")
    elif size is not None and _whole(log, size):
        _same_log(log, hashes[0], text, found)


def _whole(log: Path, size: int) -> bool:
    """Whether the accuracy log is as LoadGen wrote it: larger than a truncated one, or whole JSON."""
    if size > TRUNCATED_MAX_BYTES:
        return True
    try:
        read = read_accuracy_log(log)
    except Unreadable:
        return False
    return not read.truncated and not read.problem


def _same_log(log: Path, recorded: str, text: Path, found: Findings) -> None:
    """A whole accuracy log is the one accuracy.txt's ``hash=`` line was computed from.

    truncate_accuracy_log.py writes the SHA-256 of the whole log to accuracy.txt before it cuts the log,
    and leaves a log under 4 KiB as it is: a whole log whose digest is not the line's is not the log the
    accuracy was computed from (``result.copies_disagree``: which file is the run's is for a reviewer).
    """
    try:
        digest = file_digest(log)
    except OSError as exc:
        found.missing(log, f"cannot be read ({exc.strerror})", "which log the accuracy was computed from")
        return
    if digest != recorded.lower():
        found.add(
            RESULT_COPIES_DISAGREE,
            f"{ACCURACY_LOG} is whole, but its SHA-256 {digest[:16]}… is not accuracy.txt's hash= "
            f"{recorded[:16]}…: the accuracy was computed from another log",
            log,
            details={"sha256": digest, "accuracy_txt_hash": recorded[:64], "accuracy_txt": str(text)},
        )


def _accuracy_run(detail: Detail, scenario: str, model: Model | None, found: Findings) -> None:
    mode = detail.effective("test_mode")
    if mode != "AccuracyOnly":
        found.add(
            RESULT_NOT_ACCURACY_RUN,
            f"the accuracy folder's log is a {mode or 'test-mode-less'} run, not an accuracy run",
            detail.path,
            detail.line("effective_test_mode"),
            "effective_test_mode",
            details={"test_mode": mode, "audited": detail.audited},
        )
        return
    if model is None:
        return  # no dataset size to count against: the model is not the round's (its own observation)
    wanted = model.accuracy_sample_count
    if isinstance(wanted, dict):
        wanted = wanted.get(scenario)
    wanted = wanted or model.dataset_size
    if wanted is None:
        found.notes.append("accuracy run: the round gives no dataset size; the samples run are not counted")
        return
    if not detail.issued:
        found.missing(
            detail.path,
            "has no generated_query_count and generated_samples_per_query records",
            "the number of samples the accuracy run issued",
        )
        return
    run = detail.issued
    if run < wanted:
        found.add(
            RESULT_NOT_ACCURACY_RUN,
            f"the accuracy run issued {run} samples; the dataset holds {wanted}",
            detail.path,
            detail.line("generated_query_count"),
            "generated_query_count",
            metrics={"samples_run": run, "dataset_size": wanted},
        )


def _metrics(
    lines: list[str], text: Path, model: Model, round_data: InferenceRound, found: Findings, row
) -> None:
    """Every bound's metric, matched by the round's pattern on each line, in the bound's unit."""
    metrics = sorted({b.metric for b in (*model.accuracy, *model.upper_limit)})
    printed = printed_metrics(lines, metrics, round_data.accuracy_patterns, text, found)
    shown: dict[str, dict] = {}
    for bound, kind in [(b, "target") for b in model.accuracy] + [(b, "limit") for b in model.upper_limit]:
        if bound.scenario is not None and bound.scenario != row.scenario:
            continue
        values = printed.get(bound.metric)
        if not values:
            if kind == "target" or bound.metric not in {b.metric for b in model.accuracy}:
                needed = f"the {bound.metric} {'target' if kind == 'target' else 'upper limit'}"
                found.missing(text, f"prints no {bound.metric}", needed)
            continue
        for value, number in values:
            converted = bound.from_printed(value)
            entry = shown.setdefault(bound.metric, {"metric": bound.metric, "value": converted})
            entry[kind] = bound.value
            low = kind == "target" and converted < bound.value
            high = kind == "limit" and converted > bound.value
            if low or high:
                unit = f" (printed {value}, x{bound.convert})" if bound.convert is not None else ""
                found.add(
                    RESULT_ACCURACY_BELOW_TARGET if low else RESULT_ACCURACY_ABOVE_LIMIT,
                    f"{bound.metric} {converted:g}{unit} is "
                    f"{'below the target' if low else 'above the upper limit'}"
                    f" {bound.value:g}",
                    text,
                    number,
                    bound.metric,
                    metrics={"found": converted, "bound": bound.value, "printed": value},
                    details={"metric": bound.metric, "unit": bound.unit},
                )
    row.accuracy = list(shown.values())


def printed_metrics(
    lines: list[str], metrics: list[str], patterns: dict[str, str], path: Path, found: Findings
) -> dict[str, list[tuple[float, int]]]:
    """Each metric's printed values with their lines, matched by the round's pattern (as the checker).

    A match that is not a number is skipped; one no float holds (400 digits are infinity) is refused with
    an observation: a value that cannot be compared is never within a bound.
    """
    printed: dict[str, list[tuple[float, int]]] = {}
    for number, line in enumerate(lines, 1):
        for metric in metrics:
            match = re.match(patterns[metric], line)
            if not match:
                continue
            try:
                value = float(match.group(1))
            except ValueError:
                continue
            if not math.isfinite(value):
                found.missing(path, f"prints a {metric} no float holds (line {number})", f"the {metric}")
                continue
            printed.setdefault(metric, []).append((value, number))
    return printed


def check_measurements(paths: ResultPaths, found: Findings) -> None:
    """user.conf, README.md and the model-info JSON with its five fields (any JSON type but empty)."""
    from parity import untrusted

    folder = paths.measurements
    for name in ("user.conf", "README.md"):
        try:
            if checked_size(folder / name, 4 << 20) == 0:
                found.missing(folder / name, "is empty", "the run's configuration")
        except Unreadable as exc:
            found.missing(folder / name, str(exc), "the run's configuration")
    path = model_info_file(folder, paths.system, paths.path.name)
    try:
        checked_size(path, 4 << 20)
        with open(path, "rb") as handle:
            data = untrusted.loads(handle.read(4 << 20))
    except (Unreadable, ValueError, UnicodeDecodeError, untrusted.TooComplex) as exc:
        found.missing(path, str(exc)[:200] or "is not JSON", "the model and weights disclosure")
        return
    if not isinstance(data, dict):
        found.missing(path, f"is a JSON {type(data).__name__}, not an object", "the model disclosure")
        return
    empty = [field for field in MEASUREMENT_FIELDS if data.get(field) in (None, "", [], {})]
    if empty:
        found.missing(path, f"leaves {', '.join(empty)} empty", "the model and weights disclosure")


def model_info_file(folder: Path, system: str, scenario_folder: str) -> Path:
    """The model-info JSON as the checker finds it.

    ``<system>*_<scenario>.json``, else ``<system>*.json`` (submission_checker.py v5.1.1:3041-3050), else
    v6.0's ``measurements.json``.
    """
    try:
        if through_link(folder):
            raise OSError("a link")
        names = sorted(name for name in os.listdir(folder) if name.endswith(".json"))
    except OSError:
        names = []
    for wanted in (f"_{scenario_folder}.json", ".json"):
        found = next((n for n in names if n.startswith(system) and n.endswith(wanted)), None)
        if found:
            return folder / found
    return folder / (
        "measurements.json" if "measurements.json" in names else f"{system}_{scenario_folder}.json"
    )


def check_power(paths: ResultPaths, found: Findings) -> None:
    """A power result's files (the Power WG checker's checksums are not recomputed here)."""
    power = paths.path / "performance" / "power"
    if not power.is_dir() or power.is_symlink():
        return
    for name in POWER_FILES:
        try:
            checked_size(power / name, 1 << 32)
        except Unreadable as exc:
            found.missing(power / name, str(exc), "the power measurement")


def check_summary_agrees(detail: Detail, found: Findings, label: str) -> None:
    """The human-readable summary beside a detail log says the same validity and the same score.

    The detail log is the record; the summary is a copy of it, printed to fewer decimals. A score line
    that is not the detail's value to the decimals printed is ``result.copies_disagree``: parity cannot
    tell which file was edited, so a reviewer decides. A summary that states no validity is unverifiable.
    """
    path = Path(detail.path).with_name(SUMMARY)
    try:
        summary = read_summary(path)
    except Unreadable as exc:
        found.missing(path, str(exc), f"{label}'s summary")
        return
    valid = detail.values.get("result_validity") == "VALID"
    if summary.valid is None:
        found.missing(path, "states no validity (no 'Result is' line)", f"{label}'s summary")
    elif summary.valid != valid:
        found.add(
            RESULT_INVALID,
            f"{label}: the summary says {'VALID' if summary.valid else 'INVALID'}, the detail log does not",
            path,
            details={"summary_valid": summary.valid},
        )
    scenario = detail.effective("scenario")
    for key, pattern in SCORE_COPIES.get(scenario, ()) if isinstance(scenario, str) else ():
        printed = [text for name, text in summary.result.items() if pattern.fullmatch(name)]
        recorded = detail.values.get(key)
        if not printed or not finite_number(recorded):
            continue  # no copy to compare; a missing record is said where the score is read
        text = printed[-1].strip()
        if not agrees(text, recorded):
            copy = summary_number(text)
            found.add(
                RESULT_COPIES_DISAGREE,
                f"{label}: the summary prints {text[:40]!r} where the detail log records {key} = "
                f"{recorded:g}",
                path,
                metrics={"summary": copy, "detail": float(recorded)},
                details={"key": key, "detail_log": str(detail.path)},
            )


def agrees(printed: str, recorded: float) -> bool:
    """Whether ``printed`` is ``recorded``, each to its own precision.

    The summary prints to the decimals it shows (``28.46`` for 28.4629); the detail log holds six
    significant digits (``99993.9`` where the summary prints ``99993.91``): half a unit of each.
    """
    value = summary_number(printed)
    if value is None or not NUMBER.fullmatch(printed):
        return False
    decimals = printed_decimals(printed)
    slack = 0.5 * 10.0**-decimals if decimals is not None else 0.0
    return abs(value - recorded) <= slack + 5e-6 * max(abs(value), abs(recorded))
