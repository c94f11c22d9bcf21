"""One CLI style everywhere (issue 26): -h and --help, --version, --quiet before or after the command."""

import pytest

from cli_runner import EXAMPLES, check_args, parity


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
