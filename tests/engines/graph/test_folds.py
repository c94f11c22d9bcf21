"""Folds the optimisers make by hand: scale into Conv, batch norm into Gemm, bias into Conv."""

import numpy as np
import onnxruntime as ort
from onnx import numpy_helper

from parity.engines.graph import DEFAULT_REWRITES, canonicalise, compare_graphs
from parity.examples.builder import GraphBuilder
from parity.ir import graph_from_model
from parity.ir.to_onnx import graph_to_model


def _conv_then(op: str, fold: bool):
    b = GraphBuilder("g", seed=3)
    x = b.input("x", [1, 3, 8, 8])
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
    c = (1.0 + 0.2 * rng.standard_normal((4, 1, 1))).astype(np.float32)
    if fold and op == "Mul":
        y = b.op("Conv", [x, b.const("w", w * c.reshape(4, 1, 1, 1))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    elif fold and op == "Add":
        y = b.op(
            "Conv", [x, b.const("w", w), b.const("b", c.reshape(4))], kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        )
    else:
        y = b.op(
            op, [b.op("Conv", [x, b.const("w", w)], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), b.const("c", c)]
        )
    b.output(b.op("Relu", [y]), [1, 4, 8, 8])
    return b.model()


def _gemm_then_batchnorm(fold: bool):
    b = GraphBuilder("g", seed=4)
    x = b.input("x", [2, 6])
    rng = np.random.default_rng(4)
    w = rng.standard_normal((5, 6)).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    scale, beta = (
        (1 + 0.1 * rng.standard_normal(5)).astype(np.float32),
        rng.standard_normal(5).astype(np.float32),
    )
    mean, var = rng.standard_normal(5).astype(np.float32), (0.5 + rng.random(5)).astype(np.float32)
    if fold:
        factor = scale / np.sqrt(var + 1e-5)
        y = b.op(
            "Gemm",
            [x, b.const("w", w * factor[:, None]), b.const("b", (bias - mean) * factor + beta)],
            transB=1,
        )
    else:
        y = b.op("Gemm", [x, b.const("w", w), b.const("b", bias)], transB=1)
        y = b.op(
            "BatchNormalization",
            [y] + [b.const(n, v) for n, v in (("s", scale), ("o", beta), ("m", mean), ("v", var))],
            epsilon=1e-5,
        )
    b.output(y, [2, 5])
    return b.model()


def _outputs(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def _check(reference, candidate, kind, shape):
    result = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    assert result.correspondence.complete
    assert kind in {o.kind for o in result.observations}
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    canonical = graph_from_model(reference)
    canonicalise(canonical, DEFAULT_REWRITES)
    assert np.allclose(_outputs(graph_to_model(canonical), x), _outputs(reference, x), atol=1e-5)
    assert np.allclose(_outputs(candidate, x), _outputs(reference, x), atol=1e-4)


def test_scale_multiplied_into_conv_weights():
    _check(_conv_then("Mul", False), _conv_then("Mul", True), "graph.ops_fused", [1, 3, 8, 8])


def test_bias_added_into_conv():
    _check(_conv_then("Add", False), _conv_then("Add", True), "graph.ops_fused", [1, 3, 8, 8])


def test_batchnorm_folded_into_gemm():
    _check(_gemm_then_batchnorm(False), _gemm_then_batchnorm(True), "graph.batchnorm_folded", [2, 6])


def test_folded_weights_are_derived_from_the_reference_in_float64():
    reference = graph_from_model(_conv_then("Mul", False))
    canonicalise(reference, DEFAULT_REWRITES)
    conv = next(node for node in reference.nodes.values() if node.op == "Conv")
    folded = reference.params[conv.inputs[1]]
    assert folded.transform[-1] == "fuse_scale" and folded.values().dtype == np.float64
    expected = numpy_helper.to_array(_conv_then("Mul", True).graph.initializer[0])
    assert np.allclose(folded.values(), expected, rtol=1e-6)


def _dynamic_flatten(folded: bool):
    """x → Conv → Reshape to [batch, -1], the batch taken from Shape(x) as PyTorch exports write it."""
    b = GraphBuilder("g", seed=5)
    x = b.input("x", [1, 3, 8, 8])
    y = b.op("Conv", [x, b.weight("w", [4, 3, 3, 3])], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    if folded:
        target = b.const("target", np.array([1, 256], dtype=np.int64))
    else:
        batch = b.op("Gather", [b.op("Shape", [y]), b.const("zero", np.array(0, dtype=np.int64))], axis=0)
        batch = b.op("Unsqueeze", [batch, b.const("axes", np.array([0], dtype=np.int64))])
        target = b.op("Concat", [batch, b.const("rest", np.array([-1], dtype=np.int64))], axis=0)
    b.output(b.op("Reshape", [y, target]), [1, 256])
    return b.model()


def test_shape_computations_folded_to_constants():
    _check(_dynamic_flatten(False), _dynamic_flatten(True), "graph.constant_folded", [1, 3, 8, 8])


def _matmul_then_scale(scale_shape: tuple[int, ...], fold: bool, bias: bool = True, rank: int = 2):
    """x·W (+ b) scaled by a scalar or per-column constant, or with the scale folded into W and b."""
    b = GraphBuilder("g", seed=6)
    shape = [2, 3, 6][-rank:]
    x = b.input("x", shape)
    rng = np.random.default_rng(6)
    w, c = rng.standard_normal((6, 5)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    s = (0.5 + rng.random(scale_shape)).astype(np.float32)
    column = s.reshape(-1)
    if fold:
        y = b.op("MatMul", [x, b.const("w", w * column)])
        y = b.op("Add", [y, b.const("c", c * column)]) if bias else y
    else:
        y = b.op("MatMul", [x, b.const("w", w)])
        y = b.op("Add", [y, b.const("c", c)]) if bias else y
        y = b.op("Mul", [y, b.const("s", s)])
    b.output(y, [*shape[:-1], 5])
    return b.model()


def test_a_scalar_scale_folded_into_matmul_weights_and_bias():
    reference, candidate = _matmul_then_scale((), False), _matmul_then_scale((), True)
    _check(reference, candidate, "graph.ops_fused", [3, 6])


def test_a_per_column_scale_folded_into_a_3d_matmul():
    reference, candidate = _matmul_then_scale((5,), False, rank=3), _matmul_then_scale((5,), True, rank=3)
    x = np.random.default_rng(0).standard_normal([2, 3, 6]).astype(np.float32)
    result = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    assert result.correspondence.complete and "graph.ops_fused" in {o.kind for o in result.observations}
    assert np.allclose(_outputs(candidate, x), _outputs(reference, x), atol=1e-4)


def test_a_scale_that_broadcasts_the_product_further_is_not_folded():
    """s of shape (2, 1, 5) on a 2-D product makes it 3-D: no fold can say that."""
    graph = graph_from_model(_matmul_then_scale((2, 1, 5), False, bias=False))
    canonicalise(graph, DEFAULT_REWRITES)
    assert any(node.op == "Mul" for node in graph.nodes.values())
