"""Finding result logs in a submission's folders (os.walk: symlinked folders are not followed)."""

from __future__ import annotations

import os
from fnmatch import fnmatch


def logs_under(folder, patterns: tuple[str, ...]) -> list[str]:
    """Every file below ``folder`` whose name matches one of ``patterns``, in a stable order."""
    found = {
        os.path.normpath(os.path.join(root, name))
        for root, _dirs, names in os.walk(folder)
        for name in names
        if any(fnmatch(name, pattern) for pattern in patterns)
    }
    return sorted((path for path in found if os.path.isfile(path)), key=lambda path: path.split(os.sep))
