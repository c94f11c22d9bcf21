"""One inference result (a system, a model, a scenario): its scored run, accuracy run and measurements.

What the round data (:mod:`parity.engines.loadgen.rounds`) says a result must show is compared with what
its logs record: LoadGen's validity and errors, the round's seeds, sample counts, equal-issue mode,
minimum duration, queries and samples per query, the latency bounds, the accuracy against its target and
upper limit in the right unit, whether the accuracy run is one (mode and samples run), and the LoadGen
build. The compliance tests are :mod:`parity.engines.loadgen.compliance`. Facts only: the rulebook judges.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from parity.engines.loadgen.accuracy_log import TRUNCATED_MAX_BYTES
from parity.engines.loadgen.detail import Detail, read_detail
from parity.engines.loadgen.findings import Findings
from parity.engines.loadgen.loadgen_sources import loadgen_sources
from parity.engines.loadgen.rounds import InferenceRound, Model
from parity.engines.loadgen.summary import read_summary
from parity.engines.loadgen.text_file import Unreadable, checked_size, read_lines, through_link
from parity.observations.kinds import (
    RESULT_ACCURACY_ABOVE_LIMIT,
    RESULT_ACCURACY_BELOW_TARGET,
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

    __slots__ = ("compliance", "division", "measurements", "model", "path", "scenario", "system")

    def __init__(self, path, system: str, model: str, scenario: str, division: str, compliance, measurements):
        self.path = Path(path)  # results/<system>/<model>/<scenario>
        self.system, self.model, self.scenario, self.division = system, model, scenario, division
        self.compliance = Path(compliance)  # the folder holding TEST01, TEST04, TEST06
        self.measurements = Path(measurements)  # user.conf, README.md, <system>[_<scenario>].json

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
    scenario = detail.effective("scenario")
    _at_least(detail, "performance_sample_count", model.performance_sample_count, found, label)
    _at_least(detail, "min_duration_ms", round_data.min_duration_ms, found, label)
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
    _loadgen_build(detail, round_data, found, label)


def _errors(detail: Detail, found: Findings, label: str) -> None:
    """The errors LoadGen logged during a run (the official checker refuses any)."""
    if detail.errors:
        found.add(
            RESULT_INVALID,
            f"{label}: LoadGen logged {len(detail.errors)} error(s), the first: {detail.errors[0][:200]}",
            detail.path,
            details={"errors": detail.errors[:5]},
        )


def _at_least(detail: Detail, setting: str, minimum, found: Findings, label: str) -> None:
    if minimum is None:
        return
    value = detail.effective(setting)
    if not finite_number(value) or value < minimum:
        found.add(
            RESULT_SETTINGS_CHANGED,
            f"{label}: {setting} is {value}, the round requires at least {minimum}",
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


def result_metric(detail: Detail, model: Model) -> tuple[float | None, str]:
    """The reported metric and its unit (tokens/s for LLMs; ms for the stream scenarios)."""
    scenario = detail.effective("scenario")
    if not isinstance(scenario, str):
        return None, ""
    key = TOKEN_RESULT_KEY.get(scenario) if model.llm_latency_limits_ns else None
    value = detail.values.get(key) if key else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), "tokens/s"
    value = detail.values.get(RESULT_KEY.get(scenario, ""))
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None, ""
    if scenario in ("SingleStream", "MultiStream"):
        return float(value) / 1e6, "ms"
    return float(value), UNITS.get(scenario, "")


def check_accuracy(
    paths: ResultPaths, model_name: str, model: Model, round_data: InferenceRound, found: Findings, row
) -> None:
    """The accuracy folder: an accuracy-mode run over the dataset, its metrics against the round's bounds."""
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
    _metrics(lines, text, model, round_data, found, row)
    if not any(HASH_LINE.match(line) for line in lines):
        found.missing(text, "has no hash= line", "which accuracy log the accuracy was computed from")


def _accuracy_run(detail: Detail, scenario: str, model: Model, found: Findings) -> None:
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
    wanted = model.accuracy_sample_count
    if isinstance(wanted, dict):
        wanted = wanted.get(scenario)
    wanted = wanted or model.dataset_size
    if wanted is None or not detail.issued:
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
    patterns = round_data.accuracy_patterns
    printed: dict[str, list[tuple[float, int]]] = {}
    metrics = sorted({b.metric for b in (*model.accuracy, *model.upper_limit)})
    for number, line in enumerate(lines, 1):
        for metric in metrics:
            match = re.match(patterns[metric], line)
            if match:
                try:
                    printed.setdefault(metric, []).append((float(match.group(1)), number))
                except ValueError:
                    continue
    shown: dict[str, dict] = {}
    for bound, kind in [(b, "target") for b in model.accuracy] + [(b, "limit") for b in model.upper_limit]:
        if bound.scenario is not None and bound.scenario != row.scenario:
            continue
        values = printed.get(bound.metric)
        if not values:
            if kind == "target":
                found.missing(text, f"prints no {bound.metric}", f"the {bound.metric} target")
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
    """The human-readable summary beside a detail log says the same validity."""
    path = Path(detail.path).with_name(SUMMARY)
    try:
        summary = read_summary(path)
    except Unreadable as exc:
        found.missing(path, str(exc), f"{label}'s summary")
        return
    valid = detail.values.get("result_validity") == "VALID"
    if summary.valid is not None and summary.valid != valid:
        found.add(
            RESULT_INVALID,
            f"{label}: the summary says {'VALID' if summary.valid else 'INVALID'}, the detail log does not",
            path,
            details={"summary_valid": summary.valid},
        )
