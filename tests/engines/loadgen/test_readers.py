"""LoadGen's files read from two real published v5.1 submissions, and broken or hostile ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from parity.engines.loadgen.accuracy_log import read_accuracy_log
from parity.engines.loadgen.accuracy_text import read_accuracy_text
from parity.engines.loadgen.detail import read_detail
from parity.engines.loadgen.summary import read_summary
from parity.engines.loadgen.text_file import Unreadable
from parity.engines.loadgen.verify import read_verification

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "mlperf_inference" / "v5.1" / "closed"
LAMBDA = CORPUS / "Lambda" / "results" / "B200-SXM-180GBx8_TRT"
LAMBDA_COMPLIANCE = CORPUS / "Lambda" / "compliance" / "B200-SXM-180GBx8_TRT"
UF_COMPLIANCE = CORPUS / "University-of-Florida" / "compliance" / "B200-SXM-180GBx8_TRT"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is beside the repository")


@needs_corpus
def test_a_server_llm_summary_gives_its_metric_constraints_and_parameters():
    summary = read_summary(
        LAMBDA / "llama2-70b-99" / "Server" / "performance" / "run_1" / "mlperf_log_summary.txt"
    )
    assert (summary.scenario, summary.mode, summary.valid) == ("Server", "PerformanceOnly", True)
    assert summary.metric == ("Completed tokens per second", 99993.91)
    assert summary.constraints == dict.fromkeys(
        (
            "Performance constraints satisfied",
            "Min duration satisfied",
            "Min queries satisfied",
            "Early stopping satisfied",
        ),
        True,
    )
    assert summary.parameter("target_qps") == 364 and summary.parameters["ttft_latency"] == (
        "2000000000",
        "ns",
    )
    assert summary.parameter("min_duration") == 2400000 and summary.parameters["min_duration"][1] == "ms"
    assert summary.parameters["qsl_rng_seed"][0] == "1780908523862526354"  # kept exactly, not as a float
    assert summary.warnings and "sample_concatenate_permutation" in summary.warnings[0]


@needs_corpus
def test_every_summary_and_detail_of_the_corpus_reads_and_they_agree_on_validity():
    summaries = sorted(CORPUS.rglob("mlperf_log_summary.txt"))
    assert len(summaries) == 35
    for path in summaries:
        summary = read_summary(path)
        detail = read_detail(path.with_name("mlperf_log_detail.txt"))
        if path.parent.name == "accuracy":  # an accuracy run's summary says only that nothing went wrong
            assert summary.scenario is None and detail.effective("test_mode") == "AccuracyOnly", path
        else:
            assert summary.scenario == detail.effective("scenario"), path
            assert summary.mode == detail.effective("test_mode") == "PerformanceOnly", path
            assert summary.valid is (detail.values["result_validity"] == "VALID") is True, path
        assert detail.malformed == [] and detail.errors == [], path


@needs_corpus
def test_compliance_runs_carry_the_audit_marker_and_scored_runs_do_not():
    audited = read_detail(
        LAMBDA_COMPLIANCE
        / "stable-diffusion-xl"
        / "Server"
        / "TEST04"
        / "performance"
        / "run_1"
        / "mlperf_log_detail.txt"
    )
    scored = read_detail(
        LAMBDA / "stable-diffusion-xl" / "Server" / "performance" / "run_1" / "mlperf_log_detail.txt"
    )
    assert audited.audited and not scored.audited
    assert (
        audited.effective("performance_issue_same") == 1
        and audited.effective("performance_issue_same_index") == 3
    )
    # the scored llama2 runs were made with LoadGen 5.0.24 in a v5.1 submission: a fact the round data judges
    llama = read_detail(
        LAMBDA / "llama2-70b-99" / "Server" / "performance" / "run_1" / "mlperf_log_detail.txt"
    )
    assert llama.loadgen_version == "5.0.24 @ 24767db549"


@needs_corpus
def test_verify_files_are_read_as_claims_with_their_numbers():
    performance = read_verification(
        LAMBDA_COMPLIANCE / "stable-diffusion-xl" / "Server" / "TEST01" / "verify_performance.txt"
    )
    assert performance.passed is True
    assert (performance.score("reference"), performance.score("test")) == (28.4629, 26.2856)
    lower = read_verification(
        LAMBDA_COMPLIANCE / "stable-diffusion-xl" / "Server" / "TEST04" / "verify_performance.txt"
    )
    assert (lower.score("reference"), lower.score("test")) == (
        28.46,
        26.29,
    )  # "reference score" in lower case
    test06 = read_verification(
        LAMBDA_COMPLIANCE / "llama2-70b-99" / "Server" / "TEST06" / "verify_accuracy.txt"
    )
    assert test06.passed is None and test06.checks == {
        "First token": True,
        "EOS": True,
        "Sample length": True,
    }
    # published and accepted by the official checker: University of Florida's whisper TEST01 says FAIL
    whisper = read_verification(UF_COMPLIANCE / "whisper" / "Offline" / "TEST01" / "verify_accuracy.txt")
    assert whisper.passed is False and whisper.numbers["num_perf_log_data_mismatch"] == 74


@needs_corpus
def test_accuracy_text_keeps_each_metric_with_whether_it_is_a_percentage():
    rouge = read_accuracy_text(LAMBDA / "llama2-70b-99" / "Server" / "accuracy" / "accuracy.txt")
    assert rouge.value("rouge1") == (44.7117, False) and rouge.value("tokens_per_sample") == (276.5, False)
    assert rouge.hashes == ["1374ed3f7be8740dea68f4707436091f0042030d3ae3c16836cf51a4774da086"]
    sdxl = read_accuracy_text(LAMBDA / "stable-diffusion-xl" / "Server" / "accuracy" / "accuracy.txt")
    assert sdxl.value("FID_SCORE")[0] == pytest.approx(23.71694873832888)  # printed as a quoted string
    whisper = read_accuracy_text(
        CORPUS
        / "University-of-Florida"
        / "results"
        / "B200-SXM-180GBx8_TRT"
        / "whisper"
        / "Offline"
        / "accuracy"
        / "accuracy.txt"
    )
    assert whisper.value("accuracy") == (pytest.approx(97.85205135281745), True)


@needs_corpus
def test_accuracy_logs_truncated_for_submission_are_said_to_be_so_and_test06_logs_are_read():
    truncated = read_accuracy_log(
        LAMBDA / "llama2-70b-99" / "Server" / "accuracy" / "mlperf_log_accuracy.json"
    )
    assert truncated.truncated and truncated.entries == [] and truncated.problem == "truncated for submission"
    test06 = read_accuracy_log(
        LAMBDA_COMPLIANCE / "llama2-70b-99" / "Server" / "TEST06" / "accuracy" / "mlperf_log_accuracy.json"
    )
    assert len(test06.entries) == 100 and len(set(test06.sample_indices)) == 100
    assert all(isinstance(entry.get("token_count"), int) for entry in test06.entries)
    empty = read_accuracy_log(
        LAMBDA / "llama2-70b-99" / "Server" / "performance" / "run_1" / "mlperf_log_accuracy.json"
    )
    assert empty.entries == [] and not empty.truncated and empty.problem == ""  # a performance run logs none


def test_missing_links_fifos_binary_and_oversized_files_are_unreadable_with_a_reason(tmp_path):
    target = tmp_path / "mlperf_log_summary.txt"
    with pytest.raises(Unreadable, match="missing"):
        read_summary(target)
    (tmp_path / "real.txt").write_text("Result is : VALID\n")
    target.symlink_to(tmp_path / "real.txt")
    with pytest.raises(Unreadable, match="not a regular file"):
        read_summary(target)
    fifo = tmp_path / "verify_performance.txt"
    os.mkfifo(fifo)
    with pytest.raises(Unreadable, match="not a regular file"):
        read_verification(fifo)  # refused without opening: a FIFO would block
    binary = tmp_path / "accuracy.txt"
    binary.write_bytes(b"rouge1: 1\0\0")
    with pytest.raises(Unreadable, match="binary"):
        read_accuracy_text(binary)
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(5 * 1024 * 1024)
    with pytest.raises(Unreadable, match="over the"):
        read_summary(big)


def test_hostile_content_is_read_without_raising(tmp_path):
    summary = tmp_path / "mlperf_log_summary.txt"
    summary.write_text("Result is : VALID\nSamples per second : 1" + "0" * 5000 + "\n" + "x" * 100_000 + "\n")
    found = read_summary(summary)
    assert found.valid is True and found.metric is None  # a 5,000-digit number is no number
    log = tmp_path / "mlperf_log_accuracy.json"
    log.write_text("[" * 5000 + "]" * 5000)
    deep = read_accuracy_log(log)
    assert deep.problem == "not valid JSON (nested deeper than 64 levels)" and not deep.truncated
    log.write_text('{"qsl_idx": 1}')
    assert read_accuracy_log(log).problem == "a JSON dict, not a list of entries"
    detail = tmp_path / "mlperf_log_detail.txt"
    detail.write_text(':::MLLOG {"key": "result_validity", "value": "VALID"}\n:::MLLOG {broken\n')
    read = read_detail(detail)
    assert read.values == {"result_validity": "VALID"} and read.malformed == [(2, "record is not valid JSON")]


READERS = {
    "mlperf_log_summary.txt": read_summary,
    "mlperf_log_detail.txt": read_detail,
    "mlperf_log_accuracy.json": read_accuracy_log,
    "accuracy.txt": read_accuracy_text,
    "verify_accuracy.txt": read_verification,
    "verify_performance.txt": read_verification,
}


@needs_corpus
@pytest.mark.parametrize("name", list(READERS))
def test_mutants_of_real_files_are_read_or_unreadable_never_an_exception(tmp_path, name):
    """Byte flips, truncation, splices and hostile tokens (the fuzz harness's mutators) on corpus files."""
    import random

    from fuzz.mutate import mutate_bytes

    seeds = sorted(CORPUS.rglob(name))[:4]
    assert seeds, name
    rng = random.Random(name)
    read = unreadable = 0
    for index in range(60):
        mutant = tmp_path / f"{index}-{name}"
        mutant.write_bytes(mutate_bytes(seeds[index % len(seeds)].read_bytes()[:300_000], rng))
        try:
            READERS[name](mutant)
            read += 1
        except Unreadable as exc:
            assert "\n" not in str(exc)
            unreadable += 1
    assert read + unreadable == 60 and read > 0
