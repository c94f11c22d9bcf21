"""The compliance tests recomputed from the uploaded logs; the submitter's verify files checked against them.

The official checker passes TEST01 and TEST04 when ``verify_performance.txt`` contains ``TEST PASS``, and
TEST06 when ``verify_accuracy.txt`` prints three lines. Here each test is decided again from the logs, by the
rule its own script applies (:mod:`parity.engines.loadgen.compliance_facts` names the script and line):

- TEST01 and TEST04: the compliance run's score against the scored run's, within the test's band; the run
  must be an audited one (the audit.config marker and the test's settings) and not the scored run's log;
- TEST01 accuracy: the logged outputs against the accuracy run's, where both logs are whole (logs
  truncated for submission cannot be compared, and that is said, not counted as a pass);
- TEST06: the first token, a single end-of-sequence token and the token count of every logged sample.

Where the verify file's numbers or verdict differ from the recomputed ones, that is its own observation.
"""

from __future__ import annotations

import math
from pathlib import Path

from parity.engines.loadgen.accuracy_log import read_accuracy_log
from parity.engines.loadgen.compliance_facts import ComplianceTest, compliance_tests
from parity.engines.loadgen.detail import Detail
from parity.engines.loadgen.findings import Findings
from parity.engines.loadgen.result_check import (
    DETAIL,
    agrees,
    check_summary_agrees,
    printed_metrics,
    read_detail_or_note,
)
from parity.engines.loadgen.rounds import InferenceRound, Model
from parity.engines.loadgen.text_file import Unreadable, read_lines, through_link
from parity.engines.loadgen.verify import Verification, read_verification
from parity.observations.kinds import (
    RESULT_CLAIM_DISAGREES,
    RESULT_CLAIM_STALE,
    RESULT_COMPLIANCE_FAILED,
    RESULT_COMPLIANCE_NOT_AUDITED,
)
from parity.untrusted import finite_number

#: compliance/TEST01/verify_performance.py:34-39
DETAIL_SCORE = {
    "Offline": "result_samples_per_second",
    "SingleStream": "early_stopping_latency_ss",
    "MultiStream": "early_stopping_latency_ms",
    "Server": "result_completed_samples_per_sec",
}
#: TEST01's subset accuracies, printed by the model's accuracy script (submission_checker.py v5.1.1:3129-3228)
SUBSET_FILES = ("baseline_accuracy.txt", "compliance_accuracy.txt")
PASSED, FAILED, UNVERIFIABLE, NOT_RECOMPUTED = "passed", "failed", "unverifiable", "not recomputed"


class ModelFacts:
    """The model a result is of, as the round defines it (TEST01's subset accuracies need its metrics)."""

    __slots__ = ("model", "name", "round")

    def __init__(self, name: str, model: Model, round_data: InferenceRound) -> None:
        self.name, self.model, self.round = name, model, round_data


def check_compliance(
    folder: Path,
    tests: list[str],
    scored: Detail | None,
    scenario: str,
    found: Findings,
    accuracy_log: Path | None = None,
    facts_of_model: ModelFacts | None = None,
) -> dict[str, str]:
    """Every test ``tests`` names, under ``folder`` (``.../<scenario>/``); returns each test's status.

    ``accuracy_log`` is the accuracy run's log, which TEST01's outputs are compared with when it is whole;
    ``facts_of_model`` gives the metrics and deltas TEST01's subset accuracies are read with.
    """
    facts = compliance_tests().tests
    status: dict[str, str] = {}
    for test in tests:
        where = folder / test
        if not where.is_dir() or where.is_symlink():
            found.missing(where, "is missing", f"{test}")
            status[test] = UNVERIFIABLE
            continue
        if test not in facts:
            found.notes.append(f"{test}: present, not recomputed (parity has no facts of this test)")
            status[test] = NOT_RECOMPUTED
            continue
        if test == "TEST06":
            outcome = _test06(where, facts[test], scenario, found)
        else:
            outcome = _performance_test(test, where, facts[test], scored, found)
            if test == "TEST01":
                outcome = _worst(outcome, _test01_accuracy(where, accuracy_log, found, facts_of_model))
        status[test] = outcome
    return status


def _worst(first: str, second: str) -> str:
    order = (FAILED, UNVERIFIABLE, NOT_RECOMPUTED, PASSED)
    return min(first, second, key=order.index)


# --- TEST01 and TEST04: performance against the scored run --------------------------------------------
def _performance_test(test: str, where: Path, facts: ComplianceTest, scored: Detail | None, found) -> str:
    detail = read_detail_or_note(where / "performance" / "run_1" / DETAIL, found, f"{test}'s run")
    verify = _verification(where / "verify_performance.txt", found, f"{test}'s claimed outcome")
    if detail is None or scored is None:
        return UNVERIFIABLE
    check_summary_agrees(detail, found, f"{test}'s run")
    _audited(test, detail, facts, scored, found)
    band = facts.performance
    scenario = detail.effective("scenario")
    if scenario != scored.effective("scenario"):
        found.add(
            RESULT_COMPLIANCE_FAILED,
            f"{test}: the run is {scenario}, the scored run {scored.effective('scenario')}",
            detail.path,
            detail.line("effective_scenario"),
            "effective_scenario",
        )
        return FAILED
    if detail.values.get("result_validity") != "VALID":
        found.add(
            RESULT_COMPLIANCE_FAILED,
            f"{test}: the compliance run is {detail.values.get('result_validity') or 'of no validity'}",
            detail.path,
            detail.line("result_validity"),
            "result_validity",
        )
        return FAILED
    reference = _detail_score(scored, scenario, band.rates)
    test_score = _detail_score(detail, scenario, band.rates)
    for run, score in ((scored, reference), (detail, test_score)):
        if score is None:
            key = DETAIL_SCORE.get(scenario or "", "effective_scenario")
            problem = run.absent(key) if key not in run.values else f"gives {key} = {run.values[key]!r}"
            found.missing(run.path, problem[:200], f"{test}'s performance comparison")
    if reference is None or test_score is None:
        return UNVERIFIABLE
    limit = band.relaxed_at_most.get(scenario)
    tolerance = band.relaxed_tolerance if limit is not None and reference <= limit else band.tolerance
    high = reference * (1 + tolerance)
    passed = test_score < high if band.band == "upper" else reference * (1 - tolerance) <= test_score <= high
    ratio = test_score / reference if reference else math.inf
    metrics = {"reference_score": reference, "test_score": test_score, "ratio": ratio, "tolerance": tolerance}
    if not passed:
        found.add(
            RESULT_COMPLIANCE_FAILED,
            f"{test}: the compliance run scores {test_score:g} against the scored run's {reference:g} "
            f"(ratio {ratio:.4f}, allowed {'below' if band.band == 'upper' else 'within'} ±{tolerance:.0%})",
            detail.path,
            metrics=metrics,
            details={"test": test, "source": band.source},
        )
    if verify is not None:
        _claims(test, verify, reference, test_score, passed, found)
    return PASSED if passed else FAILED


def _detail_score(detail: Detail, scenario, rates: bool = False) -> float | None:
    """The run's score from its detail log: a positive finite number, or None (latencies as 1e9 / ns)."""
    value = detail.values.get(DETAIL_SCORE.get(scenario, "") if isinstance(scenario, str) else "")
    if not finite_number(value) or value <= 0:
        return None
    return 1e9 / value if rates and scenario in ("SingleStream", "MultiStream") else float(value)


def _audited(test: str, detail: Detail, facts: ComplianceTest, scored: Detail, found: Findings) -> None:
    """The run carries the audit.config marker and the test's settings, and is not the scored log."""
    if detail.digest and detail.digest == scored.digest:
        found.add(
            RESULT_COMPLIANCE_NOT_AUDITED,
            f"{test}: the compliance log is byte-identical to the scored run's",
            detail.path,
            details={"test": test, "sha256": detail.digest, "scored": str(scored.path)},
        )
        return
    if not detail.audited:
        found.add(
            RESULT_COMPLIANCE_NOT_AUDITED,
            f"{test}: no 'Found Audit Config file (audit.config)' warning: the run was not made under the "
            "test's audit.config",
            detail.path,
            details={"test": test},
        )
    for setting, wanted in facts.audit.items():
        value = detail.effective(setting)
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        ok = (isinstance(value, int | float) and value > 0) if wanted == "positive" else shown == wanted
        if not ok:
            found.add(
                RESULT_COMPLIANCE_NOT_AUDITED,
                f"{test}: {setting} is {value}, the test sets {wanted}",
                detail.path,
                detail.line(f"effective_{setting}"),
                f"effective_{setting}",
                details={"test": test, "setting": setting, "found": shown, "expected": wanted},
            )


def _logged(where: Path, test: str, found: Findings):
    """A test's ``verify_accuracy.txt``, its accuracy log's path, and the log (None if unreadable, said)."""
    verify = _verification(where / "verify_accuracy.txt", found, f"{test}'s claimed outcome")
    path = where / "accuracy" / "mlperf_log_accuracy.json"
    try:
        return verify, path, read_accuracy_log(path)
    except Unreadable as exc:
        found.missing(path, str(exc), f"{test}'s logged outputs")
        return verify, path, None


def _verification(path: Path, found: Findings, needed_for: str) -> Verification | None:
    try:
        verify = read_verification(path)
    except Unreadable as exc:
        found.missing(path, str(exc), needed_for)
        return None
    if verify.lines == 0:
        found.missing(path, "is empty", needed_for)
        return None
    return verify


def _claims(test: str, verify: Verification, reference: float, score: float, passed: bool, found) -> None:
    """The verify file's scores and verdict against the recomputed ones, to the decimals it prints.

    A test score the uploaded compliance log does not hold, or a verdict the logs do not give, is an
    observation: the test was verified on something other than what was submitted. A reference score
    that is not the scored run's, where the test recomputed against the scored run gives the same
    verdict, is ``result.claim_stale``: the file is stale, the evidence still decides.
    """
    claimed_test, claimed_reference = verify.score("test"), verify.score("reference")
    if claimed_test is not None and not agrees(repr(claimed_test), score):
        found.add(
            RESULT_CLAIM_DISAGREES,
            f"{test}: verify_performance.txt says the test score is {claimed_test:g}; the uploaded "
            f"compliance log gives {score:g}",
            verify.path,
            metrics={"claimed": claimed_test, "recomputed": score},
            details={"test": test, "score": "test"},
        )
    if verify.passed is not None and verify.passed != passed:
        found.add(
            RESULT_CLAIM_DISAGREES,
            f"{test}: verify_performance.txt says TEST {'PASS' if verify.passed else 'FAIL'}; recomputed, "
            f"the test {'passes' if passed else 'fails'}",
            verify.path,
            details={"test": test, "claimed": verify.passed, "recomputed": passed},
        )
    elif claimed_reference is not None and not agrees(repr(claimed_reference), reference):
        found.add(
            RESULT_CLAIM_STALE,
            f"{test}: verify_performance.txt quotes a reference score of {claimed_reference:g}, not the "
            f"scored run's {reference:g}; recomputed against the scored run the test "
            f"{'passes' if passed else 'fails'} as the file says",
            verify.path,
            metrics={"claimed": claimed_reference, "recomputed": reference},
            details={"test": test, "score": "reference"},
        )


# --- TEST01 accuracy -----------------------------------------------------------------------------------
def _test01_accuracy(
    where: Path, accuracy_log: Path | None, found: Findings, facts_of_model: ModelFacts | None = None
) -> str:
    """TEST01's accuracy half: the logged outputs against the accuracy run's where both logs are whole.

    Where the logs are truncated for submission (every published TEST01) only the verify file remains:
    its ``TEST PASS``, or the subset accuracies of the non-deterministic path, as the official checker
    reads them (submission_checker.py v5.1.1:3129-3228).
    """
    verify, log_path, log = _logged(where, "TEST01", found)
    if log is None:
        return UNVERIFIABLE
    if log.problem and not log.truncated:
        found.missing(log_path, log.problem, "TEST01's logged outputs")
        return UNVERIFIABLE
    if not log.truncated and not log.entries:
        found.missing(log_path, "holds no entries ([])", "TEST01's logged outputs")
        return UNVERIFIABLE
    if not log.truncated and verify is not None:
        claimed = verify.numbers.get("num_perf_log_entries")
        if claimed is not None and math.isfinite(claimed) and int(claimed) != len(log.entries):
            found.add(
                RESULT_CLAIM_DISAGREES,
                f"TEST01: verify_accuracy.txt counts {int(claimed)} logged outputs; the uploaded log holds "
                f"{len(log.entries)}",
                verify.path,
                metrics={"claimed": claimed, "recomputed": len(log.entries)},
                details={"test": "TEST01"},
            )
    reference = None
    if not log.truncated and accuracy_log is not None:
        try:
            reference = read_accuracy_log(accuracy_log)
        except Unreadable:
            reference = None
    if reference is None or reference.truncated or reference.problem or not reference.entries:
        found.notes.append("TEST01: logged outputs not compared (the accuracy logs are truncated)")
        return _verified(where, verify, log_path, found, facts_of_model)
    outputs: dict = {}
    for entry in reference.entries:
        if isinstance(entry.get("qsl_idx"), int):
            outputs.setdefault(entry["qsl_idx"], entry.get("data"))
    differ = [
        e.get("qsl_idx")
        for e in log.entries
        if isinstance(e.get("qsl_idx"), int) and outputs.get(e["qsl_idx"], e.get("data")) != e.get("data")
    ]
    if not differ:
        return PASSED
    if verify is not None and verify.passed:  # the script may compare a prefix only (its --dtype)
        found.add(
            RESULT_CLAIM_DISAGREES,
            f"TEST01: {len(differ)} of {len(log.entries)} logged outputs differ from the accuracy run's "
            f"(first qsl_idx {differ[0]}), but verify_accuracy.txt says TEST PASS",
            verify.path,
            metrics={"differ": len(differ), "logged": len(log.entries)},
            details={"test": "TEST01"},
        )
        return PASSED
    return _verified(
        where, verify, log.path, found, facts_of_model, differ=len(differ), logged=len(log.entries)
    )


def _verified(
    where: Path,
    verify,
    log_path: Path,
    found: Findings,
    facts_of_model: ModelFacts | None = None,
    differ: int = 0,
    logged: int = 0,
) -> str:
    """The verify file's pass, else the subset accuracies read and compared, else a failure."""
    if verify is not None and verify.passed:
        return PASSED
    subsets = [where / "accuracy" / name for name in SUBSET_FILES]
    if any(path.exists() or path.is_symlink() for path in subsets):
        return _subset_accuracies(subsets, facts_of_model, found)
    if verify is None:
        return UNVERIFIABLE
    what = (
        f"{differ} of {logged} logged outputs differ from the accuracy run's"
        if differ
        else ("verify_accuracy.txt does not say TEST PASS")
    )
    found.add(
        RESULT_COMPLIANCE_FAILED,
        f"TEST01: {what}, and no subset accuracies (baseline_accuracy.txt, compliance_accuracy.txt)",
        log_path if differ else verify.path,
        metrics={"differ": differ, "logged": logged} if differ else None,
        details={"test": "TEST01", "source": "compliance/TEST01/verify_accuracy.py"},
    )
    return FAILED


def _subset_accuracies(paths: list[Path], facts_of_model: ModelFacts | None, found: Findings) -> str:
    """TEST01's non-deterministic path, as the official checker decides it (v5.1.1:3172-3226).

    The accuracy script's output over the compliance run's logged samples (compliance_accuracy.txt) and
    over the accuracy run's outputs for the same samples (baseline_accuracy.txt): every target metric of
    the model is read from both with the round's patterns (the last match, as the checker), and
    |1 - baseline / compliance| must be within the model's delta (the round's ``accuracy_delta_percent``,
    else its default for the model's accuracy class). A file missing, unreadable, empty or printing no
    metric, or a metric of 0 (the checker's "not found"), is never a pass.
    """
    needed = "TEST01's subset accuracies (the non-deterministic path)"
    if facts_of_model is None:
        found.missing(paths[0].parent, "cannot be read without the model's metrics", needed)
        return UNVERIFIABLE
    model, round_data = facts_of_model.model, facts_of_model.round
    metrics = list(dict.fromkeys(bound.metric for bound in model.accuracy))
    read: list[dict[str, tuple[float, int]]] = []
    for path in paths:
        if through_link(path) or path.is_symlink():
            found.missing(path, "is reached through a link (not followed)", needed)
            return UNVERIFIABLE
        try:
            lines = read_lines(path)
        except Unreadable as exc:
            found.missing(path, str(exc), needed)
            return UNVERIFIABLE
        printed = printed_metrics(lines, metrics, round_data.accuracy_patterns, path, found)
        absent = [metric for metric in metrics if not printed.get(metric)]
        if not lines or absent or not metrics:
            problem = "is empty" if not lines else f"prints no {', '.join(absent) or 'metric'}"
            found.missing(path, problem, needed)
            return UNVERIFIABLE
        read.append({metric: printed[metric][-1] for metric in metrics})  # the last match, as the checker
    baseline, compliance = read
    outcome = PASSED
    for metric in metrics:
        (base, _), (value, line) = baseline[metric], compliance[metric]
        allowed = round_data.delta_percent(facts_of_model.name, metric)
        delta = abs(1 - base / value) * 100 if base and value else math.inf
        if delta <= allowed:
            continue
        found.add(
            RESULT_COMPLIANCE_FAILED,
            f"TEST01: {metric} over the logged samples is {value:g} in performance mode against "
            f"{base:g} in accuracy mode (delta {delta:.3g}%, allowed {allowed:g}%)"
            if base and value
            else f"TEST01: {metric} is 0 in {'the baseline' if not base else 'the compliance'} subset "
            "accuracy (the checker's value for a metric not found)",
            paths[1],
            line,
            metric,
            metrics={
                "baseline": base,
                "compliance": value,
                "delta_percent": delta if math.isfinite(delta) else None,
                "allowed_percent": allowed,
            },
            details={"test": "TEST01", "metric": metric, "source": round_data.accuracy_delta_default.source},
        )
        outcome = FAILED
    if outcome == PASSED:
        found.notes.append("TEST01: outputs differ; the subset accuracies agree within the model's delta")
    return outcome


# --- TEST06 --------------------------------------------------------------------------------------------
def _test06(where: Path, facts: ComplianceTest, scenario: str, found: Findings) -> str:
    """run_verification.py's three checks over every logged sample, then the verify file's claims."""
    import numpy as np

    verify, log_path, log = _logged(where, "TEST06", found)
    if log is None:
        return UNVERIFIABLE
    if log.problem or not log.entries:
        problem = log.problem or "holds no entries ([]): the checks would pass over zero samples"
        found.missing(log_path, problem, "TEST06's logged outputs")
        return UNVERIFIABLE
    checks = facts.outputs
    dtype = _token_type(log.entries, np.dtype(checks.dtype).newbyteorder("<"))
    failures: dict[str, str] = {}
    for index, entry in enumerate(log.entries):
        tokens = _tokens(entry.get("data"), dtype)
        if tokens is None:
            failures.setdefault("EOS", f"entry {index}: data is not hex of {checks.dtype} tokens")
            failures.setdefault("Sample length", failures["EOS"])
            continue
        if _trailing(tokens, checks.eos_token_id) >= 2:
            failures.setdefault(
                "EOS", f"entry {index} (qsl_idx {entry.get('qsl_idx')}) ends with 2+ EOS tokens"
            )
        count = entry.get("token_count")
        if not isinstance(count, int) or isinstance(count, bool) or count != len(tokens):
            failures.setdefault(
                "Sample length", f"entry {index}: token_count {count!r} but {len(tokens)} tokens"
            )
        if scenario != "Offline":
            first = _tokens(entry.get("token_data"), dtype)
            if first is None or any(a != b for a, b in zip(tokens.tolist(), first.tolist(), strict=False)):
                failures.setdefault("First token", f"entry {index}: the reported first token differs")
    results = {name: name not in failures for name in ("First token", "EOS", "Sample length")}
    for name, problem in failures.items():
        found.add(
            RESULT_COMPLIANCE_FAILED,
            f"TEST06 {name} check fails: {problem}",
            log_path,
            details={"test": "TEST06", "check": name, "source": checks.source},
        )
    if verify is not None:
        for name, recomputed in results.items():
            claimed = verify.checks.get(name)
            if claimed is not None and claimed != recomputed:
                found.add(
                    RESULT_CLAIM_DISAGREES,
                    f"TEST06: verify_accuracy.txt says '{name} check pass: {claimed}'; "
                    f"recomputed: {recomputed}",
                    verify.path,
                    details={"test": "TEST06", "check": name, "claimed": claimed, "recomputed": recomputed},
                )
    return FAILED if failures else PASSED


def _token_type(entries: list[dict], default):
    """The token width the logs were written with: the script's ``--dtype`` is the submitter's choice.

    The one of int32 and int64 under which every entry's token count is its length; the script's default
    where neither or both fit.
    """
    import numpy as np

    fitting = []
    for name in ("int32", "int64"):
        dtype = np.dtype(name).newbyteorder("<")
        width = 2 * dtype.itemsize
        if all(
            isinstance(e.get("data"), str)
            and isinstance(e.get("token_count"), int)
            and len(e["data"]) == width * e["token_count"]
            for e in entries
        ):
            fitting.append(dtype)
    return fitting[0] if len(fitting) == 1 else default


def _tokens(data, dtype):
    import numpy as np

    if not isinstance(data, str) or len(data) % (2 * dtype.itemsize):
        return None
    try:
        return np.frombuffer(bytes.fromhex(data), dtype=dtype)
    except ValueError:
        return None


def _trailing(tokens, eos: int) -> int:
    """End-of-sequence tokens at the end (run_verification.py's loop stops before index 0)."""
    count = 0
    for index in range(len(tokens) - 1, 0, -1):
        if tokens[index] != eos:
            break
        count += 1
    return count
