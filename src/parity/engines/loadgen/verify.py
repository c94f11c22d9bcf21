"""``verify_accuracy.txt`` and ``verify_performance.txt``: what the submitter's compliance scripts printed.

parity reads them as claims to check against the logs, never as the result: the official checker passes
a test when the file contains ``TEST PASS``. Numbers are kept by their label (``Reference score``,
``num_perf_log_data_mismatch``), and TEST06's ``<check> pass: True|False`` lines by check.
"""

from __future__ import annotations

import re

from parity.engines.loadgen.summary import number
from parity.engines.loadgen.text_file import by_label, read_lines

PAIR = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_ .()%-]{0,80}?)\s*[=:]\s*(\S+)\s*$")
CHECK = re.compile(r"^\s*(.{1,80}?) (?:check )?pass:\s*(True|False)\s*$", re.IGNORECASE)


class Verification:
    """What one verify file claims."""

    __slots__ = ("checks", "lines", "numbers", "passed", "path")

    def __init__(self, path) -> None:
        self.path = path
        self.passed: bool | None = None  # TEST PASS / TEST FAIL; None if neither is printed
        self.numbers: dict[str, float] = {}
        self.checks: dict[str, bool] = {}
        self.lines = 0

    def score(self, which: str) -> float | None:
        """``reference`` or ``test`` score of a performance verification (either capitalisation)."""
        return by_label(self.numbers, f"{which} score")


def read_verification(path) -> Verification:
    """Parse one verify file.

    Raises:
        parity.engines.loadgen.text_file.Unreadable: the file cannot be read as text.
    """
    found = Verification(path)
    lines = read_lines(path)
    found.lines = len(lines)
    for line in lines:
        stripped = line.strip()
        if stripped == "TEST PASS" or stripped.startswith("TEST FAIL"):  # "TEST FAIL: Test score invalid"
            found.passed = (
                stripped == "TEST PASS" if found.passed is None else found.passed and stripped == "TEST PASS"
            )
            continue
        check = CHECK.match(line)
        if check:
            found.checks[check.group(1).strip()] = check.group(2).lower() == "true"
            continue
        pair = PAIR.match(line)
        if pair and (value := number(pair.group(2))) is not None:
            found.numbers.setdefault(pair.group(1).strip(), value)
    return found
