"""Corpora built once per environment: keyed by the tools' versions and the corpus's own source.

Exporting models and running every tool on them takes minutes; the result only changes when a tool or
the corpus code does. A corpus is built into ``$PARITY_CORPUS_CACHE`` (default ``~/.cache/parity/corpus``)
under a key hashed from both, and reused while the key holds. The manifest is written last, so a build
that was interrupted is started again; a lock lets parallel test workers wait for one build.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from realtools.corpus import Case, load, versions

SOURCES = Path(__file__).resolve().parent


def cache_root() -> Path:
    """Where built corpora are kept."""
    configured = os.environ.get("PARITY_CORPUS_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "parity" / "corpus"


def key(what: str = "") -> str:
    """A hash of every tool's version, of the corpus's source files and of ``what`` is built (a slice)."""
    digest = hashlib.sha256(json.dumps(versions(), sort_keys=True).encode() + what.encode())
    for path in sorted(SOURCES.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cached(
    name: str, build: Callable[[Path], tuple[list[Case], list[dict]]], what: str = ""
) -> tuple[list[Case], list[dict]]:
    """The corpus ``name`` as ``build(folder)`` writes it, built now only if this environment has none.

    ``what`` describes the selection ``build`` makes (a slice's pairs): another selection, another corpus.
    """
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"{name}-{key(what)}"
    with open(root / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "manifest.json").is_file():
            return load(folder)
        shutil.rmtree(folder, ignore_errors=True)  # an interrupted build
        return build(folder)
