"""``accuracy.txt``: what the benchmark's accuracy script printed, and the accuracy log's hash.

Scripts print their metrics in many shapes (``{'rouge1': 44.7, ...}``, ``'FID_SCORE': '23.8'``,
``Word Error Rate: 2.1%, accuracy=97.85%``, ``mAP=37.5%``). The reader keeps every ``name: number`` or
``name=number`` it finds with whether a ``%`` follows: a percentage compared with a fraction is the
unit mismatch the round data must catch. Which name is the model's metric is the round data's to say.
"""

from __future__ import annotations

import math
import re

from parity.engines.loadgen.text_file import by_label, read_lines

NAME = r"['\"]?([A-Za-z][A-Za-z0-9_ .-]{0,60}?)['\"]?"
NUMBER = r"['\"]?([-+]?\d{1,30}(?:\.\d{1,30})?(?:[eE][-+]?\d{1,4})?)['\"]?"
VALUE = re.compile(rf"{NAME}\s*[:=]\s*{NUMBER}(\s*%)?")
HASH = re.compile(r"^hash=([0-9a-f]{64})\s*$")


class AccuracyText:
    """Every metric printed, the hashes appended, and the lines."""

    __slots__ = ("hashes", "lines", "path", "refused", "values")

    def __init__(self, path) -> None:
        self.path = path
        self.values: dict[str, tuple[float, bool]] = {}  # name -> (value, printed as a percentage)
        self.hashes: list[str] = []
        self.refused: dict[str, str] = {}  # name -> the printed text of a value no float holds
        self.lines = 0

    def value(self, name: str) -> tuple[float, bool] | None:
        """The value printed for ``name`` (case-insensitive), with whether it was a percentage."""
        return by_label(self.values, name)


def read_accuracy_text(path) -> AccuracyText:
    """Parse one accuracy.txt.

    Raises:
        parity.engines.loadgen.text_file.Unreadable: the file cannot be read as text.
    """
    found = AccuracyText(path)
    lines = read_lines(path)
    found.lines = len(lines)
    for line in lines:
        digest = HASH.match(line.strip())
        if digest:
            found.hashes.append(digest.group(1))
            continue
        for name, value, percent in VALUE.findall(line):
            number = float(value)
            if math.isfinite(number):  # 400 digits are infinity to a float: refused, never compared
                found.values.setdefault(name.strip(), (number, bool(percent)))
            else:
                found.refused.setdefault(name.strip(), value[:40])
    return found
