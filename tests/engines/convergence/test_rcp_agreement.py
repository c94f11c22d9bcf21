"""`--method mlperf-logging` gives mlperf-logging's verdict and normalisation factor; the rules' method says
where it differs. The classes that disagreed on the published rounds, each as a test."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cli_runner import parity
from mllog_files import record
from parity.audit.rcp import check_rcp
from parity.engines.convergence.rcp import Reference, load_references, prune

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "mlperf_logs"
CASES = (
    list(csv.DictReader((CORPUS / "rcp_agreement_cases.tsv").open(), delimiter="\t"))
    if (CORPUS / "rcp_agreement_cases.tsv").is_file()
    else []
)


@pytest.mark.skipif(not CASES, reason="the shared corpus is beside the repository in CI and sessions")
@pytest.mark.parametrize("case", CASES, ids=lambda case: case["folder"].split("/")[-1])
def test_mlperf_logging_verdict_and_factor_on_the_published_cases(case):
    result = check_rcp(CORPUS / case["folder"], case["ruleset"], "mlperf-logging")
    assert (result.verdict.status == "passed") == (case["mlperf_logging_rcp_verdict"] == "PASS")
    assert result.verdict.normalisation == pytest.approx(
        float(case["mlperf_logging_normalisation"]), abs=1e-5
    )


def _reference(name, batch_size, mean):
    return Reference(name, batch_size, (), mean, 0.03, 8)


def test_mlperf_logging_prunes_without_retesting_the_record_before_a_removal():
    # dlrm_dcnv2's 4.0.0 RCP means: the envelope drops 55296 once 102400 is gone; mlperf-logging keeps it
    references = [
        _reference("32768", 32768.0, 0.70714),
        _reference("55296", 55296.0, 0.76146),
        _reference("65536", 65536.0, 0.79107),
        _reference("102400", 102400.0, 0.89062),
        _reference("135168", 135168.0, 0.92791),
    ]
    assert [r.name for r in prune(references, "rules")] == ["32768", "135168"]
    assert [r.name for r in prune(references, "mlperf-logging")] == ["32768", "55296", "135168"]
    packaged = [
        r.name for r in prune(load_references("4.0.0", "dlrm_dcnv2", "mlperf-logging"), "mlperf-logging")
    ]
    assert "dlrm_dcnv2_ref_55296" in packaged


def _run(path, benchmark, batch, evaluations, status="success"):
    lines = [
        record("submission_benchmark", benchmark, 1),
        record("global_batch_size", batch, 2),
        record("run_start", None, 3),
        *(
            record("eval_accuracy", value, 4 + i, **metadata)
            for i, (value, metadata) in enumerate(evaluations)
        ),
        record("run_stop", None, 100, status=status),
    ]
    path.write_text("\n".join(lines) + "\n")


def test_stable_diffusion_converges_at_the_first_step_meeting_both_targets(tmp_path):
    folder = tmp_path / "v5.0" / "stable_diffusion"
    folder.mkdir(parents=True)
    evaluations = [
        (95.0, {"samples_count": 512000, "metric": "FID"}),
        (0.16, {"samples_count": 512000, "metric": "CLIP"}),
        (89.0, {"samples_count": 1024000, "metric": "FID"}),  # both met here
        (0.151, {"samples_count": 1024000, "metric": "CLIP"}),
        (91.0, {"samples_count": 1536000, "metric": "FID"}),  # the last evaluation misses FID
        (0.16, {"samples_count": 1536000, "metric": "CLIP"}),
    ]
    for index in range(10):
        _run(folder / f"result_{index}.txt", "stable_diffusion", 512, evaluations)
    result = check_rcp(folder, "5.0.0", "mlperf-logging")
    assert {run.converged_at for run in result.runs} == {1024000.0}
    assert result.verdict.status != "insufficient_convergence"


def test_gpt3_converges_where_its_epoch_num_says(tmp_path, capsys):
    folder = tmp_path / "v4.0" / "gpt3"
    folder.mkdir(parents=True)
    for index in range(3):
        _run(folder / f"result_{index}.txt", "gpt3", 1536, [(2.69, {"epoch_num": 1245708288 + index})])
    code, out, _ = parity(capsys, "rcp", "check", folder, "--method", "mlperf-logging", "-f", "json")
    runs = json.loads(out)["runs"]
    assert [run["converged_at"] for run in runs] == [1245708288, 1245708289, 1245708290], code


@pytest.mark.skipif(not CASES, reason="needs the corpus")
def test_a_folder_the_methods_judge_apart_shows_both_and_the_rules_text(capsys):
    folder = CORPUS / "rcp_cases/v4.0/Dell/results/XE9680x8H100-SXM-80GB/dlrm_dcnv2"
    code, out, _ = parity(capsys, "rcp", "check", folder, "-f", "json")
    other = json.loads(out)["other_method"]
    assert code == 0 and other["method"] == "mlperf-logging"
    assert other["normalisation"] == pytest.approx(1.02381, abs=1e-5) and "olympic" in other["rules_text"]
    _, text, _ = parity(capsys, "rcp", "check", folder)
    assert "the mlperf-logging method gives another result" in text


def test_runs_the_two_methods_judge_apart_need_review_by_default(tmp_path, capsys):
    from mllog_files import flux_runs

    # flux1 at batch size 512 in 5.1.0: the rules' minimum is 8,024,601 samples, mlperf-logging's 7,986,618
    folder = flux_runs(tmp_path / "v5.1" / "flux1", samples=8_000_000)
    code, out, _ = parity(capsys, "rcp", "check", folder, "-f", "json")
    report = json.loads(out)
    assert code == 2 and report["status"] == "faster_than_reference"
    [finding] = [f for f in report["findings"] if f["outcome"] != "allowed"]
    assert (
        finding["kind"] == "convergence.methods_disagree"
        and finding["rule"] == "training.rcp.methods-disagree"
    )
    assert report["other_method"]["status"] == "passed"
    code, out, _ = parity(capsys, "rcp", "check", folder, "--method", "mlperf-logging", "-f", "json")
    assert code == 0 and json.loads(out)["status"] == "passed"
