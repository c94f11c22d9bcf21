"""parity: audit an ML benchmark implementation against its reference, rule by rule.

The public API reads like the pipeline in DESIGN.md: observations (facts) are judged under a rulebook
(data) into findings and a verdict.
"""

from parity.errors import BadInput, ExitCode, ParityError
from parity.judge import Finding, Judgement, Outcome, Verdict, judge
from parity.observations import Evidence, EvidenceFile, Location, Observation, load_evidence
from parity.rulebook import Rulebook, load_rulebook

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
