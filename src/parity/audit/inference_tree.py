"""The layout of an inference submission: divisions, organisations, systems and results, in either layout.

Through v5.1 an organisation folder holds ``results/``, ``compliance/`` and ``measurements/``, each
``<system>/<model>/<scenario>``; from v6.0 the compliance tests and measurements sit in the result's own
scenario folder. A round folder holds division folders, a division folder organisation folders. The walk
reads names and file types only, never follows a link, and notes what the submission rules keep out of a
submission (the official checker's hygiene: links, dot-names, spaces, oversized files, empty folders, a
missing or empty calibration document).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from parity import untrusted
from parity.engines.loadgen.result_check import ResultPaths
from parity.engines.loadgen.text_file import Unreadable, checked_size, through_link
from parity.errors import BadInput

DIVISIONS = ("closed", "open", "network")
SCENARIOS = ("Offline", "Server", "SingleStream", "MultiStream", "Interactive")
#: submission_checker.py v5.1.1:724 (SCENARIO_MAPPING): lower-case folder names are accepted
SCENARIO_NAMES = {name.lower(): name for name in SCENARIOS}
#: submission_checker.py v5.1.1:687
FILE_SIZE_LIMIT = 50 * 1024 * 1024
#: what the v5.1.1 checker tolerates next to the results (2280-2360)
IGNORED_NAMES = frozenset({".git", ".gitattributes", ".github", ".gitignore"})
#: the deepest folder the hygiene walk enters below an organisation (a result's files are 8 deep); the
#: bound parity uses for nesting elsewhere (untrusted.MAX_JSON_DEPTH)
MAX_FOLDER_DEPTH = untrusted.MAX_JSON_DEPTH
#: submission_checker.py v5.1.1:2366-2374: an Open organisation's folder -> model names
MODEL_MAPPING = "model_mapping.json"
MAX_MODEL_MAPPING_BYTES = 1024 * 1024


@dataclass
class Hygiene:
    """One file or folder the submission rules keep out, with why."""

    path: str
    problem: str
    link: bool = False


@dataclass
class InferenceOrganisation:
    """One organisation folder of one division."""

    path: Path
    name: str
    division: str
    systems: dict[str, Path] = field(default_factory=dict)
    results: list[ResultPaths] = field(default_factory=list)
    models: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (system, model) -> scenarios
    hygiene: list[Hygiene] = field(default_factory=list)
    unknown_scenarios: list[Path] = field(default_factory=list)


def is_inference_organisation(folder: Path) -> bool:
    """An organisation folder whose results are LoadGen runs (``<system>/<model>/<scenario>/``)."""
    results = folder / "results"
    if not results.is_dir() or results.is_symlink():
        return False
    if (folder / "compliance").is_dir() or (folder / "measurements").is_dir():
        return True
    for system in _children(results):
        for model in _children(system):
            if any((scenario / "performance").is_dir() for scenario in _children(model)):
                return True
    return False


def is_inference_tree(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an inference organisation, division or round folder."""
    root = Path(path)
    return any(is_inference_organisation(folder) for folder, _ in _organisation_folders(root))


def inference_organisations(path: str | os.PathLike, new_layout: bool) -> list[InferenceOrganisation]:
    """The organisation folders at ``path`` (a round, a division or one organisation), walked.

    Raises:
        BadInput: ``path`` is not a folder, or holds no inference organisation folder.
    """
    if not Path(path).is_dir():
        raise BadInput("not a submission folder", path)
    root = Path(path).resolve()  # links inside the tree are then told apart from the way to it
    found = [
        _organisation(folder, division, new_layout)
        for folder, division in _organisation_folders(root)
        if is_inference_organisation(folder)
    ]
    if not found:
        raise BadInput("no inference organisation folder (results/<system>/<model>/<scenario>/) here", root)
    return found


def _organisation_folders(root: Path) -> list[tuple[Path, str]]:
    """(folder, division) of every candidate organisation: the root, its children, or grandchildren."""
    if (root / "results").is_dir():
        return [(root, root.parent.name if root.parent.name in DIVISIONS else "closed")]
    if root.name in DIVISIONS:
        return [(child, root.name) for child in _children(root)]
    return [
        (org, division.name)
        for division in _children(root)
        if division.name in DIVISIONS
        for org in _children(division)
    ]


def _children(folder: Path) -> list[Path]:
    """Sub-folders (not links), sorted; nothing if ``folder`` cannot be listed."""
    try:
        return sorted(entry for entry in folder.iterdir() if entry.is_dir() and not entry.is_symlink())
    except OSError:
        return []


def _organisation(folder: Path, division: str, new_layout: bool) -> InferenceOrganisation:
    organisation = InferenceOrganisation(folder, folder.name, division)
    extra = model_mapping(folder) if division == "open" else None
    systems = folder / "systems"
    for entry in sorted(systems.iterdir()) if systems.is_dir() and not systems.is_symlink() else []:
        if entry.suffix == ".json" and not entry.is_symlink():
            organisation.systems[entry.stem] = entry
    for system in _children(folder / "results"):
        for model in _children(system):
            scenarios = organisation.models.setdefault((system.name, model.name), [])
            for scenario_folder in _children(model):
                scenario = SCENARIO_NAMES.get(scenario_folder.name.lower())
                if scenario is None:
                    organisation.unknown_scenarios.append(scenario_folder)
                    continue
                scenarios.append(scenario)
                organisation.results.append(
                    _result(folder, system.name, model.name, scenario_folder, division, new_layout, extra)
                )
    organisation.hygiene = hygiene(folder, division)
    return organisation


def model_mapping(folder: Path) -> dict[str, str] | None:
    """An Open organisation's ``model_mapping.json`` (folder name -> model), its string pairs only.

    None if there is none or it cannot be read: the folders it would name are then unknown models.
    """
    path = folder / MODEL_MAPPING
    try:
        checked_size(path, MAX_MODEL_MAPPING_BYTES)
        with open(path, "rb") as handle:
            data = untrusted.loads(handle.read(MAX_MODEL_MAPPING_BYTES))
    except (Unreadable, OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _result(
    org: Path,
    system: str,
    model: str,
    folder: Path,
    division: str,
    new_layout: bool,
    extra: dict[str, str] | None = None,
) -> ResultPaths:
    """Where one result's compliance tests and measurements are, in the layout the tree uses."""
    relative = Path(system) / model / folder.name
    separate = (org / "compliance" / relative).is_dir() or (org / "measurements" / relative).is_dir()
    in_place = new_layout or (
        not separate and any((folder / t).is_dir() for t in ("TEST01", "TEST04", "TEST06"))
    )
    compliance = folder if in_place else org / "compliance" / relative
    measurements = folder if in_place else org / "measurements" / relative
    return ResultPaths(
        folder, system, model, SCENARIO_NAMES[folder.name.lower()], division, compliance, measurements, extra
    )


def hygiene(folder: Path, division: str) -> list[Hygiene]:
    """What the submission rules keep out of an organisation folder (names and sizes only).

    The walk is iterative (no recursion for a submitter to exhaust) and stops :data:`MAX_FOLDER_DEPTH`
    folders below the organisation: deeper nesting is itself a finding, as is a folder that cannot be
    listed (a path too long for the system, say), never a crash that ends the audit of the round.
    """
    found: list[Hygiene] = []
    stack: list[tuple[Path, int]] = [(folder, 0)]
    while stack:
        here, level = stack.pop()
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            found.append(Hygiene(str(here), f"a folder that cannot be listed ({exc.strerror or exc})"))
            continue
        dirs, files = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # a link to a folder is listed with the folders, as os.walk does
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry)
        dirs = [d for d in dirs if d.name not in IGNORED_NAMES]
        walked = []
        for entry in dirs:
            path = here / entry.name
            if entry.is_symlink():
                found.append(Hygiene(str(path), "a symbolic link (not followed)", link=True))
            elif entry.name == "__pycache__" or entry.name.startswith("."):
                found.append(
                    Hygiene(
                        str(path), f"a {'dot-named' if entry.name.startswith('.') else '__pycache__'} folder"
                    )
                )
            else:
                walked.append(path)
        if not walked and not files and here != folder:
            found.append(Hygiene(str(here), "an empty folder"))
        for entry in files:
            if entry.name in IGNORED_NAMES:
                continue
            path = here / entry.name
            if entry.is_symlink():
                found.append(Hygiene(str(path), "a symbolic link (not followed)", link=True))
            elif entry.name.startswith("."):
                found.append(Hygiene(str(path), "a dot-named file"))
            elif " " in entry.name:
                found.append(Hygiene(str(path), "a space in the file name"))
            else:
                try:
                    size = entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
                if size > FILE_SIZE_LIMIT:
                    found.append(Hygiene(str(path), f"{size} bytes, over the {FILE_SIZE_LIMIT}-byte limit"))
        if walked and level >= MAX_FOLDER_DEPTH:
            found.append(
                Hygiene(
                    str(here),
                    f"folders nested over {MAX_FOLDER_DEPTH} deep below the organisation (not walked)",
                )
            )
            continue
        stack.extend((path, level + 1) for path in reversed(walked))
    if division in ("closed", "network"):
        documents = [folder / "calibration.md", folder / "documentation" / "calibration.md"]
        present = [d for d in documents if d.is_file() and not d.is_symlink() and not through_link(d)]
        if not present:
            found.append(Hygiene(str(documents[1]), "no calibration document (calibration.md)"))
        elif all(d.stat().st_size == 0 for d in present):
            found.append(Hygiene(str(present[0]), "an empty calibration document"))
    return found
