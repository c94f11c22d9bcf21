"""The observation vocabulary: change kinds, observations, evidence files."""

from parity.observations.kinds import CATEGORIES, ChangeKind, all_kinds, expand_pattern, get_kind
from parity.observations.model import (
    EVIDENCE_FORMAT,
    EVIDENCE_VERSION,
    Evidence,
    EvidenceFile,
    Location,
    Observation,
    load_evidence,
)

__all__ = [
    "CATEGORIES",
    "EVIDENCE_FORMAT",
    "EVIDENCE_VERSION",
    "ChangeKind",
    "Evidence",
    "EvidenceFile",
    "Location",
    "Observation",
    "all_kinds",
    "expand_pattern",
    "get_kind",
    "load_evidence",
]
