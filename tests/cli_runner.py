"""Run the `parity` command in-process, as a user would from a shell, and capture what it says."""

import pytest

from parity.cli.main import run


def parity(capsys, *argv):
    """(exit code, stdout, stderr) of `parity ARGV...`; arguments may be paths."""
    with pytest.raises(SystemExit) as exited:
        run([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return exited.value.code, out, err
