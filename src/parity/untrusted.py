"""Limits on what a submission's files can make the main process do.

The child process that runs models has operating-system limits; the main process reads logs, evidence,
headers and folders itself, so every parser bounds its input here: regular files only, a size, a JSON
nesting depth, integer digits, and the length of any value echoed back in a finding. Standard library
only: ``parity logs check`` imports this on its start-up path.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import stat

from parity.errors import BadInput

#: the deepest JSON nesting read (MLLOG values and evidence details are a few levels deep)
MAX_JSON_DEPTH = 64
#: the most decimal digits of an integer read from JSON (2**64 has 20)
MAX_INT_DIGITS = 40
#: the most characters of a submitted value repeated in a finding
MAX_ECHO_CHARS = 200


class TooComplex(ValueError):
    """A JSON value past one of the limits (nesting, digits)."""


def regular_file(path: str | os.PathLike, what: str = "file") -> os.PathLike:
    """``path`` as a Path if it is a regular file; FIFOs, devices, sockets and folders are refused.

    (They block or lie.) pathlib is imported here: it costs the fast commands' start-up 3 ms.
    """
    from pathlib import Path

    path = Path(path)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise BadInput(f"cannot read {what} ({exc.strerror})", path) from None
    if not stat.S_ISREG(mode):
        raise BadInput(f"{what} is not a regular file", path)
    return path


#: NaN and Infinity stay readable (mlperf-logging writes them); callers that need finite numbers check.
#: The plain C decoder: a parse_int hook would cost every record's time_ms a Python call
_DECODE = json.JSONDecoder().decode
#: the largest integer read, by bit length (MAX_INT_DIGITS decimal digits)
_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.33) + 1


def loads(text: str | bytes, max_depth: int = MAX_JSON_DEPTH):
    """Parse JSON with bounded integers and nesting.

    Raises:
        TooComplex: nested deeper than ``max_depth`` or an integer with too many digits.
        ValueError: not JSON (``json.JSONDecodeError``), not UTF-8 (``UnicodeDecodeError``), or an integer
            of 4,300 digits or more (Python's own bound on converting text to an integer).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        value = _DECODE(text)
    except RecursionError:
        raise TooComplex(f"nested deeper than {max_depth} levels") from None
    _check_bounds(value, max_depth)
    return value


def _check_bounds(value, max_depth: int) -> None:
    """Nesting and integer size of a decoded value, without recursion."""
    stack = [(value, 0)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            children = current.values()
        elif isinstance(current, list):
            if current and type(current[0]) is int and _numbers_within(current):
                if level + 1 > max_depth:
                    raise TooComplex(f"nested deeper than {max_depth} levels")
                continue  # a flat list of numbers (LoadGen's loaded_qsl_set): bounded by its extremes
            children = current
        else:
            if isinstance(current, int) and current.bit_length() > _MAX_INT_BITS:
                raise TooComplex(f"an integer of over {MAX_INT_DIGITS} digits")
            continue
        if level + 1 > max_depth:
            raise TooComplex(f"nested deeper than {max_depth} levels")
        stack.extend((item, level + 1) for item in children)


def _numbers_within(items: list) -> bool:
    """True if ``items`` holds only numbers and its integers are within the digit bound (C-speed min/max).

    False where the list holds anything else (min/max cannot compare it) or its extremes are not integers;
    the caller then walks it item by item. Raises TooComplex for an integer past the bound.
    """
    try:
        low, high = min(items), max(items)
    except TypeError:
        return False
    if type(low) is not int or type(high) is not int:
        return False
    if low.bit_length() > _MAX_INT_BITS or high.bit_length() > _MAX_INT_BITS:
        raise TooComplex(f"an integer of over {MAX_INT_DIGITS} digits")
    return True


def finite_number(value: object) -> bool:
    """A JSON number a bound can be compared with: not a bool, NaN or infinity."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def depth(value, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a JSON value (a scalar is 0), counted without recursion, stopping past ``limit``."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            current = current.values()
        elif not isinstance(current, list | tuple):
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((item, level) for item in current if isinstance(item, dict | list | tuple))
    return deepest


def values_within(value, limit: int) -> bool:
    """Whether ``value`` holds at most ``limit`` values, counting shared ones (YAML aliases) each time."""
    seen, stack = 0, [value]
    while stack:
        current = stack.pop()
        seen += 1
        if seen > limit:
            return False
        if isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            stack.extend(current)
    return True


@functools.cache
def lone_surrogates() -> re.Pattern:
    """A surrogate code point on its own (a pair from JSON becomes one character, so any left is lone).

    Compiled on first use, off the fast commands' start-up.
    """
    return re.compile("[\ud800-\udfff]")


def escaped(found: re.Match) -> str:
    r"""The ``\uXXXX`` text of a matched character (a lone surrogate, a control character)."""
    return f"\\u{ord(found.group()):04x}"


def without_surrogates(value):
    r"""A JSON value whose strings (keys too) have each lone surrogate as the text of its escape.

    Python keeps ``"\ud800"`` from JSON as a lone surrogate, which no UTF-8 writer accepts (pydantic
    refuses it on output); the escape keeps what the file said, and every reader can print it.
    """
    if isinstance(value, str):
        return lone_surrogates().sub(escaped, value)
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_surrogates(key): without_surrogates(item) for key, item in value.items()}
    return value


def read_json(path: str | os.PathLike, what: str, max_bytes: int, max_depth: int = MAX_JSON_DEPTH):
    """The JSON value in a regular file of at most ``max_bytes``; any problem is BadInput naming it."""
    path = regular_file(path, what)
    size = path.stat().st_size
    if size > max_bytes:
        raise BadInput(f"{what} is {size} bytes, over the {max_bytes}-byte limit", path)
    try:
        return loads(path.read_bytes(), max_depth)
    except OSError as exc:
        raise BadInput(f"cannot read {what} ({exc.strerror})", path) from None
    except UnicodeDecodeError:
        raise BadInput(f"{what} is not UTF-8 text", path) from None
    except TooComplex as exc:
        raise BadInput(f"{what} is too complex: {exc}", path) from None
    except ValueError as exc:
        raise BadInput(f"not valid JSON ({str(exc)[:120]})", path) from None


def echo(value, limit: int = MAX_ECHO_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, saying how much was left out."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value)} characters)"
    if isinstance(value, list | tuple | dict) and (len(value) > limit or depth(value, 8) > 8):
        return f"<{type(value).__name__} of {len(value)} items>"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
