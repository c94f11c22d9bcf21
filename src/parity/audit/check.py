"""`parity check`: run every engine on a reference and a candidate, then judge under a rulebook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.audit.artifacts import MODEL_PAIR
from parity.audit.engines import engines_for, run
from parity.engines.numeric import NumericOptions
from parity.ir.onnx_file import DEFAULT_MAX_MODEL_BYTES
from parity.judge import Judgement, judge
from parity.observations import Observation
from parity.rulebook import Rulebook, load_rulebook


@dataclass
class AuditContext:
    """A model pair, and what its engines computed so far (each later engine reads the earlier ones')."""

    reference: Path
    candidate: Path
    max_model_bytes: int
    weights_check: str = "provenance"
    reference_weights: Path | None = None
    candidate_weights: Path | None = None
    numeric_options: NumericOptions | None = None  # None: the models are not run
    graph: Any = None  # GraphComparison: the correspondence the later engines reuse
    weights: list | None = None  # TensorVerdict per matched parameter
    numeric: Any = None  # NumericResult


@dataclass
class AuditResult:
    """Observations, their judgement, and the engines' typed results that reports show."""

    reference: str
    candidate: str
    rulebook: Rulebook
    judgement: Judgement
    observations: list[Observation]
    engines: list[str]
    graph: Any = None  # GraphComparison, if the graphs could be compared
    weights: list = field(default_factory=list)  # TensorVerdict per matched parameter
    numeric: Any = None  # NumericResult, if the models ran


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
        numeric_options=numeric,
    )
    observations: list[Observation] = []
    engines = engines_for(MODEL_PAIR)
    for engine in engines:
        if on_step is not None:
            on_step(engine.step)
        observations.extend(run(engine, context))
    judgement = judge(observations, book, division, benchmark)
    return AuditResult(
        reference=str(reference),
        candidate=str(candidate),
        rulebook=book,
        judgement=judgement,
        observations=observations,
        engines=[engine.name for engine in engines],
        graph=context.graph,
        weights=context.weights or [],
        numeric=context.numeric,
    )
