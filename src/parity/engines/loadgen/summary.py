"""``mlperf_log_summary.txt``: the human-readable result LoadGen writes (loadgen/results.cc).

Lines are ``label : value`` under three banners (the result, Additional Stats, Test Parameters Used).
The reader keeps every label as written (first occurrence wins, as in the official log parser) and
gives the facts an audit needs by name: scenario, mode, validity, the constraints, the metric and the
test parameters with their units split off (``ttft_latency (ns)`` → ``ttft_latency``, unit ``ns``).
"""

from __future__ import annotations

import math
import re

from parity.engines.loadgen.text_file import read_lines

LABEL = re.compile(r"^\s*([^:]{1,120}?)\s*:\s*(.*?)\s*$")
UNIT = re.compile(r"^(.*?)\s*\((ns|ms|s)\)$")
SECTIONS = {
    "MLPerf Results Summary": "result",
    "Additional Stats": "stats",
    "Test Parameters Used": "parameters",
}
#: the result's metric line, by scenario (the first found is the reported metric)
METRIC_LABELS = (
    "Completed tokens per second",
    "Tokens per second",
    "Completed samples per second",
    "Samples per second",
    "Early stopping 90th percentile estimate",
    "Early stopping 99th percentile estimate",
    "90.0th percentile latency (ns)",
    "99.0th percentile latency (ns)",
)
CONSTRAINTS = (
    "Performance constraints satisfied",
    "Min duration satisfied",
    "Min queries satisfied",
    "Early stopping satisfied",
)


class Summary:
    """What one summary says, by section and label."""

    __slots__ = ("lines", "parameters", "path", "result", "stats", "warnings")

    def __init__(self, path) -> None:
        self.path = path
        self.result: dict[str, str] = {}
        self.stats: dict[str, str] = {}
        self.parameters: dict[str, tuple[str, str | None]] = {}  # name -> (value, unit)
        self.warnings: list[str] = []
        self.lines = 0

    @property
    def scenario(self) -> str | None:
        """``Offline``, ``Server``, ``SingleStream``, ``MultiStream`` or ``Interactive``, as logged."""
        return self.result.get("Scenario")

    @property
    def mode(self) -> str | None:
        """``PerformanceOnly`` or ``AccuracyOnly``."""
        return self.result.get("Mode")

    @property
    def valid(self) -> bool | None:
        """``Result is : VALID``; None if the summary does not say."""
        stated = self.result.get("Result is")
        return None if stated is None else stated.strip().upper() == "VALID"

    @property
    def constraints(self) -> dict[str, bool]:
        """Each constraint line present (``Min duration satisfied`` ...) and whether it says Yes."""
        return {c: self.result[c].strip().lower() == "yes" for c in CONSTRAINTS if c in self.result}

    @property
    def metric(self) -> tuple[str, float] | None:
        """The reported metric's label and value (tokens/s before samples/s for LLMs)."""
        for label in METRIC_LABELS:
            value = number(self.result.get(label))
            if value is not None:
                return label, value
        return None

    def parameter(self, name: str) -> float | None:
        """A test parameter as a number (``target_qps``, ``min_duration``, ``qsl_rng_seed`` ...)."""
        found = self.parameters.get(name)
        return None if found is None else number(found[0])


NUMBER = re.compile(r"[-+]?(\d{1,40}(\.\d{0,40})?|\.\d{1,40})([eE][-+]?\d{1,4})?")


def number(text: str | None) -> float | None:
    """A finite decimal number as LoadGen prints it, or None.

    None too for integers of more than 40 digits and for what a float cannot hold (``1e999`` is not
    infinity here: a number no run can produce is refused where it is read, never compared).
    """
    if text is None:
        return None
    text = text.strip()
    if not NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def printed_decimals(text: str) -> int | None:
    """How many decimals ``text`` prints (``28.46`` → 2); None for exponent notation."""
    text = text.strip()
    if "e" in text.lower():
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


def read_summary(path) -> Summary:
    """Parse one summary.

    Raises:
        parity.engines.loadgen.text_file.Unreadable: the file cannot be read as text.
    """
    summary = Summary(path)
    section = "result"
    lines = read_lines(path)
    summary.lines = len(lines)
    for line in lines:
        stripped = line.strip()
        if not stripped or set(stripped) == {"="}:
            continue
        if stripped in SECTIONS:
            section = SECTIONS[stripped]
            continue
        if stripped.startswith("WARNING"):
            summary.warnings.append(stripped)
            continue
        match = LABEL.match(line)
        if match is None:
            continue
        label, value = match.groups()
        if section == "parameters":
            unit = UNIT.match(label)
            name, scale = (unit.group(1), unit.group(2)) if unit else (label, None)
            summary.parameters.setdefault(name, (value, scale))
        else:
            getattr(summary, section).setdefault(label, value)
    return summary
