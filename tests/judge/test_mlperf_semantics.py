"""The domain semantics the packaged rulebooks must get right, one change kind at a time (closed)."""

import pytest

from parity.judge import judge
from parity.observations import Evidence, Observation
from parity.rulebook import load_rulebook

TRAINING = ["mlperf-training-v0.7", "mlperf-training-v6.0"]
INFERENCE = ["mlperf-inference-v0.7", "mlperf-inference-v6.1"]
NON_WEIGHT = [
    "graph.identity_removed",
    "graph.dead_code_removed",
    "graph.constant_folded",
    "graph.common_subexpression_merged",
    "graph.opset_changed",
]
STRUCTURAL = ["graph.op_removed", "graph.op_added", "graph.op_changed", "graph.shape_changed"]
CALIBRATED = {
    "calibration_dataset": "calibration set (500 images)",
    "quantization_method": "per-channel minmax",
}


def verdict(rulebook, kind, details=None, division="closed"):
    observation = Observation(kind=kind, evidence=Evidence(details=details or {}))
    return judge([observation], load_rulebook(rulebook), division).verdict.value


@pytest.mark.parametrize("rulebook", TRAINING + INFERENCE)
@pytest.mark.parametrize("kind", NON_WEIGHT)
def test_non_weight_optimisations_are_allowed_in_both_suites(rulebook, kind):
    assert verdict(rulebook, kind) == "conforms"


@pytest.mark.parametrize("rulebook", TRAINING + INFERENCE)
@pytest.mark.parametrize("kind", STRUCTURAL)
def test_removing_adding_or_changing_an_operation_violates_in_both(rulebook, kind):
    assert verdict(rulebook, kind) == "violates"


@pytest.mark.parametrize("kind", ["graph.batchnorm_folded", "graph.dropout_removed"])
def test_batchnorm_folding_and_dropout_removal_split_the_suites(kind):
    for rulebook in TRAINING:
        assert verdict(rulebook, kind) == "violates", rulebook
    for rulebook in INFERENCE:
        assert verdict(rulebook, kind) == "conforms", rulebook


@pytest.mark.parametrize("rulebook", TRAINING + INFERENCE)
@pytest.mark.parametrize("fmt", ["fp16", "bf16"])
def test_approved_reduced_precision_is_allowed_in_both(rulebook, fmt):
    assert verdict(rulebook, "graph.precision_changed", {"format": fmt}) == "conforms"
    assert verdict(rulebook, "weights.precision_reduced", {"format": fmt}) == "conforms"


@pytest.mark.parametrize("rulebook", TRAINING)
def test_training_precision_outside_the_approved_formats_violates(rulebook):
    assert verdict(rulebook, "graph.precision_changed", {"format": "fp6"}) == "violates"
    assert verdict(rulebook, "graph.precision_changed") == "needs_review"


def test_fp8_became_an_approved_training_format_after_v0_7():
    assert verdict("mlperf-training-v0.7", "graph.precision_changed", {"format": "fp8"}) == "violates"
    assert verdict("mlperf-training-v6.0", "graph.precision_changed", {"format": "fp8"}) == "conforms"


@pytest.mark.parametrize("rulebook", INFERENCE)
def test_inference_quantization_needs_calibration_evidence(rulebook):
    for kind in ("graph.quantized", "weights.quantized"):
        assert verdict(rulebook, kind) == "needs_review"
        assert verdict(rulebook, kind, {**CALIBRATED, "format": "int8"}) == "conforms"


@pytest.mark.parametrize("rulebook", TRAINING)
def test_training_quantization_only_in_approved_formats(rulebook):
    assert verdict(rulebook, "weights.quantized", {"format": "int8"}) == "conforms"
    assert verdict(rulebook, "weights.quantized", {"format": "int3"}) == "violates"


@pytest.mark.parametrize("rulebook", INFERENCE)
@pytest.mark.parametrize(
    "kind",
    ["weights.pruned", "weights.replaced", "weights.modified", "weights.reinitialised_same_distribution"],
)
def test_inference_forbids_pruning_replacing_or_modifying_weights(rulebook, kind):
    assert verdict(rulebook, kind) == "violates"


@pytest.mark.parametrize("rulebook", TRAINING)
def test_training_needs_only_the_same_initialisation_distribution(rulebook):
    assert verdict(rulebook, "weights.reinitialised_same_distribution") == "conforms"
    assert verdict(rulebook, "weights.distribution_changed") == "violates"
    # training judges starting weights by distribution: zeros alone are a lead for a reviewer
    assert verdict(rulebook, "weights.pruned") == "needs_review"


@pytest.mark.parametrize("rulebook", TRAINING)
@pytest.mark.parametrize(
    "kind", ["hparam.changed", "log.event_missing", "log.quality_target_missed", "log.time_limit_exceeded"]
)
def test_training_log_problems_violate(rulebook, kind):
    assert verdict(rulebook, kind) == "violates"


def test_rcp_convergence_is_judged_from_v1_0_on():
    assert verdict("mlperf-training-v0.7", "convergence.faster_than_reference") == "conforms"
    assert verdict("mlperf-training-v6.0", "convergence.faster_than_reference") == "violates"
    assert verdict("mlperf-training-v6.0", "convergence.reference_missing") == "needs_review"


@pytest.mark.parametrize("rulebook", INFERENCE)
def test_inference_accuracy_target_is_a_threshold(rulebook):
    def judged(ratio):
        observation = Observation(
            kind="accuracy.below_target", evidence=Evidence(metrics={"accuracy_ratio": ratio})
        )
        return judge([observation], load_rulebook(rulebook), "closed", "resnet50").verdict.value

    assert judged(0.985) == "violates"
    assert judged(0.995) == "conforms"


@pytest.mark.parametrize("rulebook", TRAINING + INFERENCE)
def test_open_division_allows_a_different_model(rulebook):
    for kind in ("graph.batchnorm_folded", "graph.op_removed", "weights.pruned"):
        assert verdict(rulebook, kind, division="open") == "conforms", kind
