"""`parity logs check` and `parity rcp check` start fast: argparse, compiled data, no heavy imports."""

import json
import math
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


def test_non_finite_values_give_strict_json(capsys, flux_runs):
    log = flux_runs / "result_0.txt"
    log.write_text(log.read_text() + mllog_files.record("global_batch_size", math.nan, 8) + "\n")
    code, out, _ = parity(capsys, "logs", "check", log, "--ruleset", "5.1.0", "-f", "json")

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    assert code == 1 and json.loads(out, parse_constant=refuse)["logs"][0]["verdict"] == "violates"


def test_options_may_come_between_paths_and_are_not_abbreviated(capsys, flux_runs):
    first, second = flux_runs / "result_0.txt", flux_runs / "result_1.txt"
    code, out, _ = parity(capsys, "logs", "check", first, "--ruleset", "5.1.0", second, "-f", "json")
    assert code == 1 and len(json.loads(out)["logs"]) == 2  # synthetic logs lack the hyperparameters
    code, _, err = parity(capsys, "logs", "check", first, "--rule", "5.1.0")
    assert code == 3 and "unrecognized arguments" in err


def test_listed_folders_are_normalised_and_an_empty_one_is_bad_input(
    capsys, flux_runs, tmp_path, monkeypatch
):
    monkeypatch.chdir(flux_runs.parent)
    code, out, _ = parity(capsys, "logs", "check", ".", "-f", "json")
    logs = json.loads(out)["logs"]
    assert code == 1 and logs[0]["file"] == os.path.join("flux1", "result_0.txt") and len(logs) == 10
    assert {log["ruleset"] for log in logs} == {"5.1.0"}  # the round from the folder's real path
    (tmp_path / "empty").mkdir()
    code, _, err = parity(capsys, "logs", "check", tmp_path / "empty")
    assert code == 3 and "no result logs" in err


def test_a_reader_that_stops_early_does_not_change_the_exit_code(flux_runs):
    log = flux_runs / "result_0.txt"
    log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")  # violates: no run_stop
    child = subprocess.Popen(
        [sys.executable, "-m", "parity", "logs", "check", log, "--ruleset", "5.1.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    child.stdout.close()  # before the child writes its report
    _, err = child.communicate(timeout=60)
    assert child.returncode == 1 and b"Traceback" not in err and b"Exception ignored" not in err


def test_exported_names_win_over_submodules_of_the_same_name():
    import parity.audit.check
    import parity.judge.contrast
    import parity.judge.table
    from parity import judge
    from parity.audit import check
    from parity.judge import contrast

    assert callable(judge) and callable(contrast) and callable(check)
    assert not isinstance(judge, type(parity)) and "__version__" in dir(parity)


def test_the_round_comes_from_the_real_path_of_a_symlinked_log(capsys, tmp_path):
    target = mllog_files.flux_runs(tmp_path / "v4.0" / "flux1", count=1) / "result_0.txt"
    link = tmp_path / "result_0.txt"
    link.symlink_to(target)
    code, out, _ = parity(capsys, "logs", "check", link, "-f", "json")
    assert json.loads(out)["logs"][0]["ruleset"] == "4.0.0" and code == 1
