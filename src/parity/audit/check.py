"""`parity check`: run every engine on a reference and a candidate, then judge under a rulebook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.audit.engines import ENGINES, AuditContext
from parity.engines.numeric import NumericOptions
from parity.ir.onnx_file import DEFAULT_MAX_MODEL_BYTES
from parity.judge import Judgement, judge
from parity.observations import Observation
from parity.rulebook import Rulebook, load_rulebook


@dataclass
class AuditResult:
    """Observations, their judgement, and what the engines computed on the way."""

    reference: str
    candidate: str
    rulebook: Rulebook
    judgement: Judgement
    observations: list[Observation]
    engines: list[str]
    stash: dict[str, Any] = field(default_factory=dict)


def check(
    reference: str | Path,
    candidate: str | Path,
    rulebook: str | Rulebook,
    division: str = "closed",
    benchmark: str | None = None,
    max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES,
    reference_weights: str | Path | None = None,
    candidate_weights: str | Path | None = None,
    numeric: NumericOptions | None = None,
    on_step: Callable[[str], None] | None = None,
) -> AuditResult:
    """Audit ``candidate`` against ``reference`` under ``rulebook``.

    ``numeric`` options make the numeric engine run both models (sandboxed); without them it is skipped.
    ``on_step`` is told what each engine does as it starts (for progress display).

    Raises:
        BadInput: a model, the inputs or the rulebook are missing, malformed or hostile.
    """
    book = rulebook if isinstance(rulebook, Rulebook) else load_rulebook(rulebook)
    context = AuditContext(
        Path(reference),
        Path(candidate),
        max_model_bytes,
        weights_check=book.weights_check,
        reference_weights=None if reference_weights is None else Path(reference_weights),
        candidate_weights=None if candidate_weights is None else Path(candidate_weights),
        numeric=numeric,
    )
    observations: list[Observation] = []
    for engine_type in ENGINES:
        if on_step is not None:
            on_step(engine_type.step)
        observations.extend(engine_type().observe(context))
    judgement = judge(observations, book, division, benchmark)
    return AuditResult(
        reference=str(reference),
        candidate=str(candidate),
        rulebook=book,
        judgement=judgement,
        observations=observations,
        engines=[engine.name for engine in ENGINES],
        stash=context.stash,
    )
