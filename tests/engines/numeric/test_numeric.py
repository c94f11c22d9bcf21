"""The numeric engine on real models run by onnxruntime in sandboxed child processes."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from parity.audit import check
from parity.engines.numeric import NumericOptions
from parity.errors import BadInput
from parity.examples import models, mutations


def _audit(tmp_path, reference, candidate, rulebook="mlperf-inference", **options):
    onnx.save(reference, tmp_path / "reference.onnx")
    onnx.save(candidate, tmp_path / "candidate.onnx")
    return check(
        tmp_path / "reference.onnx", tmp_path / "candidate.onnx", rulebook, numeric=NumericOptions(**options)
    )


def _numeric(result):
    return [o for o in result.observations if o.engine == "numeric"]


@pytest.mark.parametrize("variant", ["fp16", "int8_qdq"])
def test_reduced_precision_candidates_are_within_their_derived_tolerance(variants, tmp_path, variant):
    result = check(
        variants[("resnet", "reference")],
        variants[("resnet", variant)],
        "mlperf-inference",
        numeric=NumericOptions(samples=8),
    )
    found = _numeric(result)
    assert [o.kind for o in found] == ["numeric.outputs_match"], [o.summary for o in found]
    assert (
        found[0].evidence.details["tolerance"]["reason"]
        == {
            "fp16": "derived from fp16 computation",
            "int8_qdq": "derived from int8 computation (or cosine ≥ 0.98)",
        }[variant]
    )
    assert found[0].evidence.metrics["top1_agreement"] >= 0.75


def test_an_exact_rewrite_matches_at_fp32_tolerance(variants):
    result = check(
        variants[("transformer", "reference")],
        variants[("transformer", "ort_extended")],
        "mlperf-inference",
        numeric=NumericOptions(),
    )
    found = _numeric(result)
    assert [o.kind for o in found] == ["numeric.outputs_match"]
    assert found[0].evidence.details["tolerance"]["reason"] == "derived from fp32 computation"


@pytest.mark.parametrize(
    ("model", "mutate", "culprit"),
    [
        (models.resnet, lambda m: mutations.swap_op(m, "Relu", "Sigmoid", 4), "relu_43"),
        (models.transformer_block, lambda m: mutations.remove_op(m, "Erf"), "erf_44"),
        (models.inception, lambda m: mutations.swap_op(m, "Relu", "Tanh", 9), None),
    ],
)
def test_a_swapped_or_removed_activation_is_localised(tmp_path, model, mutate, culprit):
    reference = model()
    candidate, node = mutate(reference)
    result = _audit(tmp_path, reference, candidate, divergence_inputs=tmp_path / "divergence.npz")
    differ = [o for o in _numeric(result) if o.kind == "numeric.outputs_differ"]
    assert differ
    divergence = differ[0].evidence.details["first_divergence"]
    assert (culprit or node) in divergence["suspects"]
    assert (culprit or node) in divergence["between"]
    saved = np.load(tmp_path / "divergence.npz")
    assert set(saved.files) == {reference.graph.input[0].name}


def _hanging_model():
    """A Loop whose trip count is astronomically large: it never finishes."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["v_in", "one"], ["v_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1]),
        ],
        [helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "cond", "x"], ["y"], body=body)],
        "hang",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [
            helper.make_tensor("trips", TensorProto.INT64, [], [10**15]),
            helper.make_tensor("cond", TensorProto.BOOL, [], [True]),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _model_computing(op_nodes, output_shape):
    graph = helper.make_graph(
        op_nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_hanging_candidate_is_a_finding_within_the_time_limit(tmp_path):
    import time

    reference = _model_computing([helper.make_node("Identity", ["x"], ["y"])], [1])
    start = time.perf_counter()
    result = _audit(tmp_path, reference, _hanging_model(), time_limit=3)
    assert time.perf_counter() - start < 20
    failed = [o for o in _numeric(result) if o.kind == "numeric.execution_failed"]
    assert failed and "time limit" in failed[0].evidence.details["reason"]
    assert failed[0].evidence.details["side"] == "candidate"
    assert result.judgement.verdict.value in ("needs_review", "violates")


def test_a_candidate_exhausting_memory_is_a_finding(tmp_path):
    reference = _model_computing([helper.make_node("Identity", ["x"], ["y"])], [1])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [60000, 60000])
    huge = helper.make_graph(
        [
            helper.make_node("ConstantOfShape", ["shape"], ["big"]),
            helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0),
            helper.make_node("Add", ["x", "total"], ["y"]),
        ],
        "huge",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [shape],
    )
    candidate = helper.make_model(huge, opset_imports=[helper.make_opsetid("", 17)])
    result = _audit(tmp_path, reference, candidate, memory_limit=2 * 1024**3, time_limit=60)
    failed = [o for o in _numeric(result) if o.kind == "numeric.execution_failed"]
    assert failed and failed[0].evidence.details["side"] == "candidate"


def test_nan_outputs_are_a_finding(tmp_path):
    reference = models.resnet()
    candidate, _ = mutations.swap_op(reference, "Relu", "Log", 2)  # log of negative activations: NaN
    result = _audit(tmp_path, reference, candidate)
    differ = [o for o in _numeric(result) if o.kind == "numeric.outputs_differ"]
    assert differ and differ[0].evidence.details["problem"] == "non-finite values in the candidate's output"


def _labels_for(reference, tmp_path, samples):
    import onnxruntime as ort

    inputs = np.random.default_rng(1).standard_normal((samples, 3, 32, 32)).astype(np.float32)
    session = ort.InferenceSession(reference.SerializeToString(), providers=["CPUExecutionProvider"])
    logits = np.concatenate([session.run(None, {"image": inputs[i : i + 1]})[0] for i in range(samples)])
    np.savez(tmp_path / "inputs.npz", image=inputs)
    np.savez(tmp_path / "labels.npz", labels=np.argmax(logits, axis=1))
    return tmp_path / "inputs.npz", tmp_path / "labels.npz"


def test_accuracy_target_passes_for_an_equivalent_candidate_and_fails_for_a_broken_one(tmp_path):
    reference = models.resnet()
    inputs, labels = _labels_for(reference, tmp_path, 24)
    good = _audit(
        tmp_path, reference, mutations.swap_op(reference, "Relu", "Relu", 0)[0], inputs=inputs, labels=labels
    )
    assert not [o for o in good.observations if o.kind == "accuracy.below_target"]
    bad = _audit(
        tmp_path,
        reference,
        mutations.swap_op(reference, "Relu", "Sigmoid", 8)[0],
        inputs=inputs,
        labels=labels,
    )
    below = [o for o in bad.observations if o.kind == "accuracy.below_target"]
    assert below and below[0].evidence.metrics["accuracy_ratio"] < 0.99
    finding = next(f for f in bad.judgement.findings if f.kind == "accuracy.below_target")
    assert finding.outcome.value == "forbidden" and finding.rule == "inference.accuracy.target-99"


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"image": np.zeros((2, 3, 16, 16), np.float32)}, "has shape"),
        ({"image": np.zeros((2, 3, 32, 32), np.float64)}, "the model expects float32"),
        ({"pixels": np.zeros((2, 3, 32, 32), np.float32)}, "no array for model input 'image'"),
    ],
)
def test_bad_inputs_name_the_file_and_the_input(tmp_path, arrays, message):
    np.savez(tmp_path / "inputs.npz", **arrays)
    reference = models.resnet()
    with pytest.raises(BadInput, match=message):
        _audit(tmp_path, reference, reference, inputs=tmp_path / "inputs.npz")


def test_layer_wise_in_one_run_finds_the_same_divergence_as_the_default(tmp_path):
    reference = models.resnet()
    candidate, _ = mutations.swap_op(reference, "Relu", "Sigmoid", 4)
    always = _audit(tmp_path, reference, candidate, localise="always")
    auto = _audit(tmp_path, reference, candidate, localise="auto")
    never = _audit(tmp_path, reference, candidate, localise="never")

    def divergence(result):
        differ = [o for o in _numeric(result) if o.kind == "numeric.outputs_differ"]
        return differ[0].evidence.details.get("first_divergence")

    assert divergence(always)["reference_tensor"] == divergence(auto)["reference_tensor"]
    assert divergence(always)["suspects"] == ["relu_43"]
    assert divergence(never) is None


@pytest.mark.parametrize(
    ("shape", "layout"),
    [((8, 3, 32, 32), "batch axis"), ((8, 1, 3, 32, 32), "full model feed")],
    ids=["batch-axis", "full-feeds"],
)
def test_inputs_are_read_on_the_batch_axis_or_as_full_feeds_and_the_report_says_which(
    tmp_path, shape, layout
):
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    np.savez(tmp_path / "inputs.npz", image=x)
    reference = models.resnet()
    result = _audit(tmp_path, reference, reference, inputs=tmp_path / "inputs.npz")
    found = _numeric(result)
    assert [o.kind for o in found] == ["numeric.outputs_match"]
    assert found[0].evidence.details["samples"] == 8
    assert layout in found[0].evidence.details["inputs_layout"]


def test_training_judges_re_drawn_weights_with_the_reference_weights_transplanted(tmp_path):
    reference = models.resnet(seed=0)
    redrawn = models.resnet(seed=11)  # the same architecture, every weight drawn again
    inference = _audit(tmp_path, reference, redrawn, samples=4)
    training = _audit(tmp_path, reference, redrawn, "mlperf-training", samples=4)
    assert inference.judgement.verdict.value == "violates"
    assert training.judgement.verdict.value == "conforms", [f.summary for f in training.judgement.findings]
    outputs = _numeric(training)
    assert outputs[0].kind == "numeric.outputs_match"
    moved = outputs[0].evidence.details["transplanted_weights"]
    assert moved and all(name in {t.name for t in redrawn.graph.initializer} for name in moved)
    assert outputs[0].evidence.details["with_candidate_weights"]["scaled_error"] > 0.01  # the draw itself


def test_a_changed_function_is_not_hidden_by_the_transplant(tmp_path):
    reference = models.resnet(seed=0)
    changed, _ = mutations.swap_op(models.resnet(seed=11), "Relu", "Sigmoid", 4)
    training = _audit(tmp_path, reference, changed, "mlperf-training", samples=4)
    assert training.judgement.verdict.value == "violates"
