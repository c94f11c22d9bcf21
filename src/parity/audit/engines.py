"""The engines, registered in one tuple (pytest's ``default_plugins``), each with what it reads and emits.

An engine has a ``name``, the :class:`~parity.audit.artifacts.Artifact` it ``reads``, the change kinds it
``emits`` (constants of :mod:`parity.observations.kinds`), a ``step`` for progress displays, and
``observe(subject)``, which returns a typed result: a list of observations, or an object whose
``observations`` field holds them next to what reports show (a comparison, a benchmark's score).
:func:`run` calls an engine and refuses a kind it did not declare, so a declaration cannot drift from
what the code emits. ``parity check`` runs the model-pair engines; ``parity audit`` walks a submission
and runs the engines of each artifact it finds. Adding a check is adding an engine here (README).

Nothing heavy is imported at module level: the submission audit's workers and the fast commands load
this module too.
"""

from __future__ import annotations

from parity.audit.artifacts import (
    BENCHMARK_FOLDER,
    INFERENCE_LAYOUT,
    INFERENCE_RESULT,
    MLLOG_FILE,
    MODEL_PAIR,
    SUBMISSION_LAYOUT,
    SYSTEM_DESCRIPTION,
    Artifact,
)
from parity.observations import kinds as vocabulary
from parity.observations.kinds import (
    ACCURACY_BELOW_TARGET,
    CONVERGENCE_FASTER,
    CONVERGENCE_METHODS_DISAGREE,
    CONVERGENCE_REFERENCE_MISSING,
    EXECUTION_FAILED,
    GRAPH_QUANTIZED,
    HPARAM_CHANGED,
    HPARAM_OUT_OF_RANGE,
    LOG_EVENT_MISSING,
    LOG_FILE_REFUSED,
    LOG_QUALITY_TARGET_MISSED,
    LOG_SEED_INVALID,
    LOG_TIME_LIMIT_EXCEEDED,
    NOT_ANALYSED,
    OUTPUTS_DIFFER,
    OUTPUTS_MATCH,
    PRECISION_CHANGED,
    RESULT_NOT_IN_ROUND,
    SUBMISSION_HYGIENE,
    SUBMISSION_INCONSISTENT,
    SUBMISSION_RUN_COUNT,
    SUBMISSION_RUNS_FAILED,
    SUBMISSION_STRAY_FILE,
    SUBMISSION_SYSTEM_INCOMPLETE,
    SUBMISSION_SYSTEM_INVALID,
    SUBMISSION_UNDEFINED_BENCHMARK,
    WEIGHTS_REINIT_SAME,
    ChangeKind,
)


class UndeclaredKind(RuntimeError):
    """An engine emitted a kind it does not declare: a bug in parity, reported as one (exit 4)."""


class Engine:
    """The engine protocol (a plain class: ``typing`` would cost the fast commands' start-up 5 ms)."""

    name: str
    reads: Artifact
    emits: frozenset[ChangeKind]
    step: str  # what the user is told while it runs

    def observe(self, subject: object) -> object:
        """A typed result: observations, or an object with an ``observations`` field."""
        raise NotImplementedError


def _category(name: str) -> frozenset[ChangeKind]:
    return frozenset(vocabulary.get_kind(kind) for kind in vocabulary.expand_pattern(f"{name}.*"))


# --- a pair of models ---------------------------------------------------------------------------------
class GraphEngine:
    """Structural equivalence of the two ONNX graphs (see parity.engines.graph)."""

    name = "graph"
    reads = MODEL_PAIR
    emits = _category("graph")
    step = "loading and canonicalising both graphs"

    def observe(self, context) -> list:
        """Load, canonicalise and match both graphs; keep the comparison on the context for later engines."""
        from parity.engines.graph import compare_graphs
        from parity.engines.graph.witness import apply_witnesses, mark_pending
        from parity.ir import load_graph
        from parity.ir.weights_files import attach_weights

        reference = load_graph(context.reference, context.max_model_bytes)
        candidate = load_graph(context.candidate, context.max_model_bytes, like=reference)
        if context.reference_weights is not None:
            attach_weights(reference, context.reference_weights)
        if context.candidate_weights is not None:
            attach_weights(candidate, context.candidate_weights)
        try:
            comparison = compare_graphs(reference, candidate)
            if context.numeric_options is not None:
                _verify_regions(comparison, context)
                if not mark_pending(comparison):  # the whole models' run cannot add a witness
                    apply_witnesses(comparison)
            else:
                apply_witnesses(comparison, tried="the whole models were not run (no numeric check)")
        except (ValueError, KeyError, IndexError, TypeError, ArithmeticError, RecursionError) as exc:
            # a model parity cannot analyse is a finding for a reviewer, never an internal error
            return [_not_analysed(exc)]
        context.graph = comparison
        return comparison.observations


def _not_analysed(exc: Exception):
    from parity.observations import Evidence, Observation

    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    return Observation(
        kind=NOT_ANALYSED,
        engine="graph",
        summary=f"the two graphs could not be compared ({reason})",
        evidence=Evidence(details={"reason": reason}),
    )


def _verify_regions(comparison, context) -> None:
    """Regions no proof settled, run on both sides (sandboxed) before anything is judged."""
    from parity.engines.numeric.compare import Tolerance
    from parity.engines.numeric.engine import candidate_format, samples_for
    from parity.engines.numeric.regions import verify_regions

    if not any(
        not check.equivalent and check.boundary and not check.refuted for check, _ in comparison.regions
    ):
        return
    options = context.numeric_options
    tolerance = Tolerance.for_format(candidate_format(comparison.observations))
    samples, _ = samples_for(comparison.reference, options)
    verify_regions(
        comparison, samples, tolerance, context.reference, options.time_limit, options.memory_limit
    )


class WeightsEngine:
    """Parameter provenance or initialisation distribution, over the graph engine's correspondence."""

    name = "weights"
    reads = MODEL_PAIR
    emits = _category("weights")
    step = "comparing the weights"

    def observe(self, context) -> list:
        """Classify every matched parameter pair in the mode the rulebook asks for."""
        from parity.engines.weights import compare_weights

        if context.graph is None:
            return []
        observations, context.weights = compare_weights(context.graph, context.weights_check)
        return observations


class NumericEngine:
    """Both models run sandboxed on the same inputs; outputs compared, the first divergence located."""

    name = "numeric"
    reads = MODEL_PAIR
    emits = frozenset(
        {
            OUTPUTS_MATCH,
            OUTPUTS_DIFFER,
            EXECUTION_FAILED,
            ACCURACY_BELOW_TARGET,
            GRAPH_QUANTIZED,  # activations the quantizer clamps, seen only when both models run
            PRECISION_CHANGED,
            WEIGHTS_REINIT_SAME,  # training: the candidate run again with the reference's weights
        }
    )
    step = "running both models (sandboxed)"

    def observe(self, context) -> list:
        """Run and compare, when numeric options were given and the graph engine ran."""
        from dataclasses import replace

        from parity.engines.numeric import compare_numerics

        if context.graph is None or context.numeric_options is None:
            return []
        options = context.numeric_options
        if context.weights_check == "distribution":  # training: judge the computation, not the draw
            options = replace(options, transplant=True)
        context.numeric = compare_numerics(
            context.graph,
            context.reference,
            context.candidate,
            context.graph.observations,
            options,
            context.weights,
        )
        _witness_from_models(context.graph, context.numeric.observations, options)
        return context.numeric.observations


def _witness_from_models(comparison, observations: list, options) -> None:
    """Regions no check of their own settled grow to the whole model: its outputs are their witness.

    An output that differs beyond tolerance is the witness (the input, the error, the first
    divergence); outputs that agree, or models that did not run, witness nothing, and the regions
    become unexplained (engines/graph/witness.py).
    """
    from parity.engines.graph.witness import PENDING, apply_witnesses

    if not any(observation.evidence.details.get(PENDING) for observation in comparison.observations):
        return
    differ = [o for o in observations if o.kind == OUTPUTS_DIFFER]
    if differ:
        first = differ[0]
        details = first.evidence.details
        whole = {
            "scope": "model",
            "found_by": "running both whole models (the region could not be verified at its boundary)",
            "input": f"{details.get('samples')} sample(s) of {details.get('inputs')}"
            + (f" (seed {details['seed']})" if details.get("seed") is not None else ""),
            "reference_output": details.get("reference_output"),
            "candidate_output": details.get("candidate_output"),
            "tolerance": details.get("tolerance"),
            **{k: v for k, v in first.evidence.metrics.items() if k in ("scaled_error", "max_abs_error")},
        }
        if details.get("problem"):
            whole["problem"] = details["problem"]
        if details.get("first_divergence"):
            whole["first_divergence"] = details["first_divergence"]
        apply_witnesses(comparison, whole)
        return
    if any(o.kind == OUTPUTS_MATCH for o in observations):
        count = next((o.evidence.details.get("samples") for o in observations if o.kind == OUTPUTS_MATCH), 0)
        tried = f"the whole models' outputs agree on {count} input(s) of {options.inputs or 'random feeds'}"
    else:
        tried = "the whole models did not run, so they could not be compared"
    apply_witnesses(comparison, tried=tried)


# --- a training submission ----------------------------------------------------------------------------
class MllogEngine:
    """One MLLOG result log against its round's logging rules (see parity.engines.logs)."""

    name = "logs"
    reads = MLLOG_FILE
    emits = frozenset(
        {
            LOG_EVENT_MISSING,
            LOG_FILE_REFUSED,
            LOG_QUALITY_TARGET_MISSED,
            LOG_SEED_INVALID,
            LOG_TIME_LIMIT_EXCEEDED,
            HPARAM_CHANGED,
            HPARAM_OUT_OF_RANGE,
        }
    )
    step = "checking result logs"

    def observe(self, subject):
        """``subject``: (parsed log, round rules, benchmark, division); returns its ``LogCheck``."""
        from parity.engines.logs.checker import check_log

        parsed, rules, benchmark, division = subject
        return check_log(parsed, rules, benchmark, division)


class BenchmarkFolderEngine:
    """A benchmark's runs: their count, their logs (the MLLOG engine), RCP, seeds and the score."""

    name = "benchmark"
    reads = BENCHMARK_FOLDER
    emits = frozenset(
        {
            SUBMISSION_RUN_COUNT,
            SUBMISSION_RUNS_FAILED,
            SUBMISSION_STRAY_FILE,
            SUBMISSION_UNDEFINED_BENCHMARK,
            LOG_FILE_REFUSED,
            LOG_QUALITY_TARGET_MISSED,  # the RCP check's "insufficient convergence"
            LOG_SEED_INVALID,
            CONVERGENCE_FASTER,
            CONVERGENCE_REFERENCE_MISSING,
            CONVERGENCE_METHODS_DISAGREE,
        }
    )
    step = "auditing benchmark folders"

    def observe(self, subject):
        """``subject``: (``BenchmarkFolder``, round, division, RCP method); returns a ``BenchmarkAudit``."""
        from parity.audit.benchmark_folder import audit_benchmark

        return audit_benchmark(*subject)


class SystemDescriptionEngine:
    """A system description: required fields, placeholders, status; and whether its logs agree."""

    name = "systems"
    reads = SYSTEM_DESCRIPTION
    emits = frozenset({SUBMISSION_SYSTEM_INVALID, SUBMISSION_SYSTEM_INCOMPLETE, SUBMISSION_INCONSISTENT})
    step = "reading system descriptions"

    def observe(self, subject):
        """``subject``: (path, round); returns a ``SystemDescription`` (its data, if readable)."""
        from parity.audit.systems import describe

        return describe(*subject)


class LayoutEngine:
    """What an organisation folder holds that the layout does not define, or that must not be read."""

    name = "layout"
    reads = SUBMISSION_LAYOUT
    emits = frozenset({SUBMISSION_STRAY_FILE, LOG_FILE_REFUSED, SUBMISSION_SYSTEM_INVALID})
    step = "walking the submission"

    def observe(self, subject) -> list[dict]:
        """``subject``: (``Organisation``, round rules); returns the layout's observations."""
        from parity.audit.tree import layout_observations

        return layout_observations(*subject)


# --- an inference submission ---------------------------------------------------------------------------
class InferenceResultEngine:
    """One inference result: LoadGen logs, accuracy, measurements and compliance tests recomputed."""

    name = "loadgen"
    reads = INFERENCE_RESULT
    emits = _category("result") | {SUBMISSION_HYGIENE}
    step = "auditing inference results"

    def observe(self, subject):
        """``subject``: (``ResultPaths``, round); returns a ``ResultCheck``."""
        from parity.engines.loadgen.engine import observe_result

        return observe_result(*subject)


class InferenceLayoutEngine:
    """An inference organisation folder: hygiene, system descriptions, models and required scenarios."""

    name = "inference-layout"
    reads = INFERENCE_LAYOUT
    emits = frozenset({SUBMISSION_HYGIENE, LOG_FILE_REFUSED, SUBMISSION_SYSTEM_INVALID, RESULT_NOT_IN_ROUND})
    step = "walking the inference submission"

    def observe(self, subject) -> list:
        """``subject``: (``InferenceOrganisation``, round data); returns the layout's observations."""
        from parity.audit.inference_layout import layout_observations

        return layout_observations(*subject)


ENGINES: tuple[type[Engine], ...] = (
    GraphEngine,
    WeightsEngine,
    NumericEngine,
    MllogEngine,
    BenchmarkFolderEngine,
    SystemDescriptionEngine,
    LayoutEngine,
    InferenceResultEngine,
    InferenceLayoutEngine,
)


def engines_for(artifact: Artifact) -> tuple[type[Engine], ...]:
    """The registered engines that read ``artifact``, in registration order."""
    return tuple(engine for engine in ENGINES if engine.reads is artifact)


def run(engine: type[Engine], subject: object, instance: Engine | None = None) -> object:
    """``engine`` observes ``subject``; a kind it does not declare is a bug (:class:`UndeclaredKind`)."""
    result = (instance or engine()).observe(subject)
    check_declared(engine, result if isinstance(result, list) else result.observations)
    return result


def check_declared(engine: type[Engine], observations: list) -> None:
    """Refuse an observation whose kind ``engine`` does not declare in ``emits``."""
    for observation in observations:
        kind = observation.kind
        if kind not in engine.emits:
            raise UndeclaredKind(f"the {engine.name} engine emitted {kind}, which it does not declare")
