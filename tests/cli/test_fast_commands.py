"""`parity logs check` and `parity rcp check` start fast: argparse, compiled data, no heavy imports."""

import json
import os
import subprocess
import sys

import pytest

import mllog_files
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


@pytest.fixture
def flux_runs(tmp_path):
    return mllog_files.flux_runs(tmp_path / "v5.1" / "flux1")


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
    assert f"{log}:6: forbidden by training.logging.required-events [log.event_missing]" in out
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
