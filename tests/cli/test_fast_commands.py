"""`parity logs check` and `parity rcp check` start fast: argparse, compiled data, no heavy imports."""

import json
import os
import subprocess
import sys

import pytest

from cli_runner import parity

#: what the fast commands must not import (each costs tens of milliseconds of start-up); `logs check`
#: must not parse expressions either (they ship compiled), so ast is not imported at all
HEAVY = {
    "logs": ("pydantic", "typer", "rich", "yaml", "numpy", "onnx", "jinja2", "scipy", "ast"),
    "rcp": ("pydantic", "typer", "rich", "yaml", "numpy", "onnx", "jinja2", "scipy"),
}
PROBE = """
import json, sys
from parity.cli.entry import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    print(json.dumps({"code": exc.code, "modules": sorted(sys.modules)}))
"""


def _record(key, value, time_ms, **metadata):
    return ":::MLLOG " + json.dumps({"key": key, "value": value, "time_ms": time_ms, "metadata": metadata})


def _flux_run(path, samples):
    """A flux1 result log at batch size 512 that converges after ``samples`` samples."""
    records = [
        _record("submission_division", "closed", 1),
        _record("submission_benchmark", "flux1", 2),
        _record("global_batch_size", 512, 3),
        _record("run_start", None, 4),
        _record("eval_accuracy", 0.5, 5, samples_count=samples),
        _record("run_stop", None, 6, status="success"),
    ]
    path.write_text("\n".join(records) + "\n")


@pytest.fixture
def flux_runs(tmp_path):
    folder = tmp_path / "v5.1" / "flux1"
    folder.mkdir(parents=True)
    for index in range(10):
        _flux_run(folder / f"result_{index}.txt", 8388608)
    return folder


def _probe(*argv):
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, argv)], capture_output=True, text=True, env=env, timeout=60
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("command", ["logs", "rcp"])
def test_fast_commands_import_nothing_heavy(flux_runs, tmp_path, command):
    target = flux_runs if command == "rcp" else flux_runs / "result_0.txt"
    found = _probe("-q", command, "check", target, "--ruleset", "5.1.0", "--out", tmp_path / "report.txt")
    assert found["code"] in (0, 1, 2)
    heavy = sorted({name.split(".")[0] for name in found["modules"]} & set(HEAVY[command]))
    assert heavy == [], f"`parity {command} check` imported {heavy}"
    assert (tmp_path / "report.txt").read_text().strip()


def test_the_rcp_of_synthetic_runs_at_the_reference_pace_passes(capsys, flux_runs):
    code, out, _ = parity(capsys, "rcp", "check", flux_runs, "--ruleset", "5.1.0")
    assert code == 0 and "passed" in out and "Verdict: conforms" in out and "\x1b[" not in out


def test_text_names_file_line_outcome_rule_and_why(capsys, flux_runs):
    log = flux_runs / "result_0.txt"
    log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")  # no run_stop: truncated
    code, out, _ = parity(capsys, "logs", "check", log, "--ruleset", "5.1.0")
    assert code == 1
    assert f"{log}:5: forbidden by training.logging.required-events [log.event_missing]" in out
    assert "run incomplete" in out and "    why: " in out and "1 log(s) checked: violates 1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["logs", "check"], "the following arguments are required: PATH"),
        (["logs", "check", ".", "--format", "yaml"], "invalid choice: 'yaml'"),
        (["rcp", "check", ".", "--method", "fastest"], "invalid choice: 'fastest'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_3(capsys, argv, message):
    code, out, err = parity(capsys, *argv)
    assert code == 3 and message in err and err.count("\n") == 1 and not out


def test_help_lists_the_fast_commands_and_their_options(capsys):
    code, out, _ = parity(capsys, "--help")
    assert code == 0 and "logs" in out and "rcp" in out
    code, out, _ = parity(capsys, "logs", "check", "--help")
    assert code == 0 and "--ruleset" in out and "--format" in out
