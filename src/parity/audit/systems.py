"""System descriptions (``systems/<system>.json``): complete, meaningful, and consistent with the logs.

The fields are those mlperf-logging's system description checker requires; unlike it, an empty string or
a placeholder is not a value, and the logs' ``submission_*`` records are compared with the description
(both sides' status wordings are read by one function, :func:`status_meaning`;
mlcommons/logging #387).
"""

from __future__ import annotations

import re
from pathlib import Path

from parity.errors import BadInput
from parity.observations import plain
from parity.observations.kinds import (
    SUBMISSION_INCONSISTENT,
    SUBMISSION_SYSTEM_INCOMPLETE,
    SUBMISSION_SYSTEM_INVALID,
)
from parity.untrusted import echo, read_json

REQUIRED_FIELDS = (
    "submitter",
    "division",
    "status",
    "system_name",
    "number_of_nodes",
    "host_processors_per_node",
    "host_processor_model_name",
    "host_processor_core_count",
    "host_processor_vcpu_count",
    "host_processor_frequency",
    "host_processor_caches",
    "host_processor_interconnect",
    "host_memory_capacity",
    "host_storage_type",
    "host_storage_capacity",
    "host_networking",
    "host_networking_topology",
    "host_memory_configuration",
    "accelerators_per_node",
    "accelerator_model_name",
    "accelerator_host_interconnect",
    "accelerator_frequency",
    "accelerator_on-chip_memories",
    "accelerator_memory_configuration",
    "accelerator_memory_capacity",
    "accelerator_interconnect",
    "accelerator_interconnect_topology",
    "cooling",
    "hw_notes",
    "framework",
    "other_software_stack",
    "operating_system",
    "sw_notes",
)
#: fields a description may leave empty (free-text notes; the published descriptions often do)
MAY_BE_EMPTY = frozenset(
    {"hw_notes", "sw_notes", "host_networking_topology", "accelerator_interconnect_topology"}
)
#: the status vocabulary from round 4.0 (mlperf-logging's system description checker)
STATUSES = ("Available on-premise", "Available cloud", "Research, Development, or Internal (RDI)", "Preview")
#: what each status wording means (letters only, lower case): the logs' words, the 4.0 vocabulary, the
#: older rounds' words and the spellings published descriptions use. "available" alone (before 4.0) is
#: either of on-premise and cloud.
STATUS_WORDS = {
    "onprem": {"onprem"},
    "onpremise": {"onprem"},
    "onpremises": {"onprem"},
    "availableonpremise": {"onprem"},
    "availableonpremises": {"onprem"},
    "availableonprem": {"onprem"},
    "available": {"onprem", "cloud"},
    "cloud": {"cloud"},
    "availablecloud": {"cloud"},
    "availableincloud": {"cloud"},
    "availableinthecloud": {"cloud"},
    "research": {"rdi"},
    "rdi": {"rdi"},
    "researchdevelopmentorinternal": {"rdi"},
    "researchdevelopmentorinternalrdi": {"rdi"},
    "researchdevelopmentinternal": {"rdi"},
    "preview": {"preview"},
}
#: fields that count something: a positive whole number, written as a number or in digits
COUNT_FIELDS = ("number_of_nodes", "host_processors_per_node", "accelerators_per_node")
PLACEHOLDER = re.compile(r"^\s*(|tbd|todo|xxx+|fixme|<[^>]*>|\?+|placeholder)\s*$", re.IGNORECASE)
MAX_DESCRIPTION_BYTES = 1024**2


class SystemDescription:
    """One ``systems/<system>.json``: its data (None if unreadable) and what was observed of it."""

    __slots__ = ("data", "observations", "path")

    def __init__(self, path: Path, data: dict | None, observations: list[plain.Observation]) -> None:
        self.path, self.data, self.observations = path, data, observations

    @property
    def division(self) -> str:
        """The division it states (``closed`` when unreadable or unknown)."""
        division = str((self.data or {}).get("division", "closed")).strip().lower()
        return division if division in ("closed", "open") else "closed"


def describe(path: Path, ruleset: str) -> SystemDescription:
    """Read and check one description; an unreadable one is a ``submission.system_invalid`` finding."""
    try:
        data = read_description(path)
    except BadInput as exc:
        return SystemDescription(path, None, [unreadable(path, exc.problem)])
    return SystemDescription(path, data, description_observations(path, data, ruleset))


def unreadable(path, problem: str) -> plain.Observation:
    """``submission.system_invalid`` for a description that is missing or cannot be read."""
    where = [plain.location("file", str(path))]
    summary = f"{Path(str(path)).name}: {problem}"
    return plain.observation(SUBMISSION_SYSTEM_INVALID, "submission", summary, where, {}, {"fields": []})


def read_description(path: Path) -> dict:
    """The description's JSON object.

    Raises:
        BadInput: unreadable, too large, not JSON or not an object.
    """
    data = read_json(path, "system description", MAX_DESCRIPTION_BYTES)
    if not isinstance(data, dict):
        raise BadInput("a system description must be a JSON object", path)
    return data


def _count(value) -> bool:
    """Whether ``value`` is a count: a positive integer, or its digits (``"8"``); ``"NaN"`` is not."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value) is not None and int(value) > 0


def description_observations(path: Path, data: dict, ruleset: str) -> list[plain.Observation]:
    """``submission.system_invalid`` for missing fields and a bad status, ``system_incomplete`` for empties.

    The fields left empty or holding placeholders make one observation per description.
    """
    found = []
    missing = [name for name in REQUIRED_FIELDS if name not in data]
    if missing:
        found.append(
            _invalid(path, missing, f"{len(missing)} required field(s) missing: {', '.join(missing)}")
        )
    empty = [
        name
        for name in REQUIRED_FIELDS
        if name in data
        and name not in MAY_BE_EMPTY
        and (
            data[name] is None
            or (isinstance(data[name], str) and PLACEHOLDER.match(data[name]))
            or (name in COUNT_FIELDS and not _count(data[name]))
        )
    ]
    if empty:
        summary = (
            f"{path.name}: {len(empty)} required field(s) empty, placeholders or not counts: "
            + ", ".join(empty)
        )
        where = [plain.location("file", str(path))]
        details = {"fields": empty}
        found.append(
            plain.observation(SUBMISSION_SYSTEM_INCOMPLETE, "submission", summary, where, {}, details)
        )
    status = data.get("status")
    if (
        tuple(int(part) for part in ruleset.split(".")[:2]) >= (4, 0)
        and "status" in data
        and status not in STATUSES
    ):
        found.append(_invalid(path, ["status"], f"status {echo(status)} is not one of {', '.join(STATUSES)}"))
    return found


def _invalid(path: Path, names: list[str], problem: str) -> plain.Observation:
    where = plain.location("file", str(path))
    return plain.observation(
        SUBMISSION_SYSTEM_INVALID, "submission", f"{path.name}: {problem}", [where], {}, {"fields": names}
    )


def consistency_observations(path: Path, data: dict, system: str, logged: dict) -> list[plain.Observation]:
    """``submission.inconsistent`` where a log's submission_org, _status or _platform disagrees.

    A log that kept the reference's placeholder (``SUBMISSION_ORG_PLACEHOLDER``) states nothing and is not
    compared. ``submission_platform`` is not compared: the published logs write ``<nodes>x`` and free text
    there (``128xNVIDIA GB200`` under a system named ``theia_ngpu512_ngc25.09_nemo``).
    """
    expected = {"submission_org": [data.get("submitter")], "submission_status": [data.get("status")]}
    found = []
    for key, candidates in expected.items():
        value = logged.get(key)
        known = [candidate for candidate in candidates if isinstance(candidate, str) and candidate.strip()]
        if not isinstance(value, str) or "PLACEHOLDER" in value.upper() or not known:
            continue
        if key == "submission_status":
            agrees = any(statuses_agree(value, candidate) for candidate in known)
        else:
            stated = _letters(value)
            agrees = any(stated in _letters(c) or _letters(c) in stated for c in known if _letters(c))
        if agrees:
            continue
        log = Path(str(logged.get("file", path)))
        summary = f"{key} {echo(value)} in {log.name}, but {path.name} says {echo(known[0])}"
        where = [plain.location("file", str(log))]
        details = {"key": key, "value": value, "description": known[0]}
        found.append(plain.observation(SUBMISSION_INCONSISTENT, "submission", summary, where, {}, details))
    return found


def status_meaning(text: str) -> frozenset[str]:
    """What a status wording means, read the same way on both sides (log and description).

    A wording this table does not know means itself (its letters), so two unknown spellings agree only
    when they are the same word.
    """
    letters = _letters(text)
    return frozenset(STATUS_WORDS.get(letters, {letters}))


def statuses_agree(logged: str, described: str) -> bool:
    """Whether the log's submission_status and the description's status can mean the same thing."""
    return bool(status_meaning(logged) & status_meaning(described))


def _letters(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())
