"""The compliance tests as data: the files each needs, the settings it imposes, how it decides.

``data/compliance_tests.yaml`` is written by hand from the tests' own scripts and audit.config files at a
tag, each entry naming its source line; this module validates it. What the tests recompute is
:mod:`parity.engines.loadgen.compliance`.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parity.engines.loadgen.rounds import DATA_DIR
from parity.errors import BadInput
from parity.rulebook.yaml_safe import read_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerformanceBand(_Strict):
    """How a test compares its run's performance with the scored run's."""

    source: str
    metric: Literal["detail"] = Field(
        description="Where the score is read: the detail log, the record (a summary is a copy, compared)."
    )
    rates: bool = Field(
        False, description="SingleStream and MultiStream latencies compared as rates (1e9 / ns), as TEST04."
    )
    band: Literal["both", "upper"] = Field(description="both: within ±tolerance; upper: not faster.")
    tolerance: float = Field(gt=0, lt=1)
    relaxed_tolerance: float = Field(gt=0, lt=1)
    relaxed_at_most: dict[str, float] = Field(description="Scores at or below these use the relaxed band.")


class OutputChecks(_Strict):
    """TEST06's checks of the logged outputs, with the script's default parameters."""

    source: str
    samples: int = Field(gt=0)
    dtype: Literal["int64", "int32", "int16"]
    eos_token_id: int


class ComplianceTest(_Strict):
    """One test: why it exists, what it needs and how it decides."""

    purpose: str
    files: list[str]
    audit: dict[str, str] = Field(description="Effective settings the run must show ('positive': > 0).")
    performance: PerformanceBand | None = None
    outputs: OutputChecks | None = None


class ComplianceTests(_Strict):
    """Every test parity recomputes."""

    format: Literal["parity-compliance-tests"]
    source: dict[str, str]
    tests: dict[str, ComplianceTest]


@cache
def compliance_tests() -> ComplianceTests:
    """The packaged test facts.

    Raises:
        BadInput: the file does not validate (naming the key).
    """
    path = DATA_DIR / "compliance_tests.yaml"
    try:
        return ComplianceTests.model_validate(read_yaml(path))
    except ValidationError as exc:
        error = exc.errors()[0]
        raise BadInput(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", path) from None
