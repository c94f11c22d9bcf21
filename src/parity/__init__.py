"""parity: audit an ML benchmark implementation against its reference, rule by rule.

The public API reads like the pipeline in DESIGN.md: observations (facts) are judged under a rulebook
(data) into findings and a verdict. Names load on first use, so the command line starts fast.
"""

from parity._lazy import lazy_exports

__version__ = "0.1.0"

__all__ = [
    "BadInput",
    "Evidence",
    "EvidenceFile",
    "ExitCode",
    "Finding",
    "Judgement",
    "Location",
    "Observation",
    "Outcome",
    "ParityError",
    "Rulebook",
    "Verdict",
    "__version__",
    "judge",
    "load_evidence",
    "load_rulebook",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("BadInput", "ExitCode", "ParityError"), "errors"),
        **dict.fromkeys(("Finding", "Judgement", "Outcome", "Verdict", "judge"), "judge"),
        **dict.fromkeys(
            ("Evidence", "EvidenceFile", "Location", "Observation", "load_evidence"), "observations"
        ),
        **dict.fromkeys(("Rulebook", "load_rulebook"), "rulebook"),
    },
)
