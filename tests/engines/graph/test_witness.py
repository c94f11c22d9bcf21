"""A structural difference is forbidden only with a witness (issue 27, item 0), shown in the finding."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_runner import EXAMPLES, check_json, parity


def _chain(path, activation: str) -> None:
    """x → MatMul → ``activation`` → MatMul → y, with fixed weights."""
    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.standard_normal((8, 8)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w2"),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
        helper.make_node(activation, ["h"], ["a"], name="act"),
        helper.make_node("MatMul", ["a", "w2"], ["y"], name="mm2"),
    ]
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


@pytest.mark.parametrize("rulebook", ["mlperf-inference", "mlperf-training"])
def test_a_swapped_activation_violates_with_its_counterexample(capsys, rulebook):
    folder = EXAMPLES / "cnn"
    code, report = check_json(capsys, folder / "reference.onnx", folder / "swapped_activation.onnx", rulebook)
    assert code == 1 and report["verdict"] == "violates"
    (changed,) = [o for o in report["observations"] if o["kind"] == "graph.op_changed"]
    witness = changed["evidence"]["details"]["witness"]
    assert witness["scope"] == "region" and "differ at a random point" in witness["shown"]
    assert "witness:" in changed["summary"]


def test_a_region_whose_outputs_differ_carries_the_input_and_the_error(capsys, tmp_path):
    """Softsign → Softplus: no proof method refutes it, the region's own run on a real input does."""
    reference, candidate = tmp_path / "ref.onnx", tmp_path / "cand.onnx"
    _chain(reference, "Softsign")
    _chain(candidate, "Softplus")
    code, report = check_json(capsys, reference, candidate, "mlperf-inference")
    assert code == 1 and report["verdict"] == "violates"
    (changed,) = [o for o in report["observations"] if o["kind"] == "graph.op_changed"]
    witness = changed["evidence"]["details"]["witness"]
    assert witness["input"] == "real sample 0" and witness["found_by"] == "numeric verification of the region"
    assert witness["scaled_error"] > 1 and witness["max_abs_error"] > 0.1
    assert witness["reference_output"] == "a" and len(witness["at"]) == 2
    assert witness["reference_value"] != witness["candidate_value"]
    assert "witness: the regions differ on real sample 0" in changed["summary"]
    code, out, _ = parity(
        capsys, "check", "--reference", reference, "--candidate", candidate, "--rulebook", "mlperf-inference"
    )
    assert code == 1 and "witness:" in out and "sample 0" in out  # the terminal report shows it too


@pytest.mark.parametrize("rulebook", ["mlperf-inference", "mlperf-training"])
def test_without_running_the_models_an_unrefuted_region_needs_review(capsys, tmp_path, rulebook):
    """No numeric check: nothing can witness the region, so it is unexplained, never a violation."""
    reference, candidate = tmp_path / "ref.onnx", tmp_path / "cand.onnx"
    _chain(reference, "Softsign")
    _chain(candidate, "Softplus")
    code, report = check_json(capsys, reference, candidate, rulebook, "--no-numeric")
    assert code == 2 and report["verdict"] == "needs_review"
    (unexplained,) = [o for o in report["observations"] if o["kind"] == "graph.region_unexplained"]
    details = unexplained["evidence"]["details"]
    assert details["observed_as"] == "graph.op_changed"
    assert "the whole models were not run (no numeric check)" in details["tried"]
    finding = next(f for f in report["findings"] if f["kind"] == "graph.region_unexplained")
    assert finding["outcome"] == "needs_review" and finding["rationale"]


def test_an_inferred_shape_alone_is_no_witness(capsys, tmp_path):
    """A candidate declaring another shape for an intermediate tensor, with the same parameters and
    outputs: the shape difference is unexplained (needs review), with what was tried."""
    reference, candidate = tmp_path / "ref.onnx", tmp_path / "cand.onnx"
    _chain(reference, "Softsign")
    _chain(candidate, "Softsign")
    model = onnx.load(str(candidate))
    model.graph.value_info.append(helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, 7]))
    onnx.save(model, str(candidate))
    code, report = check_json(capsys, reference, candidate, "mlperf-inference")
    assert code == 2 and report["verdict"] == "needs_review"
    (unexplained,) = [o for o in report["observations"] if o["kind"] == "graph.region_unexplained"]
    details = unexplained["evidence"]["details"]
    assert details["observed_as"] == "graph.shape_changed"
    assert any("whole models' outputs agree" in step for step in details["tried"])


def test_int64_max_survives_a_fold_computed_in_float64():
    """A Slice's "to the end" (INT64_MAX) folded through float64 stays INT64_MAX, not INT64_MIN."""
    from parity.engines.graph.params import _exactly

    limits = np.iinfo(np.int64)
    found = _exactly(np.array([float(limits.max), float(limits.min), 8.0, -3.0]), np.int64)
    assert found.tolist() == [limits.max, limits.min, 8, -3]
    assert _exactly(np.array([1.0, 0.0]), np.bool_).tolist() == [True, False]
