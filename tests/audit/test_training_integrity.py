"""Training audits on published logs with one deliberate edit each (issue 25): events counted as events,
one definition of the run's boundaries, run numbers, status wordings, undefined benchmarks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_runner import parity
from mllog_files import flux_runs
from parity.audit.benchmark_folder import _time_to_train, run_key
from parity.audit.logs import check_logs
from parity.audit.systems import REQUIRED_FIELDS, consistency_observations, status_meaning, statuses_agree
from parity.engines.convergence.runs import read_run
from parity.engines.logs.boundaries import run_boundaries
from parity.engines.logs.parser import parse

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "mlperf_logs" / "packages"
DELL = CORPUS / "v5.1" / "Dell"
DELL_LOGS = "results/1xXE9780x8B200-SXM-180GB/llama2_70b_lora"
DESCRIPTION = {
    **{name: "x" for name in REQUIRED_FIELDS},
    "submitter": "Acme",
    "division": "closed",
    "status": "Available on-premise",
    "system_name": "acme_box",
}
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="needs the shared corpus")


def _second_run_stop(log: Path, after_ms: int = 60_000) -> tuple[int, int | None]:
    """Insert a run_stop (status success) ``after_ms`` after run_start; (its line, the real stop's line)."""
    lines = log.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if '"key": "run_start"' in line)
    start = json.loads(lines[at].split(":::MLLOG ", 1)[1])
    record = {
        "namespace": "",
        "time_ms": start["time_ms"] + after_ms,
        "event_type": "INTERVAL_END",
        "key": "run_stop",
        "value": None,
        "metadata": {"status": "success"},
    }
    lines.insert(at + 1, "0: :::MLLOG " + json.dumps(record) + "\n")
    log.write_text("".join(lines))
    real = next((i + 1 for i, line in enumerate(lines) if '"key": "run_stop"' in line and i != at + 1), None)
    return at + 2, real


@needs_corpus
def test_a_second_run_stop_is_a_violation_with_both_lines_as_witness(tmp_path):
    log = tmp_path / "result_1.txt"
    shutil.copy(DELL / DELL_LOGS / "result_1.txt", log)
    [before] = check_logs([log], ruleset="5.1.0")
    assert before.verdict == "conforms"
    inserted, real = _second_run_stop(log)
    [after] = check_logs([log], ruleset="5.1.0")
    assert after.verdict == "violates"
    [finding] = [f for f in after.problems if "run_stop" in f.summary]
    assert finding.outcome == "forbidden"
    assert f"lines {inserted}, {real}" in finding.summary
    assert [where.line for where in finding.evidence.locations] == [inserted, real]
    text = log.read_text().splitlines()
    assert all('"run_stop"' in text[where.line - 1] for where in finding.evidence.locations)


@needs_corpus
def test_score_and_convergence_read_the_same_run_stop(tmp_path):
    log = tmp_path / "result_1.txt"
    shutil.copy(DELL / DELL_LOGS / "result_1.txt", log)
    _second_run_stop(log)
    parsed = parse(log)
    stop = run_boundaries(parsed.by_key()).run_stop
    minutes, _ = _time_to_train(parsed)
    run = read_run(log, parsed)
    assert minutes == pytest.approx(1.0)  # the first run_stop: the run as the score reads it ...
    assert run.converged_at == float("inf") and run.status == "no evaluation"  # ... and convergence
    assert (
        stop.metadata == {"status": "success"}
        and stop.time_ms - parsed.by_key()["run_start"][0].time_ms == 60_000
    )


@needs_corpus
def test_a_second_run_stop_in_every_log_no_longer_cuts_the_score(capsys, tmp_path):
    organisation = tmp_path / "v5.1" / "Dell"
    shutil.copytree(DELL, organisation)
    for log in sorted((organisation / DELL_LOGS).glob("result_*.txt")):
        _second_run_stop(log)
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json", "--jobs", "1")
    [benchmark] = json.loads(out)["organisations"][0]["benchmarks"]
    assert code == 1
    assert benchmark["score_minutes"] is None  # was 1.00 minutes (from 10.09), with no finding
    assert len(benchmark["failed_runs"]) == 10
    assert any(
        f["kind"] == "submission.runs_failed" and f["outcome"] == "forbidden" for f in benchmark["findings"]
    )


def test_run_numbers_of_result_id_n_names_are_distinct():
    assert run_key("result_1.txt") == run_key("result_01.txt")
    assert run_key("result_smc_3.txt") == run_key("result_smc_03.txt") != run_key("result_smc_4.txt")
    assert len({run_key(f"result_smc_{n}.txt") for n in range(10)}) == 10


def test_a_folder_of_ten_result_id_n_logs_is_ten_runs(capsys, tmp_path):
    organisation = tmp_path / "v5.1" / "Acme"
    (organisation / "systems").mkdir(parents=True)
    (organisation / "systems" / "acme_box.json").write_text(json.dumps(DESCRIPTION))
    folder = flux_runs(organisation / "results" / "acme_box" / "flux1")
    for index in range(10):
        (folder / f"result_{index}.txt").rename(folder / f"result_smc_{index}.txt")
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json", "--jobs", "1")
    findings = json.loads(out)["organisations"][0]["benchmarks"][0]["findings"]
    assert not [f for f in findings if f["kind"] == "submission.run_count"], findings
    (folder / "result_smc_9.txt").rename(folder / "result_smc_01.txt")  # run 1 twice, no run 9
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json", "--jobs", "1")
    findings = json.loads(out)["organisations"][0]["benchmarks"][0]["findings"]
    [count] = [f for f in findings if f["kind"] == "submission.run_count"]
    assert code == 1 and count["evidence"]["details"]["repeated_numbers"] is True


@pytest.mark.parametrize(
    ("logged", "described"),
    [
        ("onprem", "onprem"),
        ("onprem", "Available on-premise"),
        ("onprem", "Available on premise"),
        ("cloud", "Available cloud"),
        ("Available cloud", "cloud"),
        ("research", "Research, Development, or Internal (RDI)"),
        ("preview", "Preview"),
        ("cloud", "available"),
    ],
)
def test_status_wordings_are_read_the_same_way_on_both_sides(logged, described):
    assert statuses_agree(logged, described) and statuses_agree(described, logged)


def test_status_wordings_that_differ_still_disagree():
    assert not statuses_agree("onprem", "Available cloud")
    assert not statuses_agree("preview", "Available on-premise")
    assert not statuses_agree("bogus", "Available on-premise")
    assert status_meaning("Bogus!") == status_meaning("bogus")


@needs_corpus
@pytest.mark.parametrize("described", ["onprem", "Available on premise", "Available on-premise"])
def test_a_published_log_agrees_with_its_description_in_any_status_spelling(tmp_path, described):
    description = json.loads((DELL / "systems" / "1xXE9780x8B200-SXM-180GB.json").read_text())
    _, identity = _time_to_train(parse(DELL / DELL_LOGS / "result_1.txt"))
    assert identity["submission_status"] == "onprem"
    data = {**description, "status": described}
    assert consistency_observations(tmp_path / "d.json", data, "x", identity) == []
    wrong = consistency_observations(
        tmp_path / "d.json", {**data, "status": "Available cloud"}, "x", identity
    )
    assert [o.kind for o in wrong] == ["submission.inconsistent"]


@needs_corpus
@pytest.mark.parametrize("division", ["closed", "open"])
def test_a_benchmark_the_round_does_not_define_is_a_violation_in_every_division(capsys, tmp_path, division):
    organisation = tmp_path / "v5.1" / "Dell"
    shutil.copytree(DELL, organisation)
    description = organisation / "systems" / "1xXE9780x8B200-SXM-180GB.json"
    description.write_text(json.dumps({**json.loads(description.read_text()), "division": division}))
    logs = organisation / DELL_LOGS
    logs.rename(logs.with_name("ll\u0430ma2_70b_lora"))  # a look-alike: Cyrillic a
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json", "--jobs", "1")
    [benchmark] = json.loads(out)["organisations"][0]["benchmarks"]
    [undefined] = [f for f in benchmark["findings"] if f["kind"] == "submission.undefined_benchmark"]
    assert code == 1 and benchmark["verdict"] == "violates" and benchmark["division"] == division
    assert undefined["outcome"] == "forbidden" and f"not a {division} benchmark" in undefined["summary"]
    assert benchmark["score_minutes"] is None  # nothing is scored under a name the round does not define


def test_runs_the_rcp_test_cannot_compare_are_a_finding_not_a_silent_pass(capsys, tmp_path):
    organisation = tmp_path / "v5.1" / "Acme"
    (organisation / "systems").mkdir(parents=True)
    (organisation / "systems" / "acme_box.json").write_text(json.dumps(DESCRIPTION))
    folder = flux_runs(organisation / "results" / "acme_box" / "flux1")
    log = folder / "result_3.txt"
    log.write_text(
        log.read_text().replace('"global_batch_size", "value": 512', '"global_batch_size", "value": 1024')
    )
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json", "--jobs", "1")
    [benchmark] = json.loads(out)["organisations"][0]["benchmarks"]
    [finding] = [f for f in benchmark["findings"] if f["kind"] == "convergence.reference_missing"]
    assert "RCP test could not be run" in finding["summary"] and finding["outcome"] == "needs_review"
    assert code in (1, 2) and benchmark["verdict"] != "conforms"


@needs_corpus
@pytest.mark.parametrize("time_ms", ["1e30", "-5"])
def test_a_run_stop_at_no_clock_reading_is_a_malformed_line_not_a_long_run(tmp_path, time_ms):
    log = tmp_path / "result_1.txt"
    shutil.copy(DELL / DELL_LOGS / "result_1.txt", log)
    lines = log.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if '"key": "run_stop"' in line)
    record = json.loads(lines[at].split(":::MLLOG ", 1)[1])
    lines[at] = lines[at].replace(f'"time_ms": {record["time_ms"]}', f'"time_ms": {time_ms}', 1)
    assert time_ms in lines[at]
    log.write_text("".join(lines))
    [checked] = check_logs([log], ruleset="5.1.0")
    assert checked.verdict == "violates"
    assert any("no clock reading" in o.summary for o in checked.check.observations)
    assert _time_to_train(parse(log))[0] is None  # the stop is not read as the run's end


@pytest.mark.parametrize(
    ("value", "counted"),
    [
        ("8", True),
        (8, True),
        (" 2 ", True),
        ("NaN", False),
        ("0", False),
        (-1, False),
        ("²", False),
        (True, False),
    ],
)
def test_a_count_field_of_the_description_must_be_a_count(tmp_path, value, counted):
    from parity.audit.systems import COUNT_FIELDS, description_observations

    data = {**DESCRIPTION, **dict.fromkeys(COUNT_FIELDS, "1"), "number_of_nodes": value}
    found = description_observations(tmp_path / "acme_box.json", data, "5.1.0")
    incomplete = [o for o in found if o.kind == "submission.system_incomplete"]
    assert [o.evidence.details["fields"] for o in incomplete] == ([] if counted else [["number_of_nodes"]])
