"""Precision and quantization on activations: float-to-float Casts, and QuantizeLinear→DequantizeLinear.

Canonical form computes without them: a Cast between float formats, or a quantize/dequantize round trip,
changes only the precision of a value, which the rulebooks judge as a precision change or quantization.
"""

from __future__ import annotations

import numpy as np

from parity.engines.graph.params import FLOAT_TYPES, is_param, precision_name
from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet, emit, fresh_value
from parity.ir import Graph, Node
from parity.observations.kinds import GRAPH_QUANTIZED, IDENTITY_REMOVED, PRECISION_CHANGED

_ONNX_FLOATS = {1: "FLOAT", 10: "FLOAT16", 16: "BFLOAT16", 11: "DOUBLE"}


class RemoveFloatCast(Rewrite):
    """Replaces Cast(x, to=float format) of a float activation with x."""

    says = ("precision Casts removed", "Casts to another float precision inserted")

    name = "remove-float-cast"
    ops = ("Cast",)
    kind = PRECISION_CHANGED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if is_param(graph, node.inputs[0]):
            return None
        target = _ONNX_FLOATS.get(int(node.attrs.get("to", 0)))
        source = graph.value_info(node.inputs[0]).dtype
        if target is None or source not in FLOAT_TYPES:
            return None
        graph.bypass(node, node.inputs[0])
        return self.applied([node], format=precision_name(target), source_format=precision_name(source))


class RemoveQuantizeDequantize(Rewrite):
    """Replaces DequantizeLinear(QuantizeLinear(x)) on an activation with x."""

    says = ("quantize/dequantize pairs removed", "activations quantized (QuantizeLinear/DequantizeLinear)")

    name = "remove-qdq"
    ops = ("DequantizeLinear",)
    kind = PRECISION_CHANGED
    candidate_kind = GRAPH_QUANTIZED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        quantize = graph.producer_of(node.inputs[0])
        if quantize is None or quantize.op != "QuantizeLinear" or is_param(graph, quantize.inputs[0]):
            return None
        zero_point = quantize.inputs[2] if len(quantize.inputs) > 2 else ""
        fmt = precision_name(graph.value_info(zero_point).dtype) if zero_point else "uint8"
        source = quantize.inputs[0]
        if _clamps_at_zero(graph, zero_point, fmt):
            # the round trip clamps at zero: quantizers drop a ReLU into it, so it stands for one
            graph.remove_node(node)
            emit(graph, node, "Relu", [source], node.outputs[0], self.name)
        else:
            graph.bypass(node, source)
        if not graph.consumers.get(quantize.outputs[0]) and not graph.is_output(quantize.outputs[0]):
            graph.remove_node(quantize)
        return self.applied([quantize, node], format=fmt)


def is_quantizer_clamp(node: Node) -> bool:
    """A ReLU that a quantize/dequantize round trip clamping at zero stands for (moved or not since)."""
    return node.op == "Relu" and RemoveQuantizeDequantize.name in node.history


class DequantizeBeforeShapeOp(Rewrite):
    """Replaces DequantizeLinear(f(q)) with f(DequantizeLinear(q)) for an f that only moves values.

    Valid for a per-tensor scale and Reshape, Transpose or pooling by max: quantized graphs reshape integers.
    """

    says = ("", "")
    name = "dequantize-before-shape-op"
    ops = ("DequantizeLinear",)
    kind = GRAPH_QUANTIZED
    silent = True

    def apply(self, graph: Graph, node: Node) -> Application | None:
        moved = graph.producer_of(node.inputs[0])
        if moved is None or not _moves_values(moved) or len(graph.consumers.get(moved.outputs[0], ())) != 1:
            return None
        scale = node.inputs[1]
        if not is_param(graph, scale) or int(np.prod(graph.params[scale].shape, dtype=np.int64)) != 1:
            return None
        source = moved.inputs[0]
        graph.remove_node(node)
        graph.remove_node(moved)
        value = emit(
            graph, node, "DequantizeLinear", [source, *node.inputs[1:]], fresh_value(graph, source), self.name
        )
        graph.values[value] = type(graph.value_info(source))(
            graph.value_info(node.outputs[0]).dtype, graph.value_info(source).shape
        )
        emit(graph, moved, moved.op, [value, *moved.inputs[1:]], node.outputs[0], self.name, **moved.attrs)
        return self.applied([moved, node])


MOVES_VALUES = frozenset(
    {
        "Reshape",
        "Flatten",
        "Transpose",
        "Squeeze",
        "Unsqueeze",
        "MaxPool",
        "GlobalMaxPool",
        "Gather",
        "Slice",
        "Expand",
        "Tile",
        "DepthToSpace",
        "SpaceToDepth",
    }
)


def _moves_values(node: Node) -> bool:
    """Whether the op only selects, copies or moves values (so it commutes with a per-tensor dequantize)."""
    if node.op == "Resize":
        return node.attrs.get("mode", "nearest") == "nearest"
    return node.op in MOVES_VALUES


def _clamps_at_zero(graph: Graph, zero_point: str, fmt: str | None) -> bool:
    """True when the zero point is the smallest representable value, so negatives round-trip to 0."""
    lowest = {"uint8": 0, "int8": -128, "uint16": 0, "int16": -32768}.get(fmt or "uint8")
    if lowest is None:
        return False
    if not zero_point:
        return lowest == 0
    if not is_param(graph, zero_point) or int(np.prod(graph.params[zero_point].shape, dtype=np.int64)) > 1:
        return False
    return int(np.asarray(graph.params[zero_point].values()).reshape(-1)[0]) == lowest


class RemoveRedundantRelu(Rewrite):
    """Replaces Relu(x) with x when x cannot be negative (after ReLU, Softmax, Sigmoid, pooling of those)."""

    says = ("ReLU of a non-negative value removed", "ReLU of a non-negative value added")
    name = "remove-redundant-relu"
    ops = ("Relu",)
    kind = IDENTITY_REMOVED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if not _nonnegative(graph, node.inputs[0], depth=8):
            return None
        graph.bypass(node, node.inputs[0])
        # ReLUs that stand for a quantization round trip are not in the file: removing them is not a change
        return self.applied([node], consequence=RemoveQuantizeDequantize.name in node.history or None)


BOUNDED = {
    "Relu": (0.0, None),
    "Softmax": (0.0, 1.0),
    "Sigmoid": (0.0, 1.0),
    "HardSigmoid": (0.0, 1.0),
    "Abs": (0.0, None),
    "Exp": (0.0, None),
    "Sqrt": (0.0, None),
    "Softplus": (0.0, None),
    "Erf": (-1.0, 1.0),
    "Tanh": (-1.0, 1.0),
}
PRESERVING = frozenset(
    {
        "MaxPool",
        "AveragePool",
        "GlobalAveragePool",
        "GlobalMaxPool",
        "Reshape",
        "Flatten",
        "Transpose",
        "Squeeze",
        "Unsqueeze",
        "Identity",
        "Dropout",
    }
)

Range = tuple[float | None, float | None]


def _nonnegative(graph: Graph, value: str, depth: int) -> bool:
    low, _ = _range(graph, value, depth)
    return low is not None and low >= 0.0


def _range(graph: Graph, value: str, depth: int) -> Range:
    """A sound interval for ``value`` (None: unbounded).

    Covers bounded activations, pooling and reshapes of them, concatenation, and sums and products.
    """
    if is_param(graph, value):
        param = graph.params[value]
        if int(np.prod(param.shape, dtype=np.int64)) > 64:
            return (None, None)
        values = np.asarray(param.values(), dtype=np.float64)
        return (float(values.min()), float(values.max())) if values.size else (None, None)
    producer = graph.producer_of(value)
    if producer is None or depth == 0:
        return (None, None)
    if producer.op in BOUNDED:
        low, high = BOUNDED[producer.op]
        if producer.op == "Relu":
            high = _range(graph, producer.inputs[0], depth - 1)[1]
        return (low, high)
    if producer.op in PRESERVING:
        return _range(graph, producer.inputs[0], depth - 1)
    if producer.op == "Concat":
        ranges = [_range(graph, v, depth - 1) for v in producer.inputs if v]
        lows, highs = [low for low, _ in ranges], [high for _, high in ranges]
        return (None if None in lows else min(lows), None if None in highs else max(highs))
    if producer.op == "Pow" and len(producer.inputs) == 2 and is_param(graph, producer.inputs[1]):
        exponent = np.asarray(graph.params[producer.inputs[1]].values()).reshape(-1)
        if exponent.size == 1 and float(exponent[0]) % 2 == 0:
            return (0.0, None)  # an even power
    if producer.op == "Mul" and len(producer.inputs) == 2 and producer.inputs[0] == producer.inputs[1]:
        return (0.0, None)  # a square
    if producer.op in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare"):
        if producer.op in ("ReduceL2", "ReduceSumSquare"):
            return (0.0, None)
        low, _ = _range(graph, producer.inputs[0], depth - 1)
        return (low if low is not None and low >= 0 else None, None)
    if producer.op in ("Add", "Mul") and len(producer.inputs) == 2:
        (a_low, a_high), (b_low, b_high) = (_range(graph, v, depth - 1) for v in producer.inputs)
        if producer.op == "Add":
            return (_sum(a_low, b_low), _sum(a_high, b_high))
        if None not in (a_low, a_high, b_low, b_high):
            products = [a_low * b_low, a_low * b_high, a_high * b_low, a_high * b_high]
            return (min(products), max(products))
        if a_low is not None and b_low is not None and a_low >= 0 and b_low >= 0:
            return (0.0, None)
    return (None, None)


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


rewrites = RewriteSet(
    [RemoveFloatCast(), RemoveQuantizeDequantize(), DequantizeBeforeShapeOp(), RemoveRedundantRelu()]
)
