"""Bounded reading of the small text files LoadGen and the compliance scripts write."""

from __future__ import annotations

import os
import stat

#: the summaries, verify files and accuracy.txt of the published rounds are under 16 KiB
MAX_TEXT_BYTES = 4 * 1024 * 1024
MAX_LINE_CHARS = 4096


class Unreadable(Exception):
    """A file that is missing, not a regular file, too large or not text: the problem, in one line."""


def read_lines(path, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """The file's lines (each cut to :data:`MAX_LINE_CHARS`), decoded as UTF-8 with replacement.

    Raises:
        Unreadable: missing, a link or FIFO or device, larger than ``limit``, or holding NUL bytes.
    """
    checked_size(path, limit)
    with open(os.fspath(path), "rb") as handle:
        data = handle.read(limit + 1)
    if b"\0" in data:
        raise Unreadable("binary content (NUL bytes), not text")
    return [line[:MAX_LINE_CHARS] for line in data.decode("utf-8", "replace").splitlines()]


def checked_size(path, limit: int) -> int:
    """The size of ``path`` if it is a regular file itself (not a link to one) of at most ``limit`` bytes.

    Raises:
        Unreadable: missing, a link, FIFO, device or folder (a submission holds no links), or too large.
    """
    try:
        mode = os.lstat(os.fspath(path))
    except FileNotFoundError:
        raise Unreadable("missing") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode.st_mode):
        raise Unreadable("not a regular file (a link, FIFO, device or folder)")
    if through_link(path):
        raise Unreadable("reached through a linked folder (links are not followed)")
    if mode.st_size > limit:
        raise Unreadable(f"{mode.st_size} bytes, over the {limit}-byte limit")
    return mode.st_size


def through_link(path) -> bool:
    """Whether a folder on the way to ``path`` is a symbolic link (the audit resolves its root first)."""
    path = os.fspath(path)
    return os.path.realpath(path) != os.path.abspath(path)


def by_label(values: dict, label: str):
    """``values[label]`` whatever the capitalisation, or None.

    The scripts print ``Reference score`` and ``reference score`` for the same thing.
    """
    wanted = label.lower()
    return next((value for name, value in values.items() if name.lower() == wanted), None)
