"""The same module in the forms its exporters and quantizers write (issue 27): judged by what differs.

- A reference exported with constant folding has its batch norms folded into the convolutions; the same
  module exported without keeps them. Folded, the candidate's parameters are the reference's: the
  candidate trains the reference's parameters (weights.unfolded), while the opposite direction folds them
  (weights.folded), which Closed training forbids.
- A quantize/dequantize round trip whose zero point clamps at zero stands for a ReLU; rewrites that move
  it (past a Reshape) keep it the quantizer's clamp, not an added ReLU.
"""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_runner import check_json

torch = pytest.importorskip("torch")


class _ConvBn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.norm = torch.nn.BatchNorm2d(8)
        with torch.no_grad():
            self.norm.weight.uniform_(0.5, 1.5)
            self.norm.bias.uniform_(-0.2, 0.2)
            self.norm.running_mean.uniform_(-0.3, 0.3)
            self.norm.running_var.uniform_(0.5, 1.5)

    def forward(self, image):
        return torch.relu(self.norm(self.conv(image)))


def _export(path, folding: bool) -> None:
    torch.onnx.export(
        _ConvBn().eval(),
        (torch.randn(1, 3, 8, 8),),
        str(path),
        input_names=["image"],
        output_names=["output"],
        dynamo=False,
        opset_version=17,
        do_constant_folding=folding,
    )


@pytest.fixture
def exports(tmp_path):
    folded, kept = tmp_path / "folded.onnx", tmp_path / "kept.onnx"
    _export(folded, True)
    _export(kept, False)
    ops = {p.name: [n.op_type for n in onnx.load(str(p)).graph.node] for p in (folded, kept)}
    assert "BatchNormalization" not in ops["folded.onnx"] and "BatchNormalization" in ops["kept.onnx"]
    return folded, kept


def _kinds(report) -> set[str]:
    return {finding["kind"] for finding in report["findings"]}


def test_a_batch_norm_the_reference_file_folded_and_the_candidate_keeps_conforms(capsys, exports):
    folded, kept = exports
    for rulebook in ("mlperf-training", "mlperf-inference"):
        _, report = check_json(capsys, folded, kept, rulebook)
        assert report["verdict"] == "conforms", (rulebook, report["findings"])
        observed = {o["kind"] for o in report["observations"]}
        assert "weights.unfolded" in observed and "weights.folded" not in observed


def test_a_batch_norm_the_candidate_folds_still_violates_training(capsys, exports):
    folded, kept = exports
    _, report = check_json(capsys, kept, folded, "mlperf-training")
    assert report["verdict"] == "violates"
    assert "weights.folded" in _kinds(report) or "graph.batchnorm_folded" in _kinds(report)


def _reshaped(path, quantized: bool) -> None:
    """y = Reshape(x) · 0.5, quantized after the Reshape with a zero point that clamps at zero."""
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"])]
    last = "r"
    initializers = [
        numpy_helper.from_array(np.array([4, 4], np.int64), "shape"),
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
    ]
    if quantized:
        nodes += [
            helper.make_node("QuantizeLinear", ["r", "scale", "zero"], ["q"]),
            helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["d"]),
        ]
        initializers += [
            numpy_helper.from_array(np.array(2.0 / 255, np.float32), "scale"),
            numpy_helper.from_array(np.array(0, np.uint8), "zero"),
        ]
        last = "d"
    nodes.append(helper.make_node("Mul", [last, "half"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "reshaped",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 4])],
        initializers,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_a_quantizer_clamp_moved_past_a_reshape_is_quantization(capsys, tmp_path):
    reference, candidate = tmp_path / "reference.onnx", tmp_path / "quantized.onnx"
    _reshaped(reference, False)
    _reshaped(candidate, True)
    _, report = check_json(capsys, reference, candidate, "mlperf-training")
    kinds = {o["kind"] for o in report["observations"]}
    assert "graph.quantized" in kinds, report["findings"]
    assert not kinds & {"graph.op_added", "graph.region_unexplained"}, report["findings"]
