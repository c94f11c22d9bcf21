"""onnxruntime's fused operators as parity decomposes them compute what onnxruntime computes.

Each fused operator (FastGelu, BiasGelu, DynamicQuantizeLSTM written by quantize_dynamic) is run by
onnxruntime, decomposed by parity's rewrite, exported back and run again: the two must agree (a wrong
decomposition would hide a violation), and the rewrite must have left no contrib operator behind.
"""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from parity.engines.graph import DEFAULT_REWRITES, canonicalise
from parity.ir import graph_from_model, load_graph
from parity.ir.to_onnx import graph_to_model

RNG = np.random.default_rng(3)


def _run(model: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _canonical(model: onnx.ModelProto):
    graph = graph_from_model(model)
    applied = canonicalise(graph, DEFAULT_REWRITES)
    return graph, applied


def _fused(op: str, with_bias: bool) -> onnx.ModelProto:
    inputs = ["x", "bias"] if with_bias else ["x"]
    bias = [numpy_helper.from_array(RNG.standard_normal(8).astype(np.float32), "bias")] if with_bias else []
    graph = helper.make_graph(
        [helper.make_node(op, inputs, ["y"], domain="com.microsoft")],
        "fused",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4, 8])],
        bias,
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )


@pytest.mark.parametrize(
    ("op", "with_bias", "rewrite"),
    [
        ("FastGelu", False, "unfuse-fast-gelu"),
        ("FastGelu", True, "unfuse-fast-gelu"),
        ("BiasGelu", True, "unfuse-bias-gelu"),
    ],
)
def test_gelu_fusions_decompose_to_what_onnxruntime_computes(op, with_bias, rewrite):
    model = _fused(op, with_bias)
    graph, applied = _canonical(model)
    assert rewrite in {app.rewrite for app in applied}
    assert not any("." in node.op for node in graph.nodes.values())
    x = (3 * RNG.standard_normal((2, 4, 8))).astype(np.float32)
    expected = _run(model, {"x": x})[0]
    got = _run(graph_to_model(graph, float_type="FLOAT"), {"x": x})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_a_dynamically_quantized_lstm_is_an_lstm_on_its_dequantized_weights(tmp_path):
    torch = pytest.importorskip("torch")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(6, 5, num_layers=1).eval()
    reference, quantized = tmp_path / "lstm.onnx", tmp_path / "lstm.int8.onnx"
    torch.onnx.export(
        lstm,
        (torch.randn(4, 1, 6),),
        str(reference),
        input_names=["x"],
        output_names=["y", "h", "c"],
        dynamo=False,
    )
    quantize_dynamic(str(reference), str(quantized), weight_type=QuantType.QInt8)
    ops = {node.op_type for node in onnx.load(str(quantized)).graph.node}
    assert "DynamicQuantizeLSTM" in ops, ops  # the premise: the tool wrote the fused quantized LSTM
    graph = load_graph(quantized)
    applied = canonicalise(graph, DEFAULT_REWRITES)
    assert "dequantize-dynamic-lstm" in {app.rewrite for app in applied}
    assert [node.op for node in graph.nodes.values() if "LSTM" in node.op] == ["LSTM"]
    x = RNG.standard_normal((4, 1, 6)).astype(np.float32)
    got = _run(graph_to_model(graph, float_type="FLOAT"), {"x": x})
    # against the float model: only the weights' rounding differs (a wrong transpose or gate order would
    # be off by the output's whole scale); against onnxruntime's kernel: the activations' rounding too
    for bound, model in ((0.03, onnx.load(str(reference))), (0.1, onnx.load(str(quantized)))):
        for a, b in zip(_run(model, {"x": x}), got, strict=True):
            assert np.abs(a - b).max() <= bound * np.abs(a).max()
