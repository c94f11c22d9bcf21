"""QOperator weights with one scale per output channel dequantize along that channel (issue 27).

Each model is built with onnx.helper and run by onnxruntime; its canonical form (the QOperator op as
DequantizeLinear → float op, the weight dequantized into a parameter) is exported back and run too: a
scale applied along the wrong axis is off by the ratio between channels' scales, far beyond rounding.
"""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from parity.engines.graph import DEFAULT_REWRITES, canonicalise
from parity.ir import load_graph
from parity.ir.to_onnx import graph_to_model

RNG = np.random.default_rng(3)


def _weight(shape, channels_axis):
    """int8 weights with scales that differ by an order of magnitude between channels."""
    q = RNG.integers(-127, 128, size=shape).astype(np.int8)
    scale = np.geomspace(0.001, 0.05, shape[channels_axis]).astype(np.float32)
    return q, scale


def _model(op: str):
    """x (float) → QuantizeLinear (uint8) → op with a per-channel int8 weight → float output."""
    init = [
        numpy_helper.from_array(np.array(0.02, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "x_zero"),
    ]
    nodes = [helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["xq"])]
    domain = []
    if op == "QLinearConv":
        x_shape, (q, scale) = [1, 4, 6, 6], _weight((8, 4, 3, 3), 0)
        nodes.append(
            helper.make_node(
                "QLinearConv",
                ["xq", "x_scale", "x_zero", "w", "w_scale", "w_zero", "y_scale", "y_zero"],
                ["yq"],
                pads=[1, 1, 1, 1],
            )
        )
    elif op == "QLinearMatMul":
        x_shape, (q, scale) = [3, 5], _weight((5, 7), 1)
        nodes.append(
            helper.make_node(
                "QLinearMatMul",
                ["xq", "x_scale", "x_zero", "w", "w_scale", "w_zero", "y_scale", "y_zero"],
                ["yq"],
            )
        )
    else:  # QGemm, B stored (K, N) or, with transB, (N, K): one scale per column of the product
        transposed = op == "QGemm_transB"
        x_shape, (q, scale) = [3, 5], _weight((7, 5) if transposed else (5, 7), 0 if transposed else 1)
        nodes.append(
            helper.make_node(
                "QGemm",
                ["xq", "x_scale", "x_zero", "w", "w_scale", "w_zero", "", "y_scale", "y_zero"],
                ["yq"],
                domain="com.microsoft",
                transB=int(transposed),
            )
        )
        domain = [helper.make_opsetid("com.microsoft", 1)]
    init += [
        numpy_helper.from_array(q, "w"),
        numpy_helper.from_array(scale, "w_scale"),
        numpy_helper.from_array(np.zeros(scale.shape, np.int8), "w_zero"),
        numpy_helper.from_array(np.array(0.5, np.float32), "y_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "y_zero"),
    ]
    nodes.append(helper.make_node("DequantizeLinear", ["yq", "y_scale", "y_zero"], ["y"]))
    graph = helper.make_graph(
        nodes,
        op,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [
            helper.make_tensor_value_info(
                "y", TensorProto.FLOAT, [1, 8, 6, 6] if op == "QLinearConv" else [3, 7]
            )
        ],
        init,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), *domain]), x_shape


def _run(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0].astype(np.float64)


@pytest.mark.parametrize("op", ["QLinearConv", "QLinearMatMul", "QGemm", "QGemm_transB"])
def test_per_channel_weight_scales_dequantize_along_the_output_channels(tmp_path, op):
    model, shape = _model(op)
    path = tmp_path / "int8.onnx"
    onnx.save(model, path)
    graph = load_graph(path)
    canonicalise(graph, DEFAULT_REWRITES)
    exported = graph_to_model(graph, float_type="FLOAT")
    x = (RNG.integers(-20, 21, size=shape) * 0.02).astype(np.float32)  # exact on the input's uint8 grid
    expected, got = _run(model, x), _run(exported, x)
    # the canonical form drops the output's quantization: within half its step (0.5), nothing clipped
    assert np.abs(expected).max() < 60
    assert np.abs(expected - got).max() <= 0.25 + 1e-4
    dequantized = [p for p in graph.params.values() if p.transform and p.transform[-1] == "dequantize"]
    assert len(dequantized) == 1
    q = numpy_helper.to_array(next(t for t in model.graph.initializer if t.name == "w"))
    scale = numpy_helper.to_array(next(t for t in model.graph.initializer if t.name == "w_scale"))
    axis = 1 if op in ("QLinearMatMul", "QGemm") else 0
    shape = [1] * q.ndim
    shape[axis] = -1
    assert np.allclose(
        dequantized[0].values(), q.astype(np.float32) * scale.reshape(shape), rtol=1e-6, atol=0
    )
