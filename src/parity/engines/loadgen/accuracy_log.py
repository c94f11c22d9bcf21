"""``mlperf_log_accuracy.json``: the outputs LoadGen logged, one entry per sample.

A JSON list of ``{"seq_id", "qsl_idx", "data": "<hex>"}`` (LLMs add ``token_count``). Logs submitted for
the scored accuracy run and for TEST01 are truncated to their first and last 4 KiB (the hash of the whole
is in accuracy.txt), so they are not JSON: the reader says so instead of failing. TEST06's logs are
whole and are read entry by entry.
"""

from __future__ import annotations

import os

from parity import untrusted
from parity.engines.loadgen.text_file import checked_size

MAX_ACCURACY_LOG_BYTES = 512 * 1024 * 1024
#: truncate_accuracy_log.py keeps 4 KiB at each end
TRUNCATED_MAX_BYTES = 10 * 1024


class AccuracyLog:
    """The entries of one accuracy log, or why there are none."""

    __slots__ = ("entries", "path", "problem", "size", "truncated")

    def __init__(self, path, size: int) -> None:
        self.path = path
        self.size = size
        self.entries: list[dict] = []
        self.truncated = False  # cut for submission: its content cannot be checked
        self.problem = ""  # why the entries could not be read, if they could not

    @property
    def sample_indices(self) -> list[int]:
        """``qsl_idx`` of every entry that has an integer one."""
        return [e["qsl_idx"] for e in self.entries if isinstance(e.get("qsl_idx"), int)]


def read_accuracy_log(path) -> AccuracyLog:
    """Read one accuracy log (bounded in size, nesting and integer digits).

    Raises:
        parity.engines.loadgen.text_file.Unreadable: missing, not a regular file, or over the size limit.
    """
    size = checked_size(path, MAX_ACCURACY_LOG_BYTES)
    log = AccuracyLog(path, size)
    with open(os.fspath(path), "rb") as handle:
        data = handle.read(MAX_ACCURACY_LOG_BYTES + 1)
    try:
        entries = untrusted.loads(data)
    except (ValueError, UnicodeDecodeError, untrusted.TooComplex) as exc:
        log.truncated = size <= TRUNCATED_MAX_BYTES and b'"qsl_idx"' in data  # cut entries, not junk
        log.problem = "truncated for submission" if log.truncated else f"not valid JSON ({exc})"[:300]
        return log
    if not isinstance(entries, list):
        log.problem = f"a JSON {type(entries).__name__}, not a list of entries"
        return log
    log.entries = [entry for entry in entries if isinstance(entry, dict)]
    if len(log.entries) != len(entries):
        log.problem = f"{len(entries) - len(log.entries)} entries are not objects"
    return log
