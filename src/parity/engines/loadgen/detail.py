"""``mlperf_log_detail.txt``: LoadGen's machine-readable log, ``:::MLLOG`` records (the training parser).

The official log parser keeps the first record of each key; so does this. A number no run can produce
(NaN, infinity: ``1e999`` in JSON) is refused where it is read: the key is then absent from ``values``
and named in ``refused``, so every check that needs it finds it missing and says why. What an audit reads
is named:
the requested and effective settings, the result keys, LoadGen's provenance, its errors and warnings, and
whether an ``audit.config`` overrode the settings (the marker every compliance run must carry).
"""

from __future__ import annotations

import hashlib
import math
import os

from parity.engines.loadgen.text_file import checked_size
from parity.engines.logs.parser import parse

#: detail logs of the published rounds are under 2 MB; a 100-sample accuracy run with tokens is larger
MAX_DETAIL_BYTES = 256 * 1024 * 1024
AUDIT_MARKER = "audit.config"


class Detail:
    """The first value of every key, LoadGen's errors and warnings, and the lines it could not read."""

    __slots__ = (
        "_digest",
        "errors",
        "issued",
        "lines",
        "malformed",
        "path",
        "refused",
        "values",
        "warnings",
    )

    def __init__(self, path) -> None:
        self.path = path
        self.values: dict[str, object] = {}
        self.lines: dict[str, int] = {}  # the line of each key's first record
        self._digest: str | None = None
        self.issued = 0  # samples issued over every loadable set (queries x samples per query, summed)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.malformed: list[tuple[int, str]] = []
        self.refused: dict[str, int] = {}  # key -> line of a first record whose number is not finite

    def absent(self, key: str) -> str:
        """Why ``key`` has no usable value: no record, or a number that is not finite."""
        if key in self.refused:
            return f"its {key} record is not a finite number (line {self.refused[key]})"
        return f"has no {key} record"

    def effective(self, name: str):
        """``effective_<name>``: what the run used."""
        return self.values.get(f"effective_{name}")

    def line(self, key: str) -> int | None:
        """The line of ``key``'s first record (``effective_`` keys by their full name)."""
        return self.lines.get(key)

    def requested(self, name: str):
        """``requested_<name>``: what the configuration asked for."""
        return self.values.get(f"requested_{name}")

    @property
    def digest(self) -> str:
        """The file's SHA-256 ('' if it is gone), read when first asked: only compliance runs need it."""
        if self._digest is None:
            try:
                self._digest = file_digest(self.path)
            except OSError:
                self._digest = ""
        return self._digest

    @property
    def audited(self) -> bool:
        """Whether LoadGen reported an ``audit.config`` overriding the settings (compliance runs)."""
        return any(AUDIT_MARKER in message for message in self.warnings)

    @property
    def loadgen_version(self) -> str | None:
        """``5.1.0 @ b9ed3c7fec``: the release and the source commit LoadGen was built from."""
        value = self.values.get("loadgen_version")
        return value if isinstance(value, str) else None


def read_detail(path) -> Detail:
    """Parse one detail log.

    Raises:
        parity.engines.loadgen.text_file.Unreadable: missing, not a regular file, or over the size limit.
    """
    checked_size(path, MAX_DETAIL_BYTES)
    detail = Detail(path)
    parsed = parse(path)
    detail.malformed = [(item.line, item.problem) for item in parsed.malformed]
    queries = None
    for event in parsed.events:
        if event.key == "generated_query_count" and isinstance(event.value, int):
            queries = event.value
        elif event.key == "generated_samples_per_query" and isinstance(event.value, int) and queries:
            detail.issued += queries * event.value  # an accuracy run logs one pair per loadable set
            queries = None
        if event.key not in detail.values and event.key not in detail.refused:
            if isinstance(event.value, float) and not math.isfinite(event.value):
                detail.refused[event.key] = event.line
                continue
            detail.values[event.key] = event.value
            detail.lines[event.key] = event.line
        metadata = event.metadata
        if metadata.get("is_error") is True or event.key.startswith("error"):
            detail.errors.append(f"{event.key}: {event.value}"[:500])
        elif metadata.get("is_warning") is True or event.key.startswith("warning"):
            detail.warnings.append(str(event.value)[:500])
    return detail


def file_digest(path) -> str:
    """The SHA-256 of a file already checked to be regular and bounded."""
    digest = hashlib.sha256()
    with open(os.fspath(path), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
