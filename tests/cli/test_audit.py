"""`parity audit` of whole training submissions: the package checker's verdicts, result_summarizer's
scores, the findings the official tools miss, and bad input that is a finding or one clean line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_runner import parity
from mllog_files import flux_runs, record
from parity.audit.systems import REQUIRED_FIELDS

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "mlperf_logs" / "packages"
#: result_summarizer's scores (minutes) of the corpus packages, from mlperf-logging 7bbf792's own
#: _compute_strong_score_standalone after its RCP checker's scaling.json (scripts/audit_agreement.py)
SUMMARIZER_SCORES = {"Dell": 10.0899625, "NVIDIA": 64.60515}

DESCRIPTION = {
    **{name: "x" for name in REQUIRED_FIELDS},
    "submitter": "Acme",
    "division": "closed",
    "status": "Available on-premise",
    "system_name": "acme_box",
}


@pytest.mark.skipif(
    not CORPUS.is_dir(), reason="the shared corpus is beside the repository in CI and sessions"
)
@pytest.mark.parametrize("organisation", ["Dell", "NVIDIA"])
def test_corpus_packages_pass_like_the_package_checker_with_result_summarizers_scores(capsys, organisation):
    before = sorted(p.name for p in (CORPUS / "v5.1" / organisation).rglob("*"))
    code, out, _ = parity(capsys, "audit", CORPUS / "v5.1" / organisation, "-f", "json", "--jobs", "1")
    report = json.loads(out)
    [audited] = report["organisations"]
    [benchmark] = audited["benchmarks"]
    assert report["ruleset"] == "5.1.0" and code == 2  # empty description fields: a reviewer's call
    forbidden = [f for f in audited["findings"] + benchmark["findings"] if f["outcome"] == "forbidden"]
    assert not forbidden, forbidden  # the package checker passes both
    assert benchmark["score_minutes"] == pytest.approx(SUMMARIZER_SCORES[organisation], abs=1e-9)
    assert benchmark["rcp"]["status"] == "passed"
    if organisation == "Dell":
        assert benchmark["failed_runs"] == ["result_0.txt"]  # truncated; olympic scoring drops it
    assert sorted(p.name for p in (CORPUS / "v5.1" / organisation).rglob("*")) == before  # nothing written


def _submission(tmp_path, runs=10, description=None):
    organisation = tmp_path / "v5.1" / "Acme"
    (organisation / "systems").mkdir(parents=True)
    (organisation / "systems" / "acme_box.json").write_text(json.dumps(description or DESCRIPTION))
    folder = flux_runs(organisation / "results" / "acme_box" / "flux1", count=runs)
    return organisation, folder


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs the corpus")
def test_a_complete_submission_conforms_and_shows_its_score(capsys, tmp_path):
    organisation = tmp_path / "v5.1" / "Dell"
    shutil.copytree(CORPUS / "v5.1" / "Dell", organisation)
    description = organisation / "systems" / "1xXE9780x8B200-SXM-180GB.json"
    filled = {
        key: value if value != "" else "described"
        for key, value in json.loads(description.read_text()).items()
    }
    description.write_text(json.dumps(filled))
    code, out, _ = parity(capsys, "audit", organisation, "--jobs", "2")
    assert code == 0, out
    assert "llama2_70b_lora" in out and "10.090" in out and "Verdict: conforms" in out


def test_wrong_run_count_and_too_many_failures_violate(capsys, tmp_path):
    organisation, folder = _submission(tmp_path, runs=9)
    for index in (1, 2):  # two truncated runs: olympic scoring allows one
        log = folder / f"result_{index}.txt"
        log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json")
    findings = json.loads(out)["organisations"][0]["benchmarks"][0]["findings"]
    outcomes = {f["kind"]: f["outcome"] for f in findings}
    assert code == 1
    assert outcomes["submission.run_count"] == outcomes["submission.runs_failed"] == "forbidden"


def test_system_descriptions_missing_fields_empty_values_and_log_disagreements(capsys, tmp_path):
    description = {**DESCRIPTION, "status": "available", "cooling": "", "framework": "TBD"}
    del description["hw_notes"]
    organisation, folder = _submission(tmp_path, description=description)
    log = folder / "result_0.txt"
    log.write_text(log.read_text() + record("submission_org", "Other Corp", 99) + "\n")
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json")
    report = json.loads(out)["organisations"][0]
    outcomes = {f["kind"]: f["outcome"] for f in report["findings"] + report["benchmarks"][0]["findings"]}
    assert code == 1
    assert (
        outcomes["submission.system_invalid"] == "forbidden"
    )  # hw_notes missing, status not in the vocabulary
    assert outcomes["submission.system_incomplete"] == "needs_review"  # cooling empty, framework TBD
    assert outcomes["submission.inconsistent"] == "needs_review"  # the log names another organisation


def test_layout_problems_are_findings_and_nothing_is_read_outside(capsys, tmp_path):
    organisation, folder = _submission(tmp_path)
    outside = tmp_path / "outside.txt"
    shutil.copy(folder / "result_0.txt", outside)
    (folder / "result_0.txt").unlink()
    (folder / "result_0.txt").symlink_to(outside)
    (folder / "notes.txt").write_text("stray")
    description = organisation / "systems" / "acme_box.json"
    (tmp_path / "elsewhere.json").write_text(description.read_text())
    (organisation / "systems" / "other_box.json").symlink_to(tmp_path / "elsewhere.json")
    (organisation / "results" / "acme_box" / "not_a_benchmark").mkdir()
    (organisation / "results" / "acme_box" / "not_a_benchmark" / "result_0.txt").write_text("x")
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json")
    report = json.loads(out)["organisations"][0]
    findings = report["findings"] + report["benchmarks"][0]["findings"]
    kinds = [f["kind"] for f in findings]
    assert kinds.count("log.file_refused") == 2 and kinds.count("submission.stray_file") == 1
    [undefined] = [b for b in report["benchmarks"] if b["benchmark"] == "not_a_benchmark"]
    assert [f["kind"] for f in undefined["findings"]] == ["submission.undefined_benchmark"]
    assert code in (1, 2)


def test_bad_input_is_one_clean_line(capsys, tmp_path):
    code, _, err = parity(capsys, "audit", tmp_path)
    assert code == 3 and "no organisation folder" in err and err.count("\n") == 1
    organisation, _ = _submission(tmp_path)
    (organisation / "systems" / "acme_box.json").write_text("{not json")
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json")
    findings = json.loads(out)["organisations"][0]["findings"]
    assert code == 1 and any("not valid JSON" in f["summary"] for f in findings)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs the corpus")
def test_saved_evidence_re_judges_to_the_audits_verdict(capsys, tmp_path):
    evidence = tmp_path / "evidence.json"
    code, _, _ = parity(capsys, "audit", CORPUS / "v5.1" / "Dell", "--save-evidence", evidence, "--jobs", "1")
    again, _, _ = parity(capsys, "judge", evidence, "-r", "mlperf-training-v6.0")
    assert code == again == 2


def test_repeated_run_numbers_are_a_wrong_run_count(capsys, tmp_path):
    organisation, folder = _submission(tmp_path)
    (folder / "result_9.txt").rename(folder / "result_01.txt")  # 10 files, but run 1 twice and no run 9
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json")
    [finding] = [
        f
        for f in json.loads(out)["organisations"][0]["benchmarks"][0]["findings"]
        if f["kind"] == "submission.run_count"
    ]
    assert code == 1 and finding["evidence"]["details"]["repeated_numbers"] is True


def test_a_2_gb_log_is_refused_without_being_read(capsys, tmp_path):
    organisation, folder = _submission(tmp_path)
    with open(folder / "result_3.txt", "r+b") as handle:
        handle.truncate(2 * 1024**3)  # sparse: nothing is written, the size is what a reader sees
    code, out, _ = parity(capsys, "audit", organisation, "-f", "json")
    findings = json.loads(out)["organisations"][0]["benchmarks"][0]["findings"]
    refused = [f for f in findings if f["kind"] == "log.file_refused"]
    assert refused and "larger than" in refused[0]["summary"] and code in (1, 2)
