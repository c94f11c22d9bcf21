"""Weight provenance on real tool outputs and on edits the tests make to real models."""

import copy

import numpy as np
import pytest
from onnx import numpy_helper

from parity.engines.graph import compare_graphs
from parity.engines.weights import compare_weights
from parity.examples import models
from parity.ir import graph_from_model, load_graph

VIOLATIONS = {"weights.pruned", "weights.modified", "weights.replaced"}


def _weights(reference, candidate, mode="provenance"):
    comparison = compare_graphs(reference, candidate)
    observations, verdicts = compare_weights(comparison, mode)
    return {o.kind for o in observations}, observations, verdicts


def _from_files(variants, model, variant, mode="provenance"):
    return _weights(load_graph(variants[(model, "reference")]), load_graph(variants[(model, variant)]), mode)


@pytest.mark.parametrize(
    ("model", "variant", "expected"),
    [
        ("resnet", "renamed", {"weights.identical"}),
        ("resnet", "ort_basic", {"weights.folded"}),
        ("resnet", "ort_all", {"weights.folded"}),  # NCHWc-blocked filters read back in OIHW order
        ("resnet", "onnxsim", {"weights.folded"}),
        ("transformer", "onnxslim", {"weights.rearranged"}),  # Gemm with transposed weights
        ("transformer", "ort_extended", {"weights.identical"}),
        ("resnet", "fp16", {"weights.precision_reduced"}),
        ("transformer", "fp16", {"weights.precision_reduced"}),
        ("resnet", "int8_qdq", {"weights.quantized"}),
        ("inception", "int8_qdq", {"weights.quantized"}),
        ("transformer", "int8_qdq", {"weights.quantized"}),
        ("resnet", "int8_qoperator", {"weights.quantized"}),
    ],
)
def test_legal_transformations_are_recognised_not_flagged(variants, model, variant, expected):
    kinds, observations, _ = _from_files(variants, model, variant)
    assert expected <= kinds
    assert not kinds & VIOLATIONS, [o.summary for o in observations if o.kind in VIOLATIONS]


def test_quantization_records_format_and_scheme(variants):
    _, observations, _ = _from_files(variants, "resnet", "int8_qdq")
    int8 = [
        o for o in observations if o.kind == "weights.quantized" and o.evidence.details["format"] == "int8"
    ]
    assert int8 and {t["scheme"] for t in int8[0].evidence.details["tensors"]} <= {
        "per-tensor",
        "per-channel",
    }


def test_nchwc_layout_is_named(variants):
    _, _, verdicts = _from_files(variants, "resnet", "ort_all")
    assert {v.details.get("layout") for v in verdicts if "nchwc_blocked" in v.transforms} - {None}


def _edit(model, name, change):
    model = copy.deepcopy(model)
    tensor = next(t for t in model.graph.initializer if t.name == name)
    tensor.CopyFrom(numpy_helper.from_array(change(numpy_helper.to_array(tensor).copy()), name))
    return model


@pytest.mark.parametrize("fraction", [0.01, 0.3, 0.9])
def test_pruning_is_detected_at_any_fraction(fraction):
    reference = models.resnet()

    def prune(w):
        flat = w.reshape(-1)
        flat[np.argsort(np.abs(flat))[: max(1, int(fraction * flat.size))]] = 0
        return w

    candidate = _edit(reference, "conv_w_10", prune)
    _kinds, observations, _ = _weights(graph_from_model(reference), graph_from_model(candidate))
    pruned = [o for o in observations if o.kind == "weights.pruned"]
    assert len(pruned) == 1 and "conv_w_10" in pruned[0].evidence.details["candidate"]
    assert pruned[0].evidence.metrics["pruned_fraction"] == pytest.approx(fraction, abs=0.01)


def test_a_single_weight_changed_by_a_thousandth_is_found_in_a_large_model():
    reference = models.resnet(blocks=(3, 4, 6, 3), width=64, image=32, classes=8000, seed=11)
    parameters = sum(int(np.prod(t.dims)) for t in reference.graph.initializer)
    assert parameters > 25_000_000

    def nudge(w):
        w.reshape(-1)[12345] *= 1.001
        return w

    candidate = _edit(reference, "conv_w_269", nudge)
    _kinds, observations, _ = _weights(graph_from_model(reference), graph_from_model(candidate))
    modified = [o for o in observations if o.kind == "weights.modified"]
    assert len(modified) == 1 and modified[0].evidence.metrics["differing"] == 1
    assert "conv_w_269" in modified[0].evidence.details["candidate"]


def test_a_reinitialised_tensor_is_replaced_for_provenance_and_same_distribution_for_training():
    reference = models.resnet()
    rng = np.random.default_rng(99)
    candidate = _edit(
        reference, "conv_w_18", lambda w: (rng.standard_normal(w.shape) * w.std()).astype(np.float32)
    )
    provenance, _, _ = _weights(graph_from_model(reference), graph_from_model(candidate))
    distribution, _, _ = _weights(graph_from_model(reference), graph_from_model(candidate), "distribution")
    assert "weights.replaced" in provenance
    assert (
        "weights.reinitialised_same_distribution" in distribution
        and "weights.distribution_changed" not in (distribution)
    )


def test_another_initial_distribution_is_detected_in_training_mode():
    reference = models.resnet()
    rng = np.random.default_rng(5)
    candidate = _edit(reference, "conv_w_18", lambda w: rng.uniform(-1, 1, w.shape).astype(np.float32))
    _kinds, observations, _ = _weights(
        graph_from_model(reference), graph_from_model(candidate), "distribution"
    )
    changed = [o for o in observations if o.kind == "weights.distribution_changed"]
    assert len(changed) == 1 and changed[0].evidence.metrics["ks_pvalue"] < 0.001


def test_non_finite_weights_are_a_modification_not_a_crash():
    reference = models.resnet()

    def poison(w):
        w.reshape(-1)[0] = np.nan
        return w

    _kinds, observations, _ = _weights(
        graph_from_model(reference), graph_from_model(_edit(reference, "conv_w_1", poison))
    )
    flagged = [o for o in observations if o.kind == "weights.modified"]
    assert flagged and flagged[0].evidence.details["problem"] == "non-finite values in the candidate"


def test_same_distribution_reinitialisation_conforms_under_training_and_violates_under_inference(tmp_path):
    import onnx

    from parity.audit import check

    reference = models.resnet()
    rng = np.random.default_rng(3)
    candidate = _edit(
        reference, "conv_w_27", lambda w: (rng.standard_normal(w.shape) * w.std()).astype(np.float32)
    )
    onnx.save(reference, tmp_path / "reference.onnx")
    onnx.save(candidate, tmp_path / "candidate.onnx")
    training = check(tmp_path / "reference.onnx", tmp_path / "candidate.onnx", "mlperf-training")
    inference = check(tmp_path / "reference.onnx", tmp_path / "candidate.onnx", "mlperf-inference")
    assert training.judgement.verdict.value == "conforms"
    assert inference.judgement.verdict.value == "violates"
    forbidden = [f for f in inference.judgement.findings if f.outcome.value == "forbidden"]
    assert [f.rule for f in forbidden] == ["inference.weights.replacement"]


def test_a_fused_qkv_projection_is_rearranged_weights_and_a_fusion():
    from parity.examples import mutations

    reference = models.transformer_block()
    candidate = mutations.fuse_projections(reference)
    comparison = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    assert comparison.correspondence.complete
    assert [o.kind for o in comparison.observations] == ["graph.ops_fused"]
    observations, _ = compare_weights(comparison)
    rearranged = [o for o in observations if o.kind == "weights.rearranged"]
    assert rearranged and rearranged[0].evidence.metrics["count"] == 6
    assert not {o.kind for o in observations} & VIOLATIONS
