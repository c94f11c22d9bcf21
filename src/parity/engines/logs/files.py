"""Finding result logs in a submission's folders, reading only regular files inside the tree.

The walk keeps its own stack (a folder chain thousands deep cannot exhaust the interpreter's), does not
follow symlinked folders, and refuses what it must not read: a symlink whose target leaves the audited
folder, FIFOs, devices and sockets (reading one blocks or lies), and folders nested past a bound. What it
refuses is returned with the reason, so the audit reports it instead of silently skipping it.
"""

from __future__ import annotations

import os
import stat
from collections import namedtuple
from fnmatch import fnmatch

#: the deepest folder read below the one audited (a submission tree is under ten levels)
MAX_FOLDER_DEPTH = 64
#: the largest log read (the largest published result logs are tens of megabytes)
MAX_LOG_BYTES = 1024**3

#: A file the walk would not read, and why.
Refused = namedtuple("Refused", "path reason")


def logs_under(folder, patterns: tuple[str, ...]) -> tuple[list[str], list[Refused]]:
    """(every readable file below ``folder`` whose name matches ``patterns``, in a stable order; refusals)."""
    root = os.path.realpath(folder)
    found: list[str] = []
    refused: list[Refused] = []
    stack = [(os.path.normpath(os.fspath(folder)), 0)]
    while stack:
        current, level = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError as exc:
            refused.append(Refused(current, f"folder cannot be read ({exc.strerror})"))
            continue
        for entry in entries:
            path = os.path.normpath(os.path.join(current, entry.name))
            matches = any(fnmatch(entry.name, pattern) for pattern in patterns)
            if entry.is_symlink():
                target = os.path.realpath(path)
                if os.path.commonpath([root, target]) != root:
                    if matches or os.path.isdir(target):  # a folder outside could hide logs
                        refused.append(Refused(path, "symlink leaving the audited folder"))
                elif matches and not os.path.isdir(target):  # symlinked folders are not followed
                    _take(path, target, found, refused)
                continue
            if entry.is_dir(follow_symlinks=False):
                if level + 1 > MAX_FOLDER_DEPTH:
                    refused.append(Refused(path, f"folder nested deeper than {MAX_FOLDER_DEPTH} levels"))
                else:
                    stack.append((path, level + 1))
            elif matches:
                _take(path, path, found, refused)
    found.sort(key=lambda path: path.split(os.sep))
    refused.sort(key=lambda item: item.path.split(os.sep))
    return found, refused


def _take(path: str, target: str, found: list[str], refused: list[Refused]) -> None:
    """Keep ``path`` if what it names is a regular file; else say why not."""
    try:
        info = os.stat(target)
    except OSError as exc:
        refused.append(Refused(path, f"cannot be read ({exc.strerror})"))
        return
    if stat.S_ISREG(info.st_mode) and info.st_size > MAX_LOG_BYTES:
        refused.append(Refused(path, f"larger than the {MAX_LOG_BYTES}-byte limit"))
    elif stat.S_ISREG(info.st_mode):
        found.append(path)
    else:
        refused.append(Refused(path, "not a regular file (a FIFO, device or socket)"))
