"""The closed vocabulary of change kinds that engines emit.

A change kind names *how* a candidate differs from its reference (or, for a few, that it does not),
never whether that is allowed: the rulebooks decide that. Kinds are constructed once, here, and register
themselves; a duplicate or an unknown parent is a programming error caught at import.
"""

from __future__ import annotations

CATEGORIES = {
    "graph": "Structure of the computation graph.",
    "weights": "Values and provenance of the parameters.",
    "numeric": "Outputs of the models run on the same inputs.",
    "accuracy": "Task metric on a labelled evaluation set.",
    "hparam": "Hyperparameters recorded in a training log.",
    "log": "Events, targets, time limits and seeds in a training log.",
    "convergence": "Speed of convergence against the reference convergence points (RCP).",
    "submission": "The layout, system descriptions and run sets of a whole submission.",
    "result": "An inference result: its LoadGen logs, accuracy, compliance tests and settings.",
}

_REGISTRY: dict[str, ChangeKind] = {}


class ChangeKind(str):
    """One entry of the vocabulary: its dotted name *is* the string engines emit and rules name.

    A ``str`` subclass, so emit sites write the constant (``OP_REMOVED``), JSON carries the plain name,
    and comparisons with names read from files just work.

    Attributes:
        name: dotted name, ``<category>.<what>`` (the string itself).
        meaning: one line saying what an engine has observed when it emits this kind.
        difference: False for kinds that confirm sameness (no rule needed to accept them).
        parent: a more general kind that rules may govern instead (one level only).
    """

    __slots__ = ("difference", "meaning", "parent")

    def __new__(cls, name: str, meaning: str, difference: bool = True, parent: str | None = None):
        """Register the kind; a bad name, a second definition or an unknown parent is refused."""
        category, _, rest = name.partition(".")
        if category not in CATEGORIES or not rest:
            raise ValueError(f"change kind {name!r} is not '<category>.<what>' with a known category")
        if name in _REGISTRY:
            raise ValueError(f"change kind {name!r} is defined twice")
        if parent is not None:
            known = _REGISTRY.get(parent)
            if known is None or known.parent is not None:
                raise ValueError(f"change kind {name!r}: parent {parent!r} must be a defined root kind")
        kind = super().__new__(cls, name)
        kind.meaning, kind.difference, kind.parent = meaning, difference, parent
        _REGISTRY[name] = kind
        return kind

    def __reduce__(self):  # a kind crosses a process pool as its name and is looked up again there
        return (get_kind, (str(self),))

    def __repr__(self) -> str:
        return f"ChangeKind({str(self)!r})"

    @property
    def name(self) -> str:
        """The dotted name as a plain ``str``."""
        return str.__str__(self)

    @property
    def category(self) -> str:
        """The part before the first dot (``graph``, ``weights``, ...)."""
        return self.partition(".")[0]


def _kind(name: str, meaning: str, *, difference: bool = True, parent: str | None = None) -> ChangeKind:
    return ChangeKind(name, meaning, difference, parent)


# --- graph -------------------------------------------------------------------------------------------
OP_REMOVED = _kind("graph.op_removed", "An operation of the reference has no counterpart in the candidate.")
OP_ADDED = _kind("graph.op_added", "The candidate computes an operation the reference does not have.")
OP_CHANGED = _kind(
    "graph.op_changed", "A matched operation has a different type or different semantic attributes."
)
OPS_FUSED = _kind("graph.ops_fused", "Several reference operations are computed by one fused operation.")
SHAPE_CHANGED = _kind("graph.shape_changed", "A tensor has a different shape (beyond a layout permutation).")
IDENTITY_REMOVED = _kind(
    "graph.identity_removed", "An Identity or other no-op node was removed.", parent="graph.op_removed"
)
DROPOUT_REMOVED = _kind(
    "graph.dropout_removed",
    "A Dropout node was removed (it is the identity at inference, not during training).",
    parent="graph.op_removed",
)
PARAMETER_REMOVED = _kind(
    "graph.parameter_removed",
    "An operation reading a stored parameter was removed because the parameter's values are neutral (an "
    "all-zero bias, an all-one scale): the same function at these values, one parameter fewer to train.",
    parent="graph.op_removed",
)
DEAD_CODE_REMOVED = _kind(
    "graph.dead_code_removed",
    "Nodes whose results reach no graph output were removed.",
    parent="graph.op_removed",
)
CONSTANT_FOLDED = _kind(
    "graph.constant_folded",
    "A computation on constants (for example of shapes) was replaced by its result.",
    parent="graph.op_removed",
)
CSE_MERGED = _kind(
    "graph.common_subexpression_merged",
    "Identical computations on the same inputs were merged into one.",
    parent="graph.op_removed",
)
OPS_UNFUSED = _kind(
    "graph.ops_unfused",
    "One reference operation is computed by several simpler operations.",
    parent="graph.op_added",
)
BATCHNORM_FOLDED = _kind(
    "graph.batchnorm_folded",
    "A BatchNormalization was folded into the weights and bias of the preceding Conv or Gemm.",
    parent="graph.ops_fused",
)
LAYOUT_CHANGED = _kind(
    "graph.layout_changed",
    "Tensors are stored in another layout (NCHW/NHWC, blocked NCHWc, transposes added).",
)
EQUIVALENT_OP_SUBSTITUTED = _kind(
    "graph.equivalent_op_substituted",
    "An operation was replaced by a mathematically equivalent one (Gemm and MatMul+Add, Sum and Add, ...).",
    parent="graph.op_changed",
)
ATTRIBUTE_CHANGED = _kind(
    "graph.attribute_changed",
    "A matched operation computes with another value of a semantic attribute (an epsilon, an "
    "approximation mode, a top-k, an axis), schema defaults resolved; the evidence names the node, the "
    "attribute, both values and whether the attribute only tunes a numerical approximation (effect).",
    parent="graph.op_changed",
)
APPROXIMATED = _kind(
    "graph.approximated",
    "An operation was replaced by an approximation of it (for example a polynomial for a transcendental).",
    parent="graph.op_changed",
)
PRECISION_CHANGED = _kind(
    "graph.precision_changed", "Part of the graph computes in another numeric format (fp16, bf16, fp8, ...)."
)
GRAPH_QUANTIZED = _kind(
    "graph.quantized",
    "Quantize/dequantize pairs or quantized operators (QLinear*) were introduced.",
    parent="graph.precision_changed",
)
REGION_EQUIVALENT = _kind(
    "graph.region_equivalent",
    "Operations matching left unpaired compute the same function on both sides of their matched "
    "boundary; the evidence names the method (proved_symbolic, proved_exact, evaluated_constant, "
    "proved_identity, verified_numerically) and, for proofs, the normal forms or the identity test.",
)
REGION_UNEXPLAINED = _kind(
    "graph.region_unexplained",
    "Operations matching left unpaired that no rewrite or proof explains and no input tells apart: "
    "neither equivalence nor a witness (an input on which the regions, or the whole models, differ) "
    "was found; the evidence says what was tried and why it did not settle the region.",
)
NOT_ANALYSED = _kind(
    "graph.not_analysed",
    "The audit could not compare the two graphs (the reason is in the evidence): nothing is known of "
    "their equivalence, so a person must compare them.",
)
OPSET_CHANGED = _kind("graph.opset_changed", "The model was converted to another ONNX opset version.")

# --- weights -----------------------------------------------------------------------------------------
WEIGHTS_IDENTICAL = _kind(
    "weights.identical", "The candidate parameter equals the reference parameter.", difference=False
)
WEIGHTS_RECOMPUTED = _kind(
    "weights.recomputed",
    "Values equal the reference's within the rounding of computing them again in the same format (a few "
    "units in the last place), as when two exporters fold the same batch norm in a different order.",
    difference=False,
)
WEIGHTS_MODIFIED = _kind(
    "weights.modified", "Parameter values differ from the reference in a way no declared transform explains."
)
WEIGHTS_REARRANGED = _kind(
    "weights.rearranged", "Same values, rearranged (transpose, reshape, layout, concatenation or split)."
)
WEIGHTS_FOLDED = _kind(
    "weights.folded", "Values equal a fold of reference parameters (batch norm or scale into conv or gemm)."
)
WEIGHTS_UNFOLDED = _kind(
    "weights.unfolded",
    "The candidate keeps as its own parameters a batch norm or scale that the reference's file has folded "
    "into its weights; folded, they equal the reference's.",
)
WEIGHTS_PRECISION_REDUCED = _kind(
    "weights.precision_reduced", "Values equal the reference rounded to a narrower floating-point format."
)
WEIGHTS_QUANTIZED = _kind(
    "weights.quantized",
    "Values are an integer or low-bit quantization (scale, zero point) of the reference.",
    parent="weights.precision_reduced",
)
WEIGHTS_PRUNED = _kind(
    "weights.pruned",
    "Non-zero reference entries are zero (or absent) in the candidate.",
    parent="weights.modified",
)
WEIGHTS_REPLACED = _kind(
    "weights.replaced",
    "The parameter is unrelated to the reference (low correlation).",
    parent="weights.modified",
)
WEIGHTS_REINIT_SAME = _kind(
    "weights.reinitialised_same_distribution",
    "Different values drawn from the same distribution as the reference's initialisation.",
)
WEIGHTS_DISTRIBUTION_CHANGED = _kind(
    "weights.distribution_changed", "The initial values follow a different distribution than the reference's."
)

# --- numeric and accuracy ----------------------------------------------------------------------------
OUTPUTS_MATCH = _kind(
    "numeric.outputs_match",
    "Outputs agree within the tolerance derived from the precision.",
    difference=False,
)
OUTPUTS_DIFFER = _kind("numeric.outputs_differ", "Outputs differ beyond the derived tolerance.")
EXECUTION_FAILED = _kind(
    "numeric.execution_failed",
    "A model could not be run: it crashed, hung past the time limit, ran out of memory or was refused.",
)
ACCURACY_BELOW_TARGET = _kind(
    "accuracy.below_target",
    "The task metric of the candidate is below the required fraction of the reference's.",
)

# --- training logs and convergence -------------------------------------------------------------------
HPARAM_CHANGED = _kind("hparam.changed", "A hyperparameter differs from the reference value.")
HPARAM_OUT_OF_RANGE = _kind(
    "hparam.out_of_range", "A tunable hyperparameter lies outside the values its constraint allows."
)
LOG_EVENT_MISSING = _kind("log.event_missing", "A required event is missing from the log (or malformed).")
LOG_QUALITY_TARGET_MISSED = _kind(
    "log.quality_target_missed", "The run stopped without reaching the quality target."
)
LOG_TIME_LIMIT_EXCEEDED = _kind(
    "log.time_limit_exceeded", "A timed phase (such as untimed initialisation) exceeded its limit."
)
LOG_FILE_REFUSED = _kind(
    "log.file_refused",
    "A file of the submission was not read: a symlink leaving the audited folder, a FIFO, device or socket.",
)
LOG_SEED_INVALID = _kind("log.seed_invalid", "The random seed is missing, not an integer, or reused.")
CONVERGENCE_FASTER = _kind(
    "convergence.faster_than_reference",
    "The runs converge faster than the reference convergence points allow (one-sided t-test).",
)
CONVERGENCE_REFERENCE_MISSING = _kind(
    "convergence.reference_missing",
    "No reference convergence points exist for this benchmark and batch size.",
)
# --- whole submissions ------------------------------------------------------------------------------
SUBMISSION_SYSTEM_INVALID = _kind(
    "submission.system_invalid",
    "A system description is unreadable, lacks a required field, or states a status outside the round's "
    "vocabulary.",
)
SUBMISSION_SYSTEM_INCOMPLETE = _kind(
    "submission.system_incomplete",
    "A system description leaves required fields empty or holds placeholders in them.",
)
SUBMISSION_INCONSISTENT = _kind(
    "submission.inconsistent",
    "A result log's submission_org, submission_status or submission_platform disagrees with its system "
    "description.",
)
SUBMISSION_RUN_COUNT = _kind(
    "submission.run_count",
    "A benchmark folder holds another number of result logs than the benchmark requires.",
)
SUBMISSION_RUNS_FAILED = _kind(
    "submission.runs_failed",
    "More result logs of a benchmark fail their checks than olympic scoring allows.",
)
SUBMISSION_STRAY_FILE = _kind(
    "submission.stray_file",
    "A file or folder the submission layout does not define (not a result log, not part of the tree).",
)
SUBMISSION_UNDEFINED_BENCHMARK = _kind(
    "submission.undefined_benchmark",
    "A benchmark folder names a benchmark the round does not define for its division.",
)
CONVERGENCE_METHODS_DISAGREE = _kind(
    "convergence.methods_disagree",
    "The rules' RCP statistics and mlperf-logging's give the runs different verdicts.",
)

SUBMISSION_HYGIENE = _kind(
    "submission.hygiene",
    "A file the submission rules keep out of a submission: a dot-name, a name with a space, a file over "
    "the size limit, an empty folder, or a calibration document that is missing or empty.",
)

# --- inference results ------------------------------------------------------------------------------
RESULT_INVALID = _kind(
    "result.invalid",
    "LoadGen judged the scored performance run INVALID (duration, query count, latency or early "
    "stopping), or logged errors during it.",
)
RESULT_ACCURACY_BELOW_TARGET = _kind(
    "result.accuracy_below_target",
    "A metric of accuracy.txt is below the round's target for the model (99% or 99.9% of the reference).",
)
RESULT_ACCURACY_ABOVE_LIMIT = _kind(
    "result.accuracy_above_limit",
    "A metric of accuracy.txt is above the round's upper limit (LLM output length, SDXL's FID and CLIP).",
)
RESULT_NOT_ACCURACY_RUN = _kind(
    "result.not_an_accuracy_run",
    "The accuracy folder's log is not an accuracy-mode run over the whole dataset (another test mode, or "
    "fewer samples run than the dataset holds).",
)
RESULT_SETTINGS_CHANGED = _kind(
    "result.settings_changed",
    "A scored run used settings other than the round's: seeds, performance sample count, equal-issue "
    "mode, minimum duration, minimum queries or samples per query.",
)
RESULT_LATENCY_EXCEEDED = _kind(
    "result.latency_exceeded",
    "A latency bound of the scenario is exceeded: the Server target latency, or an LLM's TTFT or TPOT.",
)
RESULT_COMPLIANCE_FAILED = _kind(
    "result.compliance_failed",
    "A compliance test (TEST01, TEST04, TEST06), recomputed from the uploaded logs, fails.",
)
RESULT_COMPLIANCE_NOT_AUDITED = _kind(
    "result.compliance_not_audited",
    "A compliance run is not what its test prescribes: no audit.config marker, the wrong sampling or "
    "issue settings, or a log identical to the scored run's.",
)
RESULT_EVIDENCE_MISSING = _kind(
    "result.evidence_missing",
    "A file a result or compliance test needs is missing, empty, truncated or unreadable, so what it "
    "should show cannot be verified.",
)
RESULT_CLAIM_DISAGREES = _kind(
    "result.claim_disagrees",
    "A verify file written by the submitter's scripts disagrees with what the uploaded logs give when "
    "recomputed (a score, a ratio, a pass).",
)
RESULT_COPIES_DISAGREE = _kind(
    "result.copies_disagree",
    "Two copies of one decisive figure disagree: a run's summary prints a score its detail log does not "
    "record. The detail log is the record; which file was edited only a reviewer can tell.",
)
RESULT_CLAIM_STALE = _kind(
    "result.claim_stale",
    "A verify file quotes a reference score that is not the scored run's (it was verified against another "
    "run), while the test recomputed against the scored run gives the verdict the file claims.",
)
RESULT_LOADGEN_BUILD = _kind(
    "result.loadgen_build",
    "The LoadGen that produced a log is not a build of the round's release, or reports modified sources.",
)
RESULT_NOT_IN_ROUND = _kind(
    "result.not_in_round",
    "A result of a model or scenario the round does not define, or a model missing a scenario the round "
    "requires of the system type.",
)


def all_kinds() -> dict[str, ChangeKind]:
    """Every registered kind, by name, in definition order."""
    return dict(_REGISTRY)


def get_kind(name: str) -> ChangeKind | None:
    """The kind with this exact name, or None."""
    return _REGISTRY.get(name)


def expand_pattern(pattern: str) -> list[str]:
    """Kinds named by ``pattern``: an exact name, or ``<category>.*`` for a whole category."""
    if pattern.endswith(".*"):
        category = pattern[:-2]
        return [name for name, kind in _REGISTRY.items() if kind.category == category]
    return [pattern] if pattern in _REGISTRY else []
