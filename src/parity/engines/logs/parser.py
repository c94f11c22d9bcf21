"""Streaming MLLOG parser: every ``:::MLLOG {json}`` line of a file, with its physical line number.

Framework output around the records, prefixes before ``:::MLLOG`` (rank numbers, timestamps) and binary
junk are skipped; a record whose JSON is broken, not an object or missing ``key``/``value`` becomes a
:class:`Malformed` entry instead of an exception. The file is read in binary, line by line, with a plain
substring search (no regular expression that can backtrack), so a 1 GB log streams in constant memory
apart from the records themselves.

It sits on the start-up path of ``parity logs check``, so it uses only the standard library. Integers
of more digits than :data:`parity.untrusted.MAX_INT_DIGITS`, values nested deeper than
:data:`parity.untrusted.MAX_JSON_DEPTH` and a ``time_ms`` that is not a finite number of milliseconds
from 0 to :data:`MAX_TIME_MS` make a record malformed: nothing downstream has to guard against them.
"""

from __future__ import annotations

import math
from collections import namedtuple

from parity import untrusted

TOKEN = b":::MLLOG"
MAX_RECORD_BYTES = 1 << 20
#: milliseconds since 1970 (training logs) or since LoadGen's start (detail logs): 1e15 ms is the year
#: 33,658, so a larger or a negative time is no clock's and would only stretch or shrink a run
MAX_TIME_MS = 1e15

#: One MLLOG record: key, value, metadata (a dict), time_ms (float), physical line number.
Event = namedtuple("Event", "key value metadata time_ms line")
#: A line that carries the MLLOG token but no valid record.
Malformed = namedtuple("Malformed", "line problem")


class ParsedLog:
    """Events in file order, malformed lines, and how many physical lines were read."""

    __slots__ = ("events", "lines", "malformed", "path")

    def __init__(self, path) -> None:
        self.path = path
        self.events: list[Event] = []
        self.malformed: list[Malformed] = []
        self.lines = 0

    def by_key(self) -> dict[str, list[Event]]:
        """Events grouped by key, each group in file order."""
        grouped: dict[str, list[Event]] = {}
        for event in self.events:
            grouped.setdefault(event.key, []).append(event)
        return grouped


def parse(path) -> ParsedLog:
    """Read every MLLOG record of ``path`` (a str or a path-like object)."""
    parsed = ParsedLog(path)
    for item in iter_records(path, parsed):
        if isinstance(item, Event):
            parsed.events.append(item)
        else:
            parsed.malformed.append(item)
    return parsed


def iter_records(path, counter: ParsedLog | None = None):
    """Yield events and malformed entries in file order (the line count goes into ``counter``).

    Lines are read at most :data:`MAX_RECORD_BYTES` at a time, so a file without newlines cannot make one
    line as large as the file.
    """
    number, partial = 0, False
    with open(path, "rb") as handle:
        while raw := handle.readline(MAX_RECORD_BYTES):
            if partial:  # the rest of an over-long line
                partial = not raw.endswith(b"\n")
                continue
            number += 1
            if len(raw) == MAX_RECORD_BYTES and not raw.endswith(b"\n"):
                partial = True
                if TOKEN in raw:
                    yield Malformed(number, f"line longer than {MAX_RECORD_BYTES} bytes")
                continue
            at = raw.find(TOKEN)
            if at >= 0:
                yield _record(raw[at + len(TOKEN) :], number)
    if counter is not None:
        counter.lines = number


def _record(payload: bytes, line: int) -> Event | Malformed:
    if len(payload) > MAX_RECORD_BYTES:
        return Malformed(line, f"record longer than {MAX_RECORD_BYTES} bytes")
    try:
        data = untrusted.loads(payload)
    except UnicodeDecodeError:
        return Malformed(line, "record is not UTF-8 text")
    except untrusted.TooComplex as exc:
        return Malformed(line, f"record holds {exc}")
    except ValueError:
        return Malformed(line, "record is not valid JSON")
    if not isinstance(data, dict):
        return Malformed(line, f"record is a JSON {type(data).__name__}, not an object")
    if "key" not in data or "value" not in data:
        return Malformed(line, "record has no 'key' or no 'value'")
    key, metadata, time_ms = data["key"], data.get("metadata", {}), data.get("time_ms", 0.0)
    if not isinstance(key, str):
        return Malformed(line, "record's key is not a string")
    if not isinstance(metadata, dict):
        return Malformed(line, "record's metadata is not an object")
    if not isinstance(time_ms, int | float) or isinstance(time_ms, bool) or not math.isfinite(time_ms):
        return Malformed(line, "record's time_ms is not a finite number")
    if not 0 <= time_ms < MAX_TIME_MS:
        return Malformed(line, f"record's time_ms {time_ms:g} is no clock reading (0 to {MAX_TIME_MS:g} ms)")
    return Event(key, data["value"], metadata, float(time_ms), line)
