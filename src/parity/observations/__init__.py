"""The observation vocabulary: change kinds, observations, evidence files.

Observations are plain objects (:mod:`.plain`) on every path; pydantic validates only evidence files
(:mod:`.schema`). Names load on first use, so the fast commands never import pydantic.
"""

from parity._lazy import lazy_exports

__all__ = [
    "CATEGORIES",
    "EVIDENCE_FORMAT",
    "EVIDENCE_VERSION",
    "ChangeKind",
    "Evidence",
    "EvidenceFile",
    "EvidenceSubject",
    "Location",
    "Observation",
    "all_kinds",
    "expand_pattern",
    "get_kind",
    "load_evidence",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("CATEGORIES", "ChangeKind", "all_kinds", "expand_pattern", "get_kind"), "kinds"),
        **dict.fromkeys(
            (
                "EVIDENCE_FORMAT",
                "EVIDENCE_VERSION",
                "Evidence",
                "EvidenceFile",
                "EvidenceSubject",
                "Location",
                "Observation",
            ),
            "plain",
        ),
        "load_evidence": "schema",
    },
)
