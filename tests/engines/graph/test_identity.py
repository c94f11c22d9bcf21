"""Polynomial identity testing proves regions equal only when they are the same function.

Each pair is a whole small graph taken as one region (graph inputs to graph outputs): forms exporters and
optimisers really write (a projection with or without a Reshape around it, LayerNorm fused or spelled
out, softmax as one op or three) must be proved; any change of function (a weight, an epsilon, the head
count, GELU's approximation, a residual) must not be, whatever the size of the change.
"""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from parity.engines.graph import identity
from parity.engines.graph.symbolic import NotProvable
from parity.ir import graph_from_model

RNG = np.random.default_rng(7)
W = RNG.standard_normal((8, 8)).astype(np.float32)
GAMMA = RNG.standard_normal(8).astype(np.float32)
BETA = RNG.standard_normal(8).astype(np.float32)


def _graph(nodes, constants, shape=(1, 4, 8), out_shape=None):
    model = helper.make_model(
        helper.make_graph(
            nodes,
            "region",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape or shape))],
            [numpy_helper.from_array(np.asarray(v), k) for k, v in constants.items()],
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    return graph_from_model(model)


def _proves(first, second) -> bool:
    sides = tuple((tuple(g.nodes), ["x"], ["y"]) for g in (first, second))
    assert identity.provable(first, sides[0][0]) and identity.provable(second, sides[1][0])
    try:
        found = identity.prove(first, second, sides)
    except NotProvable:
        return False
    assert found["method"] == "proved_identity"
    return True


def _projection(weight=W, reshaped=False):
    if not reshaped:
        return _graph([helper.make_node("MatMul", ["x", "w"], ["y"])], {"w": weight})
    nodes = [
        helper.make_node("Reshape", ["x", "flat"], ["f"]),
        helper.make_node("MatMul", ["f", "w"], ["m"]),
        helper.make_node("Reshape", ["m", "back"], ["y"]),
    ]
    return _graph(nodes, {"w": weight, "flat": np.array([4, 8]), "back": np.array([1, 4, 8])})


def _layer_norm(epsilon=1e-5, fused=True):
    if fused:
        node = helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1, epsilon=epsilon)
        return _graph([node], {"g": GAMMA, "b": BETA})
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[-1]),
        helper.make_node("Sub", ["x", "mean"], ["d"]),
        helper.make_node("Pow", ["d", "two"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["var"], axes=[-1]),
        helper.make_node("Add", ["var", "eps"], ["ve"]),
        helper.make_node("Sqrt", ["ve"], ["root"]),
        helper.make_node("Div", ["d", "root"], ["n"]),
        helper.make_node("Mul", ["n", "g"], ["s"]),
        helper.make_node("Add", ["s", "b"], ["y"]),
    ]
    constants = {"two": np.float32(2.0), "eps": np.float32(epsilon), "g": GAMMA, "b": BETA}
    return _graph(nodes, constants)


def _softmax(fused=True, axis=-1):
    if fused:
        return _graph([helper.make_node("Softmax", ["x"], ["y"], axis=axis)], {})
    nodes = [
        helper.make_node("Exp", ["x"], ["e"]),
        helper.make_node("ReduceSum", ["e", "axes"], ["s"], keepdims=1),
        helper.make_node("Div", ["e", "s"], ["y"]),
    ]
    return _graph(nodes, {"axes": np.array([axis], dtype=np.int64)})


def _attention(heads: int):
    """softmax(q kᵀ) v over ``heads`` heads of the 8 features, q = k = v = x W (the same weights)."""
    split = np.array([1, 4, heads, 8 // heads])
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["p"]),
        helper.make_node("Reshape", ["p", "split"], ["h"]),
        helper.make_node("Transpose", ["h"], ["q"], perm=[0, 2, 1, 3]),
        helper.make_node("Transpose", ["h"], ["kt"], perm=[0, 2, 3, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["a"], axis=-1),
        helper.make_node("MatMul", ["a", "q"], ["o"]),
        helper.make_node("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["ot", "merge"], ["y"]),
    ]
    return _graph(nodes, {"w": W, "split": split, "merge": np.array([1, 4, 8])})


def test_a_projection_with_or_without_reshapes_around_it_is_proved():
    assert _proves(_projection(), _projection(reshaped=True))


def test_layer_norm_fused_or_spelled_out_is_proved():
    assert _proves(_layer_norm(fused=True), _layer_norm(fused=False))


def test_softmax_as_one_op_or_three_is_proved():
    assert _proves(_softmax(fused=True), _softmax(fused=False))


def test_the_same_attention_is_proved():
    assert _proves(_attention(2), _attention(2))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(lambda: _projection(), lambda: _projection(_one_ulp(W), True), id="one-weight-one-ulp"),
        pytest.param(lambda: _layer_norm(1e-5), lambda: _layer_norm(1e-6, fused=False), id="epsilon"),
        pytest.param(lambda: _attention(2), lambda: _attention(4), id="head-count"),
        pytest.param(lambda: _softmax(axis=-1), lambda: _softmax(fused=False, axis=-2), id="softmax-axis"),
    ],
)
def test_another_function_is_not_proved(first, second):
    assert not _proves(first(), second())


def test_a_dropped_residual_is_not_proved():
    with_residual = _graph(
        [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "x"], ["y"])], {"w": W}
    )
    assert not _proves(with_residual, _projection())


def test_polynomial_identities_are_proved_and_near_misses_are_not():
    def square_of_sum(expanded: bool, coefficient: float = 2.0):
        if not expanded:  # (x + c)²
            nodes = [helper.make_node("Add", ["x", "c"], ["s"]), helper.make_node("Mul", ["s", "s"], ["y"])]
            return _graph(nodes, {"c": np.float32(0.75)})
        nodes = [  # x² + k·c·x + c²
            helper.make_node("Mul", ["x", "x"], ["xx"]),
            helper.make_node("Mul", ["x", "kc"], ["cx"]),
            helper.make_node("Add", ["xx", "cx"], ["t"]),
            helper.make_node("Add", ["t", "cc"], ["y"]),
        ]
        return _graph(nodes, {"kc": np.float32(coefficient * 0.75), "cc": np.float32(0.75**2)})

    assert _proves(square_of_sum(False), square_of_sum(True))
    assert not _proves(square_of_sum(False), square_of_sum(True, 2.0000002))


def test_gelu_approximations_are_told_apart():
    def gelu(approximate: str):
        model = helper.make_model(
            helper.make_graph(
                [helper.make_node("Gelu", ["x"], ["y"], approximate=approximate)],
                "gelu",
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8])],
            ),
            opset_imports=[helper.make_opsetid("", 20)],
        )
        return graph_from_model(model)

    assert _proves(gelu("none"), gelu("none"))
    assert not _proves(gelu("none"), gelu("tanh"))


def _one_ulp(weights: np.ndarray) -> np.ndarray:
    changed = weights.copy()
    changed[3, 5] = np.nextafter(changed[3, 5], np.float32(np.inf))
    return changed


SEQ, BATCH, INPUT, HIDDEN = 3, 2, 4, 3
LSTM_W = RNG.standard_normal((1, 4 * HIDDEN, INPUT)).astype(np.float32)
LSTM_R = RNG.standard_normal((1, 4 * HIDDEN, HIDDEN)).astype(np.float32)
LSTM_B = RNG.standard_normal((1, 8 * HIDDEN)).astype(np.float32)


def _lstm_model(unrolled: bool, gate_order: str = "iofc", forget: str = "Sigmoid"):
    """Y_h of an ONNX LSTM, or of the same cell written out step by step (MatMul, Split, Sigmoid, Tanh)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [SEQ, BATCH, INPUT])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, BATCH, HIDDEN])
    if not unrolled:
        nodes = [helper.make_node("LSTM", ["x", "w", "r", "b"], ["", "y"], hidden_size=HIDDEN)]
        constants = {"w": LSTM_W, "r": LSTM_R, "b": LSTM_B}
    else:
        nodes, constants = _unrolled_lstm(gate_order, forget)
    model = helper.make_model(
        helper.make_graph(
            nodes, "lstm", [x], [y], [numpy_helper.from_array(np.asarray(v), k) for k, v in constants.items()]
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    return model


def _unrolled_lstm(gate_order: str, forget: str):
    constants = {
        "wt": LSTM_W[0].T.copy(),
        "rt": LSTM_R[0].T.copy(),
        "wb": LSTM_B[0, : 4 * HIDDEN].copy(),  # kept apart: a sum folded in float32 is another rational
        "rb": LSTM_B[0, 4 * HIDDEN :].copy(),
        "h_init": np.zeros((BATCH, HIDDEN), np.float32),
        "c_init": np.zeros((BATCH, HIDDEN), np.float32),
        "axis0": np.array([0], np.int64),
    }
    nodes, h, c = [], "h_init", "c_init"
    for t in range(SEQ):
        constants[f"t{t}"] = np.array(t, np.int64)
        nodes += [
            helper.make_node("Gather", ["x", f"t{t}"], [f"x{t}"], axis=0),
            helper.make_node("MatMul", [f"x{t}", "wt"], [f"xw{t}"]),
            helper.make_node("MatMul", [h, "rt"], [f"hr{t}"]),
            helper.make_node("Add", [f"xw{t}", "wb"], [f"xb{t}"]),
            helper.make_node("Add", [f"hr{t}", "rb"], [f"hb{t}"]),
            helper.make_node("Add", [f"xb{t}", f"hb{t}"], [f"z{t}"]),
            helper.make_node("Split", [f"z{t}"], [f"{g}{t}" for g in gate_order], axis=1),
            helper.make_node("Sigmoid", [f"i{t}"], [f"si{t}"]),
            helper.make_node(forget, [f"f{t}"], [f"sf{t}"]),
            helper.make_node("Sigmoid", [f"o{t}"], [f"so{t}"]),
            helper.make_node("Tanh", [f"c{t}"], [f"tc{t}"]),
            helper.make_node("Mul", [f"sf{t}", c], [f"fc{t}"]),
            helper.make_node("Mul", [f"si{t}", f"tc{t}"], [f"ic{t}"]),
            helper.make_node("Add", [f"fc{t}", f"ic{t}"], [f"C{t}"]),
            helper.make_node("Tanh", [f"C{t}"], [f"tC{t}"]),
            helper.make_node("Mul", [f"so{t}", f"tC{t}"], [f"H{t}"]),
        ]
        h, c = f"H{t}", f"C{t}"
    nodes.append(helper.make_node("Unsqueeze", [h, "axis0"], ["y"]))
    return nodes, constants


def _lstm_proves(first, second) -> bool:
    return _proves(graph_from_model(first), graph_from_model(second))


def test_an_lstm_written_out_step_by_step_is_proved_and_really_the_same():
    import onnxruntime as ort

    fused, unrolled = _lstm_model(False), _lstm_model(True)
    feed = {"x": RNG.standard_normal((SEQ, BATCH, INPUT)).astype(np.float32)}
    outputs = [
        ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feed)[0]
        for m in (fused, unrolled)
    ]
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)  # the test's premise
    assert _lstm_proves(fused, unrolled)


@pytest.mark.parametrize(
    ("gate_order", "forget"),
    [("ifco", "Sigmoid"), ("iofc", "Tanh")],
    ids=["keras-gate-order-with-onnx-weights", "forget-gate-through-tanh"],
)
def test_an_lstm_cell_that_computes_another_function_is_not_proved(gate_order, forget):
    assert not _lstm_proves(_lstm_model(False), _lstm_model(True, gate_order, forget))
