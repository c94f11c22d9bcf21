"""Run the `parity` command in-process, as a user would from a shell, and capture what it says."""

import json
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


def check_json(capsys, reference, candidate, rulebook, *extra):
    """(exit code, JSON report) of `parity check` of two models under a rulebook; never exit 3 or 4."""
    args = ["check", "--reference", reference, "--candidate", candidate, "--rulebook", rulebook]
    code, out, err = parity(capsys, *args, "--format", "json", *extra)
    assert code in (0, 1, 2), err
    return code, json.loads(out)
