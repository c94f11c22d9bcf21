"""The engines an audit runs, registered in one tuple (pytest's ``default_plugins``).

An engine has a name, the change kinds it may emit, and ``observe(context)``; it keeps what later engines
reuse (the graph correspondence) in the context's stash. Adding a check is adding an engine here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol

from parity.observations import Observation


@dataclass
class AuditContext:
    """What an audit is about, and the state engines share."""

    reference: Path
    candidate: Path
    max_model_bytes: int
    weights_check: str = "provenance"
    reference_weights: Path | None = None
    candidate_weights: Path | None = None
    numeric: Any = None  # NumericOptions, or None to skip running the models
    stash: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    """The engine protocol."""

    name: ClassVar[str]
    step: ClassVar[str]  # what the user is told while it runs

    def observe(self, context: AuditContext) -> list[Observation]:
        """Observations about how the candidate differs from the reference."""
        ...


class GraphEngine:
    """Structural equivalence of the two ONNX graphs (see parity.engines.graph)."""

    name = "graph"
    step = "loading and canonicalising both graphs"

    def observe(self, context: AuditContext) -> list[Observation]:
        """Load, canonicalise and match both graphs; stash the comparison for later engines."""
        from parity.engines.graph import compare_graphs
        from parity.ir import load_graph
        from parity.ir.weights_files import attach_weights

        reference = load_graph(context.reference, context.max_model_bytes)
        candidate = load_graph(context.candidate, context.max_model_bytes)
        if context.reference_weights is not None:
            attach_weights(reference, context.reference_weights)
        if context.candidate_weights is not None:
            attach_weights(candidate, context.candidate_weights)
        try:
            comparison = compare_graphs(reference, candidate)
            if context.numeric is not None:
                _verify_regions(comparison, context)
        except (ValueError, KeyError, IndexError, TypeError, ArithmeticError, RecursionError) as exc:
            # a model parity cannot analyse is a finding for a reviewer, never an internal error
            return [_not_analysed(exc)]
        context.stash["graph"] = comparison
        context.stash["graph_observations"] = comparison.observations
        return comparison.observations


def _not_analysed(exc: Exception) -> Observation:
    from parity.observations import Evidence

    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    return Observation(
        kind="graph.not_analysed",
        engine="graph",
        summary=f"the two graphs could not be compared ({reason})",
        evidence=Evidence(details={"reason": reason}),
    )


def _verify_regions(comparison, context: AuditContext) -> None:
    """Regions no proof settled, run on both sides (sandboxed) before anything is judged."""
    from parity.engines.numeric.compare import Tolerance
    from parity.engines.numeric.engine import candidate_format, samples_for
    from parity.engines.numeric.regions import verify_regions

    if not any(
        not check.equivalent and check.boundary and not check.refuted for check, _ in comparison.regions
    ):
        return
    tolerance = Tolerance.for_format(candidate_format(comparison.observations))
    samples, _ = samples_for(comparison.reference, context.numeric)
    verify_regions(
        comparison,
        samples,
        tolerance,
        context.reference,
        context.numeric.time_limit,
        context.numeric.memory_limit,
    )


class WeightsEngine:
    """Parameter provenance or initialisation distribution, over the graph engine's correspondence."""

    name = "weights"
    step = "comparing the weights"

    def observe(self, context: AuditContext) -> list[Observation]:
        """Classify every matched parameter pair in the mode the rulebook asks for."""
        from parity.engines.weights import compare_weights

        comparison = context.stash.get("graph")
        if comparison is None:
            return []
        observations, verdicts = compare_weights(comparison, context.weights_check)
        context.stash["weights"] = verdicts
        return observations


class NumericEngine:
    """Both models run sandboxed on the same inputs; outputs compared, the first divergence located."""

    name = "numeric"
    step = "running both models (sandboxed)"

    def observe(self, context: AuditContext) -> list[Observation]:
        """Run and compare, when numeric options were given and the graph engine ran."""
        from parity.engines.numeric import compare_numerics

        comparison = context.stash.get("graph")
        if comparison is None or context.numeric is None:
            return []
        options = context.numeric
        if context.weights_check == "distribution":  # training: judge the computation, not the draw
            options = replace(options, transplant=True)
        result = compare_numerics(
            comparison,
            context.reference,
            context.candidate,
            context.stash.get("graph_observations", []),
            options,
            context.stash.get("weights"),
        )
        context.stash["numeric"] = result
        return result.observations


ENGINES: tuple[type[Engine], ...] = (GraphEngine, WeightsEngine, NumericEngine)
