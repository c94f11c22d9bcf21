"""What the layout engine observes of one inference organisation folder.

Hygiene (links are ``log.file_refused``, the rest ``submission.hygiene``), system descriptions that are
missing or unreadable, scenario folders the round does not know, and models missing a scenario the round
requires of the system's type (datacenter, edge or both).
"""

from __future__ import annotations

from pathlib import Path

from parity import untrusted
from parity.audit.inference_tree import InferenceOrganisation
from parity.engines.loadgen.rounds import InferenceRound
from parity.engines.loadgen.text_file import Unreadable, checked_size
from parity.observations import plain
from parity.observations.kinds import (
    LOG_FILE_REFUSED,
    RESULT_NOT_IN_ROUND,
    SUBMISSION_HYGIENE,
    SUBMISSION_SYSTEM_INVALID,
)

ENGINE = "layout"
SYSTEM_TYPES = {
    "datacenter": "scenarios_datacenter",
    "edge": "scenarios_edge",
    "datacenter,edge": "scenarios_datacenter_edge",
    "edge,datacenter": "scenarios_datacenter_edge",
}
MAX_SYSTEM_BYTES = 1024 * 1024


def layout_observations(organisation: InferenceOrganisation, round_data: InferenceRound) -> list:
    """The organisation's own observations (see the module docstring)."""
    found = []
    for item in organisation.hygiene:
        kind = LOG_FILE_REFUSED if item.link else SUBMISSION_HYGIENE
        found.append(
            plain.observation(
                kind,
                ENGINE,
                f"{Path(item.path).name}: {item.problem}",
                [plain.location("file", item.path, item.path)],
                details={"problem": item.problem},
            )
        )
    for folder in organisation.unknown_scenarios:
        found.append(
            plain.observation(
                RESULT_NOT_IN_ROUND,
                ENGINE,
                f"unknown scenario folder: {folder.name}",
                [plain.location("file", str(folder), str(folder))],
                details={"scenario": folder.name},
            )
        )
    types: dict[str, str | None] = {}
    for system, _model in organisation.models:
        if system not in types:
            types[system] = _system_type(organisation, system, found)
    if organisation.division == "open":
        return found
    for (system, model_folder), scenarios in organisation.models.items():
        named = round_data.model_named(model_folder)
        system_type = types.get(system)
        if named is None or system_type is None:
            continue
        required = getattr(named[1], SYSTEM_TYPES[system_type])
        missing = sorted(set(required) - set(scenarios))
        if missing:
            where = organisation.path / "results" / system / model_folder
            found.append(
                plain.observation(
                    RESULT_NOT_IN_ROUND,
                    ENGINE,
                    f"{system}/{model_folder}: no {', '.join(missing)} result, which a {system_type} system "
                    "must submit",
                    [plain.location("file", str(where), str(where))],
                    details={"missing": missing, "system_type": system_type, "benchmark": named[0]},
                )
            )
    return found


def _system_type(organisation: InferenceOrganisation, system: str, found: list) -> str | None:
    """The system description's ``system_type``, or None with an observation saying why not."""
    path = organisation.systems.get(system, organisation.path / "systems" / f"{system}.json")
    problem = None
    try:
        checked_size(path, MAX_SYSTEM_BYTES)
        with open(path, "rb") as handle:
            data = untrusted.loads(handle.read(MAX_SYSTEM_BYTES))
    except Unreadable as exc:
        problem, data = str(exc), None
    except (ValueError, UnicodeDecodeError, untrusted.TooComplex) as exc:
        problem, data = f"not JSON ({str(exc)[:120]})", None
    if problem is None and not isinstance(data, dict):
        problem = f"a JSON {type(data).__name__}, not an object"
    system_type = data.get("system_type") if isinstance(data, dict) else None
    if problem is None and (
        not isinstance(system_type, str) or system_type.replace(" ", "") not in SYSTEM_TYPES
    ):
        problem = f"system_type {system_type!r} is not datacenter, edge or datacenter,edge"
    if problem is not None:
        found.append(
            plain.observation(
                SUBMISSION_SYSTEM_INVALID,
                ENGINE,
                f"systems/{system}.json: {problem}",
                [plain.location("file", str(path), str(path))],
                details={"problem": problem},
            )
        )
        return None
    return system_type.replace(" ", "")
