"""`parity audit` on inference submissions: published ones conform, mutated copies are caught and located.

The fixture (``tests/data/inference``, see its SOURCES.md) is a byte-for-byte subset of Lambda's published
v5.1 closed submission; every mutation is made on a copy in a temporary folder, and each defect class of
issue 13 is asserted at its file and, where the file has lines, its line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from parity.audit.inference_submission import audit_inference, round_from_path
from parity.audit.inference_tree import is_inference_tree
from parity.errors import BadInput

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "data" / "inference" / "v5.1" / "closed"
CORPUS = HERE.parents[2] / "shared" / "corpus" / "mlperf_inference" / "v5.1" / "closed"
SYSTEM = "B200-SXM-180GBx8_TRT"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is beside the repository")


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the fixture's division folder, under a v5.1 path (the round is told by the path)."""
    copy = tmp_path / "v5.1" / "closed"
    shutil.copytree(FIXTURE, copy)
    return copy


def org(tree: Path) -> Path:
    return tree / "Lambda"


def result(tree: Path, model: str, scenario: str) -> Path:
    return org(tree) / "results" / SYSTEM / model / scenario


def compliance(tree: Path, model: str, scenario: str, test: str) -> Path:
    return org(tree) / "compliance" / SYSTEM / model / scenario / test


def replace(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace text in a copied file; returns the 1-based line of the first replacement."""
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return line


def findings(audit, kind: str | None = None) -> list:
    """Every finding of the audit that is not allowed (of one kind)."""
    found = []
    for organisation in audit.organisations:
        judgements = [organisation.judgement, *(r.judgement for r in organisation.results)]
        found += [f for j in judgements for f in j.findings if f.outcome != "allowed"]
    return [f for f in found if kind is None or f.kind == kind]


def located(finding) -> tuple[str, int | None]:
    where = finding.evidence.locations[0]
    return where.file, where.line


def verdict_of(audit, model: str, scenario: str) -> str:
    return next(
        r.verdict.value
        for o in audit.organisations
        for r in o.results
        if (r.check.row.model, r.check.row.scenario) == (model, scenario)
    )


# --- real submissions ---------------------------------------------------------------------------------
def test_the_fixture_conforms_with_every_metric_target_and_test_in_its_row():
    audit = audit_inference(FIXTURE, "5.1", jobs=1)
    assert audit.verdict.value == "conforms", [f.summary for f in findings(audit)]
    rows = {(r.check.row.model, r.check.row.scenario): r.check.row for r in audit.organisations[0].results}
    llama = rows[("llama2-70b-99", "Offline")]
    assert (llama.metric, llama.unit, llama.valid) == (102725.0, "tokens/s", True)
    assert llama.compliance == {"TEST06": "passed"}
    assert {a["metric"] for a in llama.accuracy} == {"ROUGE1", "ROUGE2", "ROUGEL", "TOKENS_PER_SAMPLE"}
    sdxl = rows[("stable-diffusion-xl", "Offline")]
    assert sdxl.compliance == {"TEST01": "passed", "TEST04": "passed"}
    assert any("truncated" in note for note in sdxl.notes)  # TEST01's outputs: said, not counted as checked


@needs_corpus
def test_both_shared_submissions_conform():
    audit = audit_inference(CORPUS, "5.1", jobs=2)
    assert [o.organisation.name for o in audit.organisations] == ["Lambda", "University-of-Florida"]
    assert audit.verdict.value == "conforms", [f.summary for f in findings(audit)]
    assert sum(len(o.results) for o in audit.organisations) == 11
    # University-of-Florida's TEST01 verify file quotes an earlier run's score; recomputed, the test passes
    stale = [
        f
        for o in audit.organisations
        for r in o.results
        for f in r.judgement.findings
        if f.kind == "result.claim_stale"
    ]
    assert [(f.outcome, f.evidence.metrics) for f in stale] == [
        ("allowed", {"claimed": 31.8603, "recomputed": 31.935})
    ]
    assert stale[0].rule == "inference.audit.stale-verify-reference"


def test_the_round_and_the_kind_of_tree_are_told_from_the_path(tree):
    assert round_from_path(tree) == "5.1" and is_inference_tree(tree) and is_inference_tree(org(tree))
    assert not is_inference_tree(tree / "Lambda" / "systems")
    with pytest.raises(BadInput, match="round"):
        audit_inference(tree, "9.9")


# --- mutated copies, one defect class each -------------------------------------------------------------
def test_an_invalid_scored_run_violates_at_its_line(tree):
    detail = result(tree, "stable-diffusion-xl", "Server") / "performance" / "run_1" / "mlperf_log_detail.txt"
    line = replace(detail, '"result_validity", "value": "VALID"', '"result_validity", "value": "INVALID"')
    audit = audit_inference(tree, "5.1", jobs=1)
    [finding] = [f for f in findings(audit, "result.invalid") if "LoadGen says" in f.summary]
    assert located(finding) == (str(detail), line) and finding.rule == "inference.results.valid"
    assert verdict_of(audit, "stable-diffusion-xl", "Server") == "violates"
    assert verdict_of(audit, "stable-diffusion-xl", "Offline") == "conforms"  # the rest is still audited


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("'CLIP_SCORE': '31.79962874919176'", "'CLIP_SCORE': '30.1'", "result.accuracy_below_target"),
        ("'FID_SCORE': '23.753057163893118'", "'FID_SCORE': '25.0'", "result.accuracy_above_limit"),
    ],
)
def test_accuracy_below_the_target_or_above_the_limit_is_located_at_the_printed_line(tree, old, new, kind):
    text = result(tree, "stable-diffusion-xl", "Offline") / "accuracy" / "accuracy.txt"
    line = replace(text, old, new)
    [finding] = findings(audit_inference(tree, "5.1", jobs=1), kind)
    assert located(finding) == (str(text), line) and finding.outcome == "forbidden"


def test_an_accuracy_folder_holding_a_performance_run_is_not_an_accuracy_run(tree):
    folder = result(tree, "stable-diffusion-xl", "Offline")
    shutil.copy(folder / "performance" / "run_1" / "mlperf_log_detail.txt", folder / "accuracy")
    [finding] = findings(audit_inference(tree, "5.1", jobs=1), "result.not_an_accuracy_run")
    assert "PerformanceOnly" in finding.summary
    assert located(finding)[0] == str(folder / "accuracy" / "mlperf_log_detail.txt")


def test_an_accuracy_run_over_part_of_the_dataset_is_not_an_accuracy_run(tree):
    detail = result(tree, "stable-diffusion-xl", "Server") / "accuracy" / "mlperf_log_detail.txt"
    replace(detail, '"generated_query_count", "value": 5000', '"generated_query_count", "value": 100')
    [finding] = findings(audit_inference(tree, "5.1", jobs=1), "result.not_an_accuracy_run")
    assert finding.evidence.metrics == {"samples_run": 100, "dataset_size": 5000}


@pytest.mark.parametrize(
    ("model", "old", "new", "setting"),
    [
        ("stable-diffusion-xl", '"effective_qsl_rng_seed", "value": 1780908523862526354',
         '"effective_qsl_rng_seed", "value": 42', "qsl_rng_seed"),
        ("stable-diffusion-xl", '"effective_min_duration_ms", "value": 600000',
         '"effective_min_duration_ms", "value": 60000', "min_duration_ms"),
        ("llama2-70b-99", '"effective_sample_concatenate_permutation", "value": true',
         '"effective_sample_concatenate_permutation", "value": false', "sample_concatenate_permutation"),
    ],
)  # fmt: skip
def test_settings_other_than_the_rounds_are_located_at_their_record(tree, model, old, new, setting):
    detail = result(tree, model, "Offline") / "performance" / "run_1" / "mlperf_log_detail.txt"
    line = replace(detail, old, new)
    [finding] = findings(audit_inference(tree, "5.1", jobs=1), "result.settings_changed")
    assert located(finding) == (str(detail), line) and finding.evidence.details["setting"] == setting


def test_a_server_target_above_the_latency_bound_is_exceeded(tree):
    detail = result(tree, "stable-diffusion-xl", "Server") / "performance" / "run_1" / "mlperf_log_detail.txt"
    line = replace(
        detail,
        '"effective_target_latency_ns", "value": 20000000000',
        '"effective_target_latency_ns", "value": 25000000000',
    )
    [finding] = findings(audit_inference(tree, "5.1", jobs=1), "result.latency_exceeded")
    assert located(finding) == (str(detail), line)
    assert finding.evidence.metrics["bound"] == 20_000_000_000


def test_test04_faster_than_the_scored_run_fails_from_its_detail_whatever_its_summary_and_verify_say(tree):
    # issue 25, class 2: a caching run 2.09x faster than the scored one, whose summary line and verify
    # file were edited back to the published figures; the detail log is the record and decides
    run = compliance(tree, "stable-diffusion-xl", "Offline", "TEST04") / "performance" / "run_1"
    replace(
        run / "mlperf_log_detail.txt",
        '"result_samples_per_second", "value": 34.2113',
        '"result_samples_per_second", "value": 68.0694',
    )
    audit = audit_inference(tree, "5.1", jobs=1)
    [failed] = findings(audit, "result.compliance_failed")
    assert failed.evidence.metrics["reference_score"] == 32.5691
    assert failed.evidence.metrics["test_score"] == 68.0694 and failed.outcome == "forbidden"
    [copy] = findings(audit, "result.copies_disagree")  # the summary still prints 34.2113
    assert located(copy)[0] == str(run / "mlperf_log_summary.txt") and copy.outcome == "needs_review"
    assert copy.evidence.metrics == {"summary": 34.2113, "detail": 68.0694}
    claims = findings(audit, "result.claim_disagrees")  # the verify file says 34.2113 and TEST PASS
    assert {c.evidence.details.get("score", "verdict") for c in claims} == {"test", "verdict"}
    assert verdict_of(audit, "stable-diffusion-xl", "Offline") == "violates"


def test_a_summary_that_disagrees_with_its_detail_on_the_score_goes_to_review(tree):
    # the summary alone edited (TEST04's or the scored run's): the detail decides, a reviewer is told
    test04 = compliance(tree, "stable-diffusion-xl", "Offline", "TEST04") / "performance" / "run_1"
    replace(test04 / "mlperf_log_summary.txt", "Samples per second: 34.2113", "Samples per second: 40.5")
    scored = result(tree, "stable-diffusion-xl", "Offline") / "performance" / "run_1"
    replace(scored / "mlperf_log_summary.txt", "Samples per second: 32.5691", "Samples per second: 65.1")
    audit = audit_inference(tree, "5.1", jobs=1)
    copies = {located(f)[0]: f.evidence.metrics for f in findings(audit, "result.copies_disagree")}
    assert copies == {
        str(test04 / "mlperf_log_summary.txt"): {"summary": 40.5, "detail": 34.2113},
        str(scored / "mlperf_log_summary.txt"): {"summary": 65.1, "detail": 32.5691},
    }
    assert not findings(audit, "result.compliance_failed")  # recomputed from the details, TEST04 passes
    rows = {(r.check.row.model, r.check.row.scenario): r.check.row for r in audit.organisations[0].results}
    row = rows[("stable-diffusion-xl", "Offline")]
    assert row.metric == 32.5691  # the table shows the detail's figure
    assert verdict_of(audit, "stable-diffusion-xl", "Offline") == "needs_review"


def test_test01_outside_its_band_fails(tree):
    detail = compliance(tree, "stable-diffusion-xl", "Offline", "TEST01") / "performance" / "run_1"
    replace(
        detail / "mlperf_log_detail.txt",
        '"result_samples_per_second", "value": 32.5434',
        '"result_samples_per_second", "value": 20.0',
    )
    [failed] = findings(audit_inference(tree, "5.1", jobs=1), "result.compliance_failed")
    assert failed.evidence.metrics["test_score"] == 20.0 and "TEST01" in failed.summary


def test_a_compliance_log_copied_from_the_scored_run_was_not_audited(tree):
    scored = result(tree, "stable-diffusion-xl", "Server") / "performance" / "run_1"
    test = compliance(tree, "stable-diffusion-xl", "Server", "TEST04") / "performance" / "run_1"
    for name in ("mlperf_log_detail.txt", "mlperf_log_summary.txt"):
        shutil.copy(scored / name, test / name)
    [finding] = findings(audit_inference(tree, "5.1", jobs=1), "result.compliance_not_audited")
    assert "byte-identical" in finding.summary and located(finding)[0] == str(test / "mlperf_log_detail.txt")


def test_a_compliance_run_without_the_audit_marker_and_settings_was_not_audited(tree):
    detail = (
        compliance(tree, "stable-diffusion-xl", "Offline", "TEST04")
        / "performance"
        / "run_1"
        / "mlperf_log_detail.txt"
    )
    replace(
        detail,
        "Found Audit Config file (audit.config). Overriding TestSettings from audit.config file.",
        "Nothing to override.",
    )
    replace(
        detail,
        '"effective_performance_issue_same", "value": true',
        '"effective_performance_issue_same", "value": false',
    )
    found = findings(audit_inference(tree, "5.1", jobs=1), "result.compliance_not_audited")
    assert {f.evidence.details.get("setting") for f in found} == {None, "performance_issue_same"}


def _test06_log(tree) -> Path:
    return compliance(tree, "llama2-70b-99", "Offline", "TEST06") / "accuracy" / "mlperf_log_accuracy.json"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[]", "no entries"),
        ('{"qsl_idx": 1}', "not a list"),
        ('[{"seq_id": 0, "qsl_idx": 3, "data": "0A', "truncated"),
    ],
)
def test_test06_evidence_that_is_empty_not_a_list_or_cut_is_unverifiable_not_a_pass(tree, content, problem):
    _test06_log(tree).write_text(content, encoding="utf-8")
    audit = audit_inference(tree, "5.1", jobs=1)
    [finding] = findings(audit, "result.evidence_missing")
    assert problem in finding.summary and located(finding)[0] == str(_test06_log(tree))
    assert verdict_of(audit, "llama2-70b-99", "Offline") == "violates"


def test_test06_recomputed_catches_repeated_eos_and_odd_hex_and_contradicts_the_verify_file(tree):
    log = _test06_log(tree)
    entries = json.loads(log.read_text(encoding="utf-8"))
    entries[0]["data"] += "02000000" * 2  # two trailing EOS tokens (Llama-2's id 2, int32)
    entries[0]["token_count"] += 2
    entries[1]["data"] = entries[1]["data"][:-1]  # an odd number of hex digits
    log.write_text(json.dumps(entries), encoding="utf-8")
    audit = audit_inference(tree, "5.1", jobs=1)
    checks = {f.evidence.details["check"] for f in findings(audit, "result.compliance_failed")}
    assert checks == {"EOS", "Sample length"}
    claimed = {f.evidence.details["check"] for f in findings(audit, "result.claim_disagrees")}
    assert claimed == {"EOS", "Sample length"}  # verify_accuracy.txt said True for both


def test_a_missing_compliance_test_and_a_missing_log_are_findings_and_the_rest_is_audited(tree):
    shutil.rmtree(compliance(tree, "stable-diffusion-xl", "Server", "TEST04"))
    (result(tree, "llama2-70b-99", "Offline") / "performance" / "run_1" / "mlperf_log_detail.txt").unlink()
    audit = audit_inference(tree, "5.1", jobs=1)
    missing = {Path(located(f)[0]).name for f in findings(audit, "result.evidence_missing")}
    assert missing == {"TEST04", "mlperf_log_detail.txt"}
    assert verdict_of(audit, "stable-diffusion-xl", "Offline") == "conforms"


def test_a_loadgen_of_another_release_goes_to_review(tree):
    detail = (
        result(tree, "stable-diffusion-xl", "Offline") / "performance" / "run_1" / "mlperf_log_detail.txt"
    )
    line = replace(detail, '"value": "5.0.25 @ 5232291860"', '"value": "4.1 @ 379ee5345a"')
    [finding] = findings(audit_inference(tree, "5.1", jobs=1), "result.loadgen_build")
    assert located(finding) == (str(detail), line) and finding.outcome == "needs_review"


# --- hostile and broken input --------------------------------------------------------------------------
def test_binary_oversized_and_truncated_files_are_findings_never_errors(tree):
    sdxl = result(tree, "stable-diffusion-xl", "Offline")
    (sdxl / "accuracy" / "accuracy.txt").write_bytes(b"\x00\x01binary")
    detail = result(tree, "stable-diffusion-xl", "Server") / "performance" / "run_1" / "mlperf_log_detail.txt"
    with open(detail, "r+b") as handle:  # a 300 MB sparse file: over the limit, never read
        handle.truncate(300 * 1024 * 1024)
    llama = result(tree, "llama2-70b-99", "Offline") / "performance" / "run_1" / "mlperf_log_detail.txt"
    data = llama.read_bytes()
    llama.write_bytes(data[: len(data) // 3])  # cut mid-record: the validity record is gone
    audit = audit_inference(tree, "5.1", jobs=1)
    problems = {Path(located(f)[0]).name: f.summary for f in findings(audit, "result.evidence_missing")}
    assert "binary" in problems["accuracy.txt"] and "limit" in problems["mlperf_log_detail.txt"]
    assert any("INVALID" in f.summary or "nothing" in f.summary for f in findings(audit, "result.invalid"))


def test_a_measurements_json_with_odd_types_is_read_and_empty_fields_are_found(tree):
    measurements = org(tree) / "measurements" / SYSTEM / "stable-diffusion-xl" / "Offline"
    path = measurements / f"{SYSTEM}_Offline.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["weight_data_types"] = {"unet": "fp8", "vae": "fp16"}  # the dict that crashed the v5.1 checker
    data["retraining"] = ""
    path.write_text(json.dumps(data), encoding="utf-8")
    [finding] = findings(audit_inference(tree, "5.1", jobs=1), "result.evidence_missing")
    assert "retraining" in finding.summary and "weight_data_types" not in finding.summary


def test_unknown_models_and_scenarios_are_not_in_the_round(tree):
    shutil.copytree(result(tree, "stable-diffusion-xl", "Offline"), result(tree, "gpt-17", "Offline"))
    shutil.copytree(
        result(tree, "stable-diffusion-xl", "Offline"), result(tree, "stable-diffusion-xl", "Sideways")
    )
    summaries = {f.summary for f in findings(audit_inference(tree, "5.1", jobs=1), "result.not_in_round")}
    assert any("gpt-17" in s for s in summaries) and any("Sideways" in s for s in summaries)


def test_links_and_hygiene_are_found_and_links_are_not_followed(tree, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    text = result(tree, "stable-diffusion-xl", "Offline") / "accuracy" / "accuracy.txt"
    text.unlink()
    text.symlink_to(outside)
    (org(tree) / "results" / ".DS_Store").write_bytes(b"x")
    (org(tree) / "documentation" / "calibration.md").write_text("", encoding="utf-8")
    audit = audit_inference(tree, "5.1", jobs=1)
    assert [located(f)[0] for f in findings(audit, "log.file_refused")] == [str(text)]
    hygiene = {f.summary for f in findings(audit, "submission.hygiene")}
    assert any(".DS_Store" in s for s in hygiene) and any("empty calibration" in s for s in hygiene)
    assert any("not a regular file" in f.summary for f in findings(audit, "result.evidence_missing"))


def test_the_audit_modifies_nothing(tree):
    def digest() -> str:
        files = sorted(p for p in tree.rglob("*") if p.is_file())
        return hashlib.sha256(b"".join(p.read_bytes() + os.fsencode(p) for p in files)).hexdigest()

    before = digest()
    audit_inference(tree, "5.1", jobs=2)
    assert digest() == before


def test_the_v6_layout_with_tests_and_measurements_beside_the_result_conforms(tree):
    lambda_org = org(tree)
    for folder in sorted((lambda_org / "results" / SYSTEM).glob("*/*")):
        relative = folder.relative_to(lambda_org / "results")
        for test in (lambda_org / "compliance" / relative).iterdir():
            shutil.move(test, folder / test.name)
        for item in (lambda_org / "measurements" / relative).iterdir():
            shutil.move(item, folder / item.name)
    shutil.rmtree(lambda_org / "compliance")
    shutil.rmtree(lambda_org / "measurements")
    audit = audit_inference(tree, "5.1", jobs=1)
    assert audit.verdict.value == "conforms", [f.summary for f in findings(audit)]
    assert all(r.check.row.compliance for r in audit.organisations[0].results)


def test_a_linked_folder_is_not_followed(tree, tmp_path):
    run = result(tree, "stable-diffusion-xl", "Offline") / "performance" / "run_1"
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run, elsewhere)
    run.symlink_to(elsewhere, target_is_directory=True)
    audit = audit_inference(tree, "5.1", jobs=1)
    assert any(located(f)[0] == str(run) for f in findings(audit, "log.file_refused"))
    unread = [f for f in findings(audit, "result.evidence_missing") if "linked folder" in f.summary]
    assert unread and all(located(f)[0].startswith(str(run)) for f in unread)


# --- the command ---------------------------------------------------------------------------------------
def test_the_command_audits_an_inference_tree_with_its_exit_code_and_deterministic_json(tree, capsys):
    from cli_runner import parity

    code, out, err = parity(capsys, "--quiet", "audit", tree, "-f", "json")
    again = parity(capsys, "--quiet", "audit", tree, "-f", "json")[1]
    assert (code, err) == (0, "") and out == again
    data = json.loads(out)
    assert data["format"] == "parity-inference-audit" and data["round"] == "5.1"
    assert len(data["organisations"][0]["results"]) == 3
    detail = result(tree, "stable-diffusion-xl", "Server") / "performance" / "run_1" / "mlperf_log_detail.txt"
    replace(detail, '"result_validity", "value": "VALID"', '"result_validity", "value": "INVALID"')
    code, out, _ = parity(capsys, "--quiet", "audit", tree)
    assert code == 1 and "inference.results.valid" in out and f"{detail}:" in out
    for format in ("markdown", "junit", "html"):
        code, out, _ = parity(capsys, "--quiet", "audit", tree, "-f", format)
        assert code == 1 and "inference.results.valid" in out


def test_the_command_refuses_an_unknown_round_in_one_line(tree, capsys):
    from cli_runner import parity

    code, out, err = parity(capsys, "--quiet", "audit", tree, "--ruleset", "4.2")
    assert code == 3 and out == "" and err.count("\n") == 1 and "4.2" in err


def test_test01_outputs_are_compared_where_both_logs_are_whole(tree):
    entries = [{"seq_id": i, "qsl_idx": i, "data": f"{i:08X}"} for i in range(50)]
    accuracy = result(tree, "stable-diffusion-xl", "Offline") / "accuracy" / "mlperf_log_accuracy.json"
    accuracy.write_text(json.dumps(entries), encoding="utf-8")
    logged = (
        compliance(tree, "stable-diffusion-xl", "Offline", "TEST01") / "accuracy" / "mlperf_log_accuracy.json"
    )
    logged.write_text(json.dumps(entries[::7]), encoding="utf-8")
    audit = audit_inference(tree, "5.1", jobs=1)
    assert not findings(audit, "result.compliance_failed")  # the same outputs for the same samples
    changed = [dict(e) for e in entries[::7]]
    changed[2]["data"] = "DEADBEEF"
    logged.write_text(json.dumps(changed), encoding="utf-8")
    # the verify file says TEST PASS (its script may compare a prefix only): a reviewer decides
    claims = findings(audit_inference(tree, "5.1", jobs=1), "result.claim_disagrees")
    [claim] = [c for c in claims if "differ" in c.summary]  # (and its count of 116 outputs, not 8)
    assert "1 of 8" in claim.summary and claim.outcome == "needs_review"
    verify = logged.parents[1] / "verify_accuracy.txt"
    verify.write_text(verify.read_text(encoding="utf-8").replace("TEST PASS", "TEST FAIL"), encoding="utf-8")
    [failed] = findings(audit_inference(tree, "5.1", jobs=1), "result.compliance_failed")
    assert "1 of 8" in failed.summary and located(failed)[0] == str(logged)


def test_test01_with_truncated_logs_rests_on_its_verify_file(tree):
    verify = compliance(tree, "stable-diffusion-xl", "Offline", "TEST01") / "verify_accuracy.txt"
    replace(verify, "TEST PASS", "TEST FAIL")
    [failed] = findings(audit_inference(tree, "5.1", jobs=1), "result.compliance_failed")
    assert "does not say TEST PASS" in failed.summary and located(failed)[0] == str(verify)


SCENARIO = ('"effective_scenario", "value": "Offline"', '"effective_scenario", "value": ["Offline"]')
DURATION = ('"effective_min_duration_ms", "value": 600000', '"effective_min_duration_ms", "value": NaN')


@pytest.mark.parametrize(
    ("where", "change", "verdict"),
    [
        ("scored", SCENARIO, "violates"),
        ("scored", DURATION, "violates"),  # a NaN duration is not at least 600 s
        ("verify", ("num_perf_log_entries = 116", "num_perf_log_entries = 1e400"), "conforms"),
    ],
)
def test_values_of_unexpected_types_are_findings_not_crashes(tree, where, change, verdict):
    old, new = change
    sdxl = result(tree, "stable-diffusion-xl", "Offline")
    path = (
        sdxl / "performance" / "run_1" / "mlperf_log_detail.txt"
        if where == "scored"
        else compliance(tree, "stable-diffusion-xl", "Offline", "TEST01") / "verify_accuracy.txt"
    )
    replace(path, old, new)
    accuracy = (
        compliance(tree, "stable-diffusion-xl", "Offline", "TEST01") / "accuracy" / "mlperf_log_accuracy.json"
    )
    accuracy.write_text('[{"qsl_idx": [0], "data": "00"}]', encoding="utf-8")  # a list where an index goes
    audit = audit_inference(tree, "5.1", jobs=1)
    assert verdict_of(audit, "stable-diffusion-xl", "Offline") == verdict
    assert verdict_of(audit, "stable-diffusion-xl", "Server") == "conforms"  # the rest is audited


def test_a_loadgen_source_matching_no_version_of_the_rounds_window_goes_to_review(tree):
    detail = (
        result(tree, "stable-diffusion-xl", "Offline") / "performance" / "run_1" / "mlperf_log_detail.txt"
    )
    text = detail.read_text(encoding="utf-8")
    start = text.index('"/loadgen.cc":"') + len('"/loadgen.cc":"')
    detail.write_text(text[:start] + "0" * 40 + text[start + 40 :], encoding="utf-8")
    [finding] = findings(audit_inference(tree, "5.1", jobs=1), "result.loadgen_build")
    assert finding.evidence.details["files"] == ["/loadgen.cc"] and finding.outcome == "needs_review"
    assert finding.evidence.details["window"] == "v5.0..v5.1.1"


# --- issue 25: verdicts that cannot be flipped -------------------------------------------------------
SDXL_ACCURACY = "Accuracy Results: {'FID_SCORE': '23.753057163893118', 'CLIP_SCORE': '31.79962874919176'}\n"
ZERO_FID = SDXL_ACCURACY.replace("'FID_SCORE': '23.753057163893118'", "'FID_SCORE': '0'")


def _test01_non_deterministic(tree, baseline: str | None, compliance_text: str | None) -> Path:
    """TEST01 of SDXL Offline taking the non-deterministic path: its verify file says TEST FAIL."""
    test01 = compliance(tree, "stable-diffusion-xl", "Offline", "TEST01")
    replace(test01 / "verify_accuracy.txt", "TEST PASS", "TEST FAIL")
    for name, text in (("baseline_accuracy.txt", baseline), ("compliance_accuracy.txt", compliance_text)):
        if text is not None:
            (test01 / "accuracy" / name).write_text(text, encoding="utf-8")
    return test01 / "accuracy"


def test_test01_subset_accuracies_are_read_and_held_to_the_models_delta(tree):
    # class 1: a 10 % compliance accuracy against the accuracy run's passed as soon as both files existed
    folder = _test01_non_deterministic(
        tree, SDXL_ACCURACY, SDXL_ACCURACY.replace("31.79962874919176", "3.18")
    )
    audit = audit_inference(tree, "5.1", jobs=1)
    [failed] = findings(audit, "result.compliance_failed")
    assert located(failed) == (str(folder / "compliance_accuracy.txt"), 1)
    assert failed.evidence.details["metric"] == "CLIP_SCORE"
    assert failed.evidence.metrics["allowed_percent"] == 1  # the round's delta for SDXL's CLIP score
    assert failed.evidence.metrics["delta_percent"] > 800  # |1 - 31.80 / 3.18| = 900 %
    assert verdict_of(audit, "stable-diffusion-xl", "Offline") == "violates"


@pytest.mark.parametrize(
    ("baseline", "compliance_text", "verdict", "kind"),
    [
        (SDXL_ACCURACY, SDXL_ACCURACY.replace("31.79962874919176", "31.6"), "conforms", None),
        ("", "", "violates", "result.evidence_missing"),  # two empty files: never a pass
        (SDXL_ACCURACY, "Accuracy Results: {}\n", "violates", "result.evidence_missing"),
        (SDXL_ACCURACY, None, "violates", "result.evidence_missing"),  # one of the two is missing
        (SDXL_ACCURACY, ZERO_FID, "violates", "result.compliance_failed"),  # 0: the checker's "not found"
    ],
)  # fmt: skip
def test_test01_subset_accuracies_that_are_empty_absent_or_zero_are_never_a_pass(
    tree, baseline, compliance_text, verdict, kind
):
    _test01_non_deterministic(tree, baseline, compliance_text)
    audit = audit_inference(tree, "5.1", jobs=1)
    assert verdict_of(audit, "stable-diffusion-xl", "Offline") == verdict, [
        f.summary for f in findings(audit)
    ]
    if kind:
        assert any("TEST01" in f.summary or "subset" in f.summary for f in findings(audit, kind))


def _open_division(tree: Path, tmp_path: Path, model: str) -> Path:
    """The fixture as an Open submission, its SDXL folders renamed to ``model``."""
    division = tmp_path / "v5.1" / "open"
    shutil.move(tree, division)
    for part in ("results", "compliance", "measurements"):
        folder = division / "Lambda" / part / SYSTEM
        shutil.move(folder / "stable-diffusion-xl", folder / model)
    return division


def test_an_open_result_of_a_look_alike_model_is_not_in_the_round_and_the_rest_is_still_checked(
    tree, tmp_path
):
    # class 3: "stable-diffusion-xl" with a Cyrillic x: an INVALID run at 5 % of the CLIP target conformed
    lookalike = "stable-diffusion-\u0445l"
    division = _open_division(tree, tmp_path, lookalike)
    folder = division / "Lambda" / "results" / SYSTEM / lookalike / "Offline"
    replace(
        folder / "performance" / "run_1" / "mlperf_log_detail.txt",
        '"result_validity", "value": "VALID"',
        '"result_validity", "value": "INVALID"',
    )
    replace(folder / "accuracy" / "accuracy.txt", "'CLIP_SCORE': '31.79962874919176'", "'CLIP_SCORE': '1.6'")
    audit = audit_inference(division, "5.1", jobs=1)
    unknown = [f for f in findings(audit, "result.not_in_round") if lookalike in f.summary]
    assert len(unknown) == 2 and all(f.outcome == "forbidden" for f in unknown)  # Offline and Server
    assert any("LoadGen says INVALID" in f.summary for f in findings(audit, "result.invalid"))
    assert verdict_of(audit, lookalike, "Offline") == "violates"
    assert verdict_of(audit, "llama2-70b-99", "Offline") == "conforms"


def test_an_open_model_named_through_the_organisations_model_mapping_is_the_rounds(tree, tmp_path):
    division = _open_division(tree, tmp_path, "sdxl-distilled")
    assert findings(audit_inference(division, "5.1", jobs=1), "result.not_in_round")
    (division / "Lambda" / "model_mapping.json").write_text('{"sdxl-distilled": "stable-diffusion-xl"}')
    audit = audit_inference(division, "5.1", jobs=1)
    assert not findings(audit, "result.not_in_round")
    assert verdict_of(audit, "sdxl-distilled", "Offline") == "conforms"


def _drop_record(path: Path, key: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if f'"key": "{key}"' not in line]
    assert len(kept) < len(lines), key
    path.write_text("".join(kept), encoding="utf-8")


@pytest.mark.parametrize(
    ("run", "key", "needed"),
    [
        ("accuracy", "generated_query_count", "samples the accuracy run issued"),  # class 4
        ("performance/run_1", "effective_scenario", "scenario"),
        ("performance/run_1", "result_completed_samples_per_sec", "score"),
        ("performance/run_1", "loadgen_file_sha1", "LoadGen sources"),
        ("performance/run_1", "loadgen_git_status_message", "LoadGen build"),
    ],
)
def test_a_deleted_record_a_check_needs_is_a_finding_never_a_silent_pass(tree, run, key, needed):
    _drop_record(result(tree, "stable-diffusion-xl", "Server") / run / "mlperf_log_detail.txt", key)
    audit = audit_inference(tree, "5.1", jobs=1)
    missing = [f for f in findings(audit, "result.evidence_missing") if key in f.summary]
    assert missing and any(needed in f.summary for f in missing), [f.summary for f in findings(audit)]
    assert verdict_of(audit, "stable-diffusion-xl", "Server") == "violates"


def test_a_summary_without_its_validity_line_is_unverifiable(tree):
    summary = (
        result(tree, "stable-diffusion-xl", "Server") / "performance" / "run_1" / "mlperf_log_summary.txt"
    )
    replace(summary, "Result is : VALID\n", "")
    audit = audit_inference(tree, "5.1", jobs=1)
    assert any("no 'Result is'" in f.summary for f in findings(audit, "result.evidence_missing"))
    assert verdict_of(audit, "stable-diffusion-xl", "Server") == "violates"


def test_non_finite_numbers_are_refused_where_they_are_read(tree, capsys):
    # class 5: a scored run of 1e999 samples/s conformed; TEST01 passed (inf within 10 % of inf)
    sdxl = result(tree, "stable-diffusion-xl", "Offline")
    test01 = compliance(tree, "stable-diffusion-xl", "Offline", "TEST01") / "performance" / "run_1"
    replace(
        sdxl / "performance" / "run_1" / "mlperf_log_detail.txt",
        '"result_samples_per_second", "value": 32.5691',
        '"result_samples_per_second", "value": 1e999',
    )
    replace(sdxl / "performance" / "run_1" / "mlperf_log_summary.txt", "32.5691", "1e999")
    replace(
        test01 / "mlperf_log_detail.txt",
        '"result_samples_per_second", "value": 32.5434',
        '"result_samples_per_second", "value": 1e999',
    )
    server = result(tree, "stable-diffusion-xl", "Server") / "accuracy" / "accuracy.txt"
    replace(server, "'CLIP_SCORE': '", "'CLIP_SCORE': '" + "9" * 400)  # a float holds no such number
    audit = audit_inference(tree, "5.1", jobs=1)
    missing = [f.summary for f in findings(audit, "result.evidence_missing")]
    assert any("result_samples_per_second record is not a finite number" in s for s in missing), missing
    assert any("CLIP_SCORE no float holds" in s for s in missing)
    rows = {(r.check.row.model, r.check.row.scenario): r.check.row for r in audit.organisations[0].results}
    assert rows[("stable-diffusion-xl", "Offline")].metric is None
    assert rows[("stable-diffusion-xl", "Offline")].compliance["TEST01"] == "unverifiable"
    assert verdict_of(audit, "stable-diffusion-xl", "Offline") == "violates"
    assert verdict_of(audit, "stable-diffusion-xl", "Server") == "violates"
    from cli_runner import parity

    code, out, _ = parity(capsys, "--quiet", "audit", tree, "-f", "json")
    assert code == 1 and "Infinity" not in out and "NaN" not in out


def test_folders_nested_past_the_bound_are_a_finding_not_a_crash(tree, capsys):
    # class 13: 1,200 nested folders in one organisation ended the audit of the round in exit 4
    top = org(tree) / "documentation" / "d"
    deep = top
    deep.mkdir()
    for _ in range(1199):  # (pathlib's mkdir(parents=True) is itself recursive)
        deep = deep / "d"
        deep.mkdir()
    (deep / "note.txt").write_text("deep", encoding="utf-8")
    try:
        audit = audit_inference(tree, "5.1", jobs=1)
        [nested] = [f for f in findings(audit, "submission.hygiene") if "nested" in f.summary]
        assert "64" in nested.summary and located(nested)[0].count("/d") == 64
        from cli_runner import parity

        code, _, err = parity(capsys, "--quiet", "audit", tree)
        assert code == 1 and err == ""
    finally:  # removed bottom-up: shutil.rmtree (pytest's clean-up) recurses and would fail on it
        (deep / "note.txt").unlink()
        while deep != top.parent:
            deep.rmdir()
            deep = deep.parent


@pytest.mark.parametrize(
    ("old", "new", "kind", "said"),
    [
        # a VALID run whose constraint record is false: LoadGen logs VALID only when every one is true
        (
            '"key": "result_min_duration_met", "value": true',
            '"key": "result_min_duration_met", "value": false',
            "result.copies_disagree",
            "result_min_duration_met is false",
        ),
        (
            '"key": "early_stopping_met", "value": true',
            '"key": "early_stopping_met", "value": false',
            "result.copies_disagree",
            "early_stopping_met is false",
        ),
        # errors counted but not recorded: the official checker reads num_errors and refuses the run
        ('"key": "num_errors", "value": 0', '"key": "num_errors", "value": 3', "result.invalid", "counts 3"),
        (
            '"key": "num_errors", "value": 0',
            '"key": "num_errors", "value": 3',
            "result.copies_disagree",
            "holds 0",
        ),
        # a scored performance result that is an accuracy run
        (
            '"key": "effective_test_mode", "value": "PerformanceOnly"',
            '"key": "effective_test_mode", "value": "AccuracyOnly"',
            "result.settings_changed",
            "test_mode is AccuracyOnly",
        ),
        # a record LoadGen never writes: not a finite number, even where no check reads it
        (
            '"key": "qsl_reported_performance_count", "value": ',
            '"key": "qsl_reported_performance_count", "value": 1e999, "x": ',
            "result.evidence_missing",
            "qsl_reported_performance_count",
        ),
    ],
)
def test_records_of_a_scored_run_that_contradict_each_other_are_findings(tree, old, new, kind, said):
    replace(
        result(tree, "stable-diffusion-xl", "Server") / "performance" / "run_1" / "mlperf_log_detail.txt",
        old,
        new,
    )
    audit = audit_inference(tree, "5.1", jobs=1)
    assert any(said in f.summary for f in findings(audit, kind)), [f.summary for f in findings(audit)]
    assert verdict_of(audit, "stable-diffusion-xl", "Server") != "conforms"


def test_a_whole_accuracy_log_that_is_not_the_one_hashed_in_accuracy_txt_is_a_finding(tree):
    # the truncation script hashes the whole log into accuracy.txt before cutting it; '[]' is whole and
    # is not that log (an accuracy computed from other outputs)
    log = result(tree, "stable-diffusion-xl", "Server") / "accuracy" / "mlperf_log_accuracy.json"
    log.write_text("[]", encoding="utf-8")
    audit = audit_inference(tree, "5.1", jobs=1)
    disagree = [f.summary for f in findings(audit, "result.copies_disagree")]
    assert any("is whole, but its SHA-256" in s for s in disagree), disagree
    assert verdict_of(audit, "stable-diffusion-xl", "Server") == "needs_review"


def test_a_whole_accuracy_log_with_its_own_hash_in_accuracy_txt_conforms(tree):
    import hashlib

    folder = result(tree, "stable-diffusion-xl", "Server") / "accuracy"
    whole = b'[\n{ "seq_id" : 0, "qsl_idx" : 1011, "data" : "8A57" }\n]\n'
    (folder / "mlperf_log_accuracy.json").write_bytes(whole)
    text = (folder / "accuracy.txt").read_text(encoding="utf-8")
    recorded = text.split("hash=")[1].strip()
    replace(folder / "accuracy.txt", recorded, hashlib.sha256(whole).hexdigest())
    audit = audit_inference(tree, "5.1", jobs=1)
    assert not findings(audit, "result.copies_disagree")
    assert verdict_of(audit, "stable-diffusion-xl", "Server") == "conforms"
