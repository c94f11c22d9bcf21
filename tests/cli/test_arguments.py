"""Arguments a submitter can plant: file names that look like options, and `--out` onto an input."""

import json
import os

import pytest

import mllog_files
from cli_runner import EXAMPLES, parity


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """A closed flux1 log, next to files named like options (what `*` expands to), as the working folder."""
    folder = tmp_path / "v5.1" / "flux1"
    folder.mkdir(parents=True)
    mllog_files.flux_run(folder / "result_0.txt", 8388608, 1)
    for name in ("--division=open", "--out=result_0.txt"):
        (folder / name).write_text((folder / "result_0.txt").read_text())
    monkeypatch.chdir(folder)
    return folder


def _glob():
    return sorted(os.listdir("."))  # what the shell makes of `*`


@pytest.mark.parametrize(
    "argv",
    [
        ["logs", "check", "*"],
        ["--quiet", "logs", "check", "-f", "json", "*"],
        ["rcp", "check", "*"],
        ["audit", "*"],
        ["judge", "--rulebook", "mlperf-training", "*"],
        ["rules", "impact", "*"],
    ],
)
def test_a_file_named_like_an_option_is_refused_for_every_command(capsys, planted, argv):
    before = (planted / "result_0.txt").read_bytes()
    expanded = [arg for item in argv for arg in (_glob() if item == "*" else [item])]
    code, out, err = parity(capsys, *expanded)
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "'--division=open' looks like an option but is the name of a file" in err
    assert (planted / "result_0.txt").read_bytes() == before


def test_after_double_dash_such_names_are_paths(capsys, planted):
    code, out, err = parity(capsys, "logs", "check", "-f", "json", "--", *_glob())
    logs = json.loads(out)["logs"]
    assert {log["file"] for log in logs} == {"--division=open", "--out=result_0.txt", "result_0.txt"}
    assert {log["division"] for log in logs} == {"closed"}  # the planted name did not set the division
    assert code == 1, err


def test_an_option_that_names_nothing_here_is_still_an_option(capsys, planted):
    code, out, _ = parity(capsys, "logs", "check", "-f", "json", "--division", "open", "result_0.txt")
    assert json.loads(out)["logs"][0]["division"] == "open"
    assert code in (0, 1, 2)


def test_out_onto_a_log_it_reads_is_refused(capsys, planted, tmp_path):
    before = (planted / "result_0.txt").read_bytes()
    os.link(planted / "result_0.txt", tmp_path / "hard")
    (tmp_path / "soft").symlink_to(planted / "result_0.txt")
    for out in ("result_0.txt", "./result_0.txt", tmp_path / "hard", tmp_path / "soft"):
        code, _, err = parity(capsys, "logs", "check", "result_0.txt", "--out", out)
        assert code == 3 and err.count("\n") == 1, out
        assert "--out would write over result_0.txt, which this command reads" in err
    assert (planted / "result_0.txt").read_bytes() == before


def test_out_inside_a_folder_it_reads_is_refused(capsys, planted, tmp_path):
    (tmp_path / "linked").symlink_to(planted)
    for argv in (
        ["logs", "check", planted, "--out", planted / "report.txt"],
        ["logs", "check", planted, "--out", tmp_path / "linked" / "report.txt"],
        ["rcp", "check", planted, "-o", planted / "report.html", "-f", "html"],
        ["audit", tmp_path, "--out", planted / "report.txt"],
        ["audit", tmp_path, "--save-evidence", planted / "evidence.json"],
    ):
        code, _, err = parity(capsys, *argv)
        assert code == 3 and err.count("\n") == 1 and "which this command reads" in err, argv
    assert sorted(p.name for p in planted.iterdir()) == sorted(
        ["--division=open", "--out=result_0.txt", "result_0.txt"]
    )


def test_check_refuses_out_onto_a_model_and_evidence_onto_the_inputs(capsys, tmp_path):
    model = tmp_path / "candidate.onnx"
    model.write_bytes((EXAMPLES / "cnn" / "optimized.onnx").read_bytes())
    base = ["check", "--reference", EXAMPLES / "cnn" / "reference.onnx", "--candidate", model]
    for option in ("--out", "--save-evidence", "--divergence-inputs"):
        code, _, err = parity(capsys, *base, "--rulebook", "mlperf-inference", option, model)
        assert code == 3 and f"{option} would write over {model}" in err
    assert model.read_bytes() == (EXAMPLES / "cnn" / "optimized.onnx").read_bytes()


def test_out_elsewhere_is_written(capsys, planted, tmp_path):
    code, _, _ = parity(capsys, "logs", "check", "result_0.txt", "--out", tmp_path / "report.txt")
    assert code == 1 and (tmp_path / "report.txt").read_text().startswith("violates")
