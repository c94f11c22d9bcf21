"""Run the `parity` command in-process, as a user would from a shell, and capture what it says."""

from pathlib import Path

import pytest

from parity.cli.entry import main as run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def parity(capsys, *argv):
    """(exit code, stdout, stderr) of `parity ARGV...`; arguments may be paths."""
    with pytest.raises(SystemExit) as exited:
        run([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def check_args(model, candidate, rulebook):
    """`parity check` of a bundled example candidate against its reference, under a rulebook."""
    folder = EXAMPLES / model
    return [
        "check",
        "--reference",
        folder / "reference.onnx",
        "--candidate",
        folder / f"{candidate}.onnx",
        "--rulebook",
        rulebook,
    ]
