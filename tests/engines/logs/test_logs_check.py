"""`parity logs check` on the real corpus, on crafted hostile logs, and on bad input."""

import builtins
import csv
import json
from pathlib import Path

import pytest

from cli_runner import parity
from parity.audit.logs import check_logs

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "mlperf_logs"
ROWS = (
    list(csv.DictReader((CORPUS / "baseline" / "corpus_compliance_timings.csv").open()))
    if CORPUS.is_dir()
    else []
)


@pytest.mark.skipif(not ROWS, reason="the shared corpus is beside the repository in CI and sessions")
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row["file"].split("results/")[-1])
def test_verdict_agrees_with_mlperf_logging_on_every_corpus_log(row):
    [result] = check_logs([CORPUS / row["file"]], ruleset=row["ruleset"])
    ours = "PASS" if result.verdict == "conforms" else "FAIL"
    problems = [f.summary for f in result.problems]
    assert ours == row["verdict"], problems
    if ours == "FAIL":
        assert len(problems) <= 2, problems  # one root cause, not a cascade


@pytest.mark.skipif(not ROWS, reason="needs the corpus")
def test_the_whole_corpus_in_one_call_with_the_round_from_each_path(capsys):
    code, out, _ = parity(
        capsys, "logs", "check", CORPUS / "singles", CORPUS / "packages", "--format", "json"
    )
    data = json.loads(out)
    assert len(data["logs"]) == 30 and code == 1
    by_file = {Path(log["file"]).relative_to(CORPUS).as_posix(): log for log in data["logs"]}
    for row in ROWS:
        assert by_file[row["file"]]["ruleset"] == row["ruleset"]
        assert (by_file[row["file"]]["verdict"] == "conforms") == (row["verdict"] == "PASS")


@pytest.mark.skipif(not ROWS, reason="needs the corpus")
def test_findings_name_physical_lines_and_rules():
    truncated = CORPUS / "packages/v5.1/Dell/results/1xXE9780x8B200-SXM-180GB/llama2_70b_lora/result_0.txt"
    [result] = check_logs([truncated], ruleset="5.1.0")
    [finding] = result.problems
    assert finding.rule == "training.logging.required-events" and finding.rationale
    assert "run incomplete" in finding.summary
    line = finding.evidence.locations[0].line
    assert ":::MLLOG" in truncated.read_text().splitlines()[line - 1]


def _log(tmp_path, records, name="result_0.txt"):
    lines = [
        ":::MLLOG " + json.dumps({"time_ms": 1.0 + i, "key": key, "value": value, "metadata": metadata})
        for i, (key, value, metadata) in enumerate(records)
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_division_naming_a_path_loads_nothing_and_is_a_finding(tmp_path, monkeypatch):
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "x_common.yaml").write_text("- BEGIN:\n    CODE: open('/tmp/parity-pwned', 'w')\n")
    opened = []
    original = builtins.open

    def watch(file, *args, **kwargs):
        opened.append(Path(file).resolve())
        return original(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watch)
    path = _log(
        tmp_path,
        [
            ("submission_division", f"../../../../../../../../{evil}/x", {}),
            ("submission_benchmark", "../../../../etc/passwd", {}),
        ],
    )
    [result] = check_logs([path], ruleset="5.1.0")
    assert result.verdict == "violates"
    assert "submission_division" in result.judgement.findings[0].summary
    import parity

    package = Path(parity.__file__).resolve().parent
    assert all(p == path.resolve() or p.is_relative_to(package) for p in opened), opened
    assert not Path("/tmp/parity-pwned").exists()


def test_values_of_the_wrong_type_are_findings_not_crashes(tmp_path):
    path = _log(
        tmp_path,
        [
            ("submission_division", "closed", {}),
            ("submission_benchmark", "llama2_70b_lora", {}),
            ("lora_rank", "sixteen", {}),
            ("eval_accuracy", "NaN", {"samples_count": 3}),
            ("run_start", 1, {}),
            ("run_stop", 1, {"status": "success"}),
        ],
    )
    [result] = check_logs([path], ruleset="5.1.0")
    assert result.verdict == "violates"
    kinds = {f.kind for f in result.judgement.findings}
    assert "hparam.changed" in kinds or "hparam.out_of_range" in kinds


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["logs", "check", "missing.txt"], "no such file or folder"),
        (["logs", "check", ".", "--ruleset", "../../x"], "unknown ruleset"),
        (["logs", "check", ".", "--ruleset", "9.9.9"], "unknown ruleset"),
    ],
)
def test_bad_arguments_are_exit_3(capsys, argv, message):
    code, _, err = parity(capsys, *argv)
    assert code == 3 and message in err and "Traceback" not in err


def test_binary_junk_is_a_finding(tmp_path):
    path = tmp_path / "result_0.txt"
    path.write_bytes(b"\x00\xff:::MLLOG \xfe\xfd\n" + bytes(range(256)) * 100)
    [result] = check_logs([path], ruleset="5.1.0")
    assert result.verdict == "violates"
    assert any("malformed" in f.summary for f in result.problems)


def test_every_packaged_round_loads_with_valid_expressions():
    from parity.engines.logs.rounds import available, load_round

    assert available() == ("0.7.0", "4.0.0", "5.0.0", "5.1.0", "6.0.0")
    for name in available():
        rules = load_round(name)
        assert rules.benchmarks["closed"] and rules.rules and rules.init_limit_minutes["closed"] > 0


@pytest.mark.skipif(not ROWS, reason="needs the corpus")
def test_stable_diffusion_without_evaluations_is_a_finding_not_a_crash(tmp_path):
    source = CORPUS / "singles/v4.0/GigaComputing/results/G593-SD1_pytorch/stable_diffusion/result_0.txt"
    stripped = tmp_path / "result_0.txt"
    stripped.write_text("".join(line for line in source.open() if '"eval_accuracy"' not in line))
    [result] = check_logs([stripped], ruleset="4.0.0")
    assert result.verdict == "violates"
    assert any("aggregated_eval_accuracy" in f.summary for f in result.problems)
