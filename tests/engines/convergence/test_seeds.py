"""The seed rules across a benchmark's runs, as `parity rcp check` applies them from round 4.1."""

import json

import pytest

import mllog_files
from cli_runner import parity
from parity.engines.convergence import seeds


def _seed_findings(capsys, folder):
    code, out, _ = parity(capsys, "rcp", "check", folder, "--ruleset", "5.1.0", "--format", "json")
    data = json.loads(out)
    return code, [f for f in data["findings"] if f["kind"] == "log.seed_invalid"]


def test_distinct_seeds_pass(capsys, tmp_path):
    code, found = _seed_findings(capsys, mllog_files.flux_runs(tmp_path / "flux1"))
    assert code == 0 and found == []


def test_a_seed_repeated_at_the_same_source_line_is_forbidden(capsys, tmp_path):
    folder = mllog_files.flux_runs(tmp_path / "flux1", seeds=[7, 7, 3, 4, 5, 6, 8, 9, 10, 11])
    code, found = _seed_findings(capsys, folder)
    assert code == 1 and len(found) == 1
    [finding] = found
    assert finding["rule"] == "training.seeds.rng" and finding["outcome"] == "forbidden"
    assert "seed 7 at 'train.py':42" in finding["summary"] and "result_0.txt" in finding["summary"]
    assert finding["evidence"]["locations"][0]["file"].endswith("result_1.txt")
    assert finding["evidence"]["locations"][0]["line"] == 4


@pytest.mark.parametrize(
    ("seed", "problem"),
    [(None, "logs no seed"), ("twelve", "is not an integer"), ("+-5", "is not an integer"), ("²", "is not")],
)
def test_a_run_without_an_integer_seed_is_forbidden(capsys, tmp_path, seed, problem):
    folder = mllog_files.flux_runs(tmp_path / "flux1")
    mllog_files.flux_run(folder / "result_3.txt", 8388608, seed)
    code, found = _seed_findings(capsys, folder)
    assert code == 1 and [problem in f["summary"] for f in found] == [True]


def test_integer_seeds_are_read_as_mlperf_logging_reads_them():
    assert seeds.applies("5.1.0") and seeds.applies("4.1.0") and not seeds.applies("4.0.0")
    assert [seeds.as_integer(v) for v in (3, 3.0, "3", " -3", 3.5, True, "x")] == [
        3,
        3,
        3,
        -3,
        None,
        None,
        None,
    ]


def test_a_source_file_name_cannot_send_escapes_to_the_terminal(capsys, tmp_path):
    folder = mllog_files.flux_runs(tmp_path / "flux1", seeds=[7] * 10)
    log = folder / "result_1.txt"
    log.write_text(log.read_text().replace('"train.py"', '"\\u001b[2Jtrain.py"'))
    log = folder / "result_2.txt"
    log.write_text(log.read_text().replace('"train.py"', '"\\u001b[2Jtrain.py"'))
    code, out, _ = parity(capsys, "rcp", "check", folder, "--ruleset", "5.1.0")
    assert code == 1 and "\x1b" not in out and "\\x1b[2Jtrain.py" in out
