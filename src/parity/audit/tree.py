"""The layout of a training submission: organisations, their systems and benchmark folders, and the rest.

An organisation folder holds ``systems/<system>.json`` and ``results/<system>/<benchmark>/result_*.txt``
(``benchmarks/`` holds code and is not read). A round folder holds organisation folders. The walk reads
only names and file types (no content), never follows a link out of the tree, and returns what it found
and what it would not read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from parity.engines.logs.files import MAX_LOG_BYTES, Refused, logs_under
from parity.errors import BadInput

#: files a benchmark folder may hold besides its result logs
KNOWN_EXTRAS = frozenset({"package_checker_params", "scaling.json"})


@dataclass
class BenchmarkFolder:
    """One ``results/<system>/<benchmark>`` folder."""

    path: Path
    organisation: str
    system: str
    benchmark: str
    logs: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)


@dataclass
class Organisation:
    """One organisation folder."""

    path: Path
    name: str
    systems: dict[str, Path] = field(default_factory=dict)  # system name -> its description
    benchmarks: list[BenchmarkFolder] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)  # unknown benchmark folders, results without systems
    refused: list[Refused] = field(default_factory=list)


def is_organisation(folder: Path) -> bool:
    """A folder with ``results/`` (and usually ``systems/``)."""
    return (folder / "results").is_dir() and not (folder / "results").is_symlink()


def organisations(path: str | os.PathLike) -> list[Organisation]:
    """The organisation folders at ``path``: itself, or the ones it holds (a whole round).

    Raises:
        BadInput: ``path`` is not a folder, or holds no organisation folder.
    """
    root = Path(path)
    if not root.is_dir():
        raise BadInput("not a submission folder", root)
    if is_organisation(root):
        return [_organisation(root)]
    found = [
        _organisation(child)
        for child in sorted(root.iterdir())
        if child.is_dir() and not child.is_symlink() and is_organisation(child)
    ]
    if not found:
        raise BadInput("no organisation folder (one with results/ and systems/) here or one level down", root)
    return found


def _organisation(folder: Path) -> Organisation:
    organisation = Organisation(folder, folder.name)
    systems = folder / "systems"
    if systems.is_dir():
        for entry in sorted(systems.iterdir()):
            if entry.suffix == ".json" and entry.is_symlink():
                organisation.refused.append(Refused(str(entry), "symlink in systems/ (not followed)"))
            elif entry.suffix == ".json":
                organisation.systems[entry.stem] = entry
    for system in _folders(folder / "results", organisation):
        for benchmark in _folders(system, organisation):
            organisation.benchmarks.append(_benchmark(benchmark, organisation.name, system.name))
    return organisation


def _folders(folder: Path, organisation: Organisation) -> list[Path]:
    """Sub-folders of ``folder``; links and files there are reported, not followed."""
    found = []
    for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
        if entry.is_symlink():
            organisation.refused.append(Refused(str(entry), "symlink in the results tree (not followed)"))
        elif entry.is_dir():
            found.append(entry)
        else:
            organisation.stray.append(str(entry))
    return found


def _benchmark(folder: Path, organisation: str, system: str) -> BenchmarkFolder:
    result = BenchmarkFolder(folder, organisation, system, folder.name)
    result.logs, result.refused = logs_under(folder, ("result_*.txt",))
    named = {os.path.basename(path) for path in result.logs} | {
        os.path.basename(item.path) for item in result.refused
    }
    for entry in sorted(folder.iterdir()):
        if entry.name in named or entry.name in KNOWN_EXTRAS or (entry.is_dir() and entry.name == "power"):
            continue
        if entry.is_file() and not entry.is_symlink() and entry.stat().st_size > MAX_LOG_BYTES:
            result.refused.append(Refused(str(entry), f"larger than the {MAX_LOG_BYTES}-byte limit"))
        else:
            result.stray.append(str(entry))
    result.logs = [path for path in result.logs if os.path.dirname(path) == str(folder)]  # not nested ones
    return result


def layout_observations(organisation: Organisation, rules) -> list[dict]:
    """What the layout engine reports of one organisation folder.

    Files that were not read (links, FIFOs, oversized files), files and folders the layout does not
    define, and results of a system with no description. A benchmark folder the round does not define
    for its division is audited and reported as such (``submission.undefined_benchmark``).
    """
    from parity.audit.systems import unreadable
    from parity.engines.logs.checker import refused_observation
    from parity.observations import plain
    from parity.observations.kinds import SUBMISSION_STRAY_FILE

    found = [refused_observation(item) for item in organisation.refused]
    where = [plain.location("file", str(organisation.path))]
    found += [
        plain.observation(
            SUBMISSION_STRAY_FILE, "submission", f"not part of the layout: {Path(p).name}", where
        )
        for p in organisation.stray
    ]
    missing = set()
    for folder in organisation.benchmarks:  # a benchmark the round does not define: the folder's finding
        if folder.system not in organisation.systems and folder.system not in missing:
            missing.add(folder.system)
            found.append(unreadable(folder.path, f"no systems/{folder.system}.json"))
    return found
