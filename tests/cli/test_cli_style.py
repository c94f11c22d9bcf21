"""One CLI style everywhere (issue 26): -h and --help, --version, --quiet before or after the command."""

import pytest

from cli_runner import EXAMPLES, check_args, parity
from mllog_files import flux_run


def test_version_prints_the_installed_version(capsys):
    from importlib import metadata

    code, out, _ = parity(capsys, "--version")
    assert code == 0 and out.strip() == f"parity {metadata.version('parity')}"


@pytest.mark.parametrize("argv", [["-h"], ["check", "-h"], ["rules", "-h"], ["logs", "check", "-h"]])
def test_short_help_is_help(capsys, argv):
    code, out, _ = parity(capsys, *argv)
    assert code == 0 and "usage" in out.lower()


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_is_taken_before_or_after_the_command(capsys, where):
    args = check_args("cnn", "optimized", "mlperf-inference")
    argv = ["--quiet", *args] if where == "before" else [*args, "--quiet"]
    code, _, err = parity(capsys, *argv, "--no-numeric")
    assert code == 0, err
    assert err == ""


def test_flags_after_the_separator_are_not_options(capsys):
    code, _, err = parity(
        capsys, "check", "--reference", EXAMPLES / "cnn" / "reference.onnx", "--", "--version"
    )
    assert code == 3 and "Traceback" not in err  # not a version request: a usage error, named


@pytest.fixture
def log(tmp_path):
    """A training log (a Flux run, written record by record)."""
    path = tmp_path / "result_0.txt"
    flux_run(path, 8388608, seed=1)
    return path


def test_logs_check_refuses_a_file_that_is_no_log(capsys, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    code, _, err = parity(capsys, "logs", "check", notes)
    assert code == 3 and "not an MLPerf training log" in err and str(notes) in err


@pytest.mark.parametrize("spelling", ["5.1", "v5.1", "5.1.0"])
def test_a_round_is_accepted_in_every_spelling(capsys, log, spelling):
    code, out, err = parity(capsys, "logs", "check", log, "--ruleset", spelling, "-f", "json")
    assert code in (0, 1, 2), err
    assert '"5.1.0"' in out


@pytest.mark.parametrize(("option", "value"), [("--division", "opn"), ("--ruleset", "5.9")])
def test_logs_check_refuses_a_typo_in_its_own_options(capsys, log, option, value):
    code, _, err = parity(capsys, "logs", "check", log, option, value)
    assert code == 3 and value in err
