"""Quantized operators (onnxruntime's QOperator format) decomposed into QDQ form.

A QLinearX op computes X on dequantized inputs and quantizes its result, so it is written as
DequantizeLinear on each quantized input, the float op X, and QuantizeLinear on the output; the
quantize/dequantize pairs between consecutive ops then cancel (precision.py) and weights dequantize into
derived parameters (constants.py). What remains is the float graph, and the quantization is observed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parity.engines.graph.params import derive, is_param
from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet, emit, fresh_value
from parity.ir import Graph, Node, ValueInfo
from parity.observations.kinds import GRAPH_QUANTIZED, PRECISION_CHANGED


@dataclass(frozen=True)
class QuantizedOp:
    """Where the quantized inputs (value, scale, zero point) and the output's scale and zero point are."""

    float_op: str
    inputs: tuple[tuple[int, int, int], ...]
    output: tuple[int, int] | None
    bias: int | None = None
    keep: tuple[str, ...] = ()


SPECS: dict[str, QuantizedOp] = {
    "QLinearConv": QuantizedOp(
        "Conv",
        ((0, 1, 2), (3, 4, 5)),
        (6, 7),
        bias=8,
        keep=("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"),
    ),
    "QLinearMatMul": QuantizedOp("MatMul", ((0, 1, 2), (3, 4, 5)), (6, 7)),
    "com.microsoft.QLinearAdd": QuantizedOp("Add", ((0, 1, 2), (3, 4, 5)), (6, 7)),
    "com.microsoft.QLinearMul": QuantizedOp("Mul", ((0, 1, 2), (3, 4, 5)), (6, 7)),
    "com.microsoft.QLinearGlobalAveragePool": QuantizedOp("GlobalAveragePool", ((0, 1, 2),), (3, 4)),
    "com.microsoft.QLinearAveragePool": QuantizedOp(
        "AveragePool",
        ((0, 1, 2),),
        (3, 4),
        keep=("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"),
    ),
    "com.microsoft.QLinearSigmoid": QuantizedOp("Sigmoid", ((0, 1, 2),), (3, 4)),
    "com.microsoft.QLinearLeakyRelu": QuantizedOp("LeakyRelu", ((0, 1, 2),), (3, 4), keep=("alpha",)),
    "com.microsoft.QLinearSoftmax": QuantizedOp("Softmax", ((0, 1, 2),), (3, 4), keep=("axis",)),
    "com.microsoft.QGemm": QuantizedOp(
        "Gemm", ((0, 1, 2), (3, 4, 5)), (7, 8), bias=6, keep=("alpha", "transA", "transB")
    ),
}


class DecomposeQuantizedOp(Rewrite):
    """Replaces a QLinear* (or QGemm) op with DequantizeLinear → float op → QuantizeLinear."""

    says = (
        "quantized operators replaced by float ones",
        "operators computed on quantized tensors (QOperator)",
    )
    name = "decompose-qlinear"
    ops = (*SPECS, "com.microsoft.QLinearConcat")
    kind = PRECISION_CHANGED
    candidate_kind = GRAPH_QUANTIZED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if node.op == "com.microsoft.QLinearConcat":
            return self._concat(graph, node)
        spec = SPECS[node.op]
        inputs = list(node.inputs) + [""] * 10
        out = node.outputs[0]
        quantized_type = graph.value_info(inputs[0]).dtype
        graph.remove_node(node)
        floats = []
        for position, (value, scale, zero) in enumerate(spec.inputs):
            dq_inputs = [inputs[value], inputs[scale], *([inputs[zero]] if inputs[zero] else [])]
            axis = _scale_axis(graph, spec.float_op, position, node.attrs, inputs[value], inputs[scale])
            dequantized = emit(
                graph,
                node,
                "DequantizeLinear",
                dq_inputs,
                fresh_value(graph, inputs[value]),
                self.name,
                **({} if axis is None else {"axis": axis}),
            )
            graph.values[dequantized] = ValueInfo("FLOAT", graph.value_info(inputs[value]).shape)
            floats.append(dequantized)
        if spec.bias is not None and inputs[spec.bias]:
            floats.append(self._bias(graph, node, inputs, spec))
        attrs = {key: value for key, value in node.attrs.items() if key in spec.keep}
        if spec.output is None or not inputs[spec.output[0]]:
            emit(graph, node, spec.float_op, floats, out, self.name, **attrs)
        else:
            result = emit(graph, node, spec.float_op, floats, fresh_value(graph, out), self.name, **attrs)
            graph.values[result] = ValueInfo("FLOAT", graph.value_info(out).shape)
            scale, zero = spec.output
            emit(
                graph,
                node,
                "QuantizeLinear",
                [result, inputs[scale], *([inputs[zero]] if inputs[zero] else [])],
                out,
                self.name,
            )
        fmt = (quantized_type or "uint8").lower()
        return self.applied([node], format=fmt, fused=node.op)

    def _concat(self, graph: Graph, node: Node) -> Application:
        """QLinearConcat(y_scale, y_zero, x1, s1, z1, x2, s2, z2, ...)."""
        y_scale, y_zero, *triples = node.inputs
        out = node.outputs[0]
        graph.remove_node(node)
        floats = []
        for index in range(0, len(triples), 3):
            value, scale, zero = ([*triples[index : index + 3], "", "", ""])[:3]
            dequantized = emit(
                graph,
                node,
                "DequantizeLinear",
                [value, scale, *([zero] if zero else [])],
                fresh_value(graph, value),
                self.name,
            )
            graph.values[dequantized] = ValueInfo("FLOAT", graph.value_info(value).shape)
            floats.append(dequantized)
        result = emit(
            graph, node, "Concat", floats, fresh_value(graph, out), self.name, axis=node.attrs.get("axis", 1)
        )
        graph.values[result] = ValueInfo("FLOAT", graph.value_info(out).shape)
        emit(graph, node, "QuantizeLinear", [result, y_scale, *([y_zero] if y_zero else [])], out, self.name)
        fmt = (graph.value_info(out).dtype or "uint8").lower()
        return self.applied([node], format=fmt, fused=node.op)

    @staticmethod
    def _bias(graph: Graph, node: Node, inputs: list[str], spec: QuantizedOp) -> str:
        """An int32 bias with scale x_scale · w_scale, dequantized (Gemm's C is already float)."""
        bias = inputs[spec.bias]
        if not is_param(graph, bias) or graph.params[bias].dtype != "INT32":
            return bias
        (_, x_scale, _), (_, w_scale, _) = spec.inputs
        if not (is_param(graph, inputs[x_scale]) and is_param(graph, inputs[w_scale])):
            return bias
        shape = graph.params[bias].shape
        step = derive(
            graph,
            bias,
            graph.params[inputs[w_scale]].shape,
            "FLOAT",
            "bias_step",
            (inputs[x_scale], inputs[w_scale]),
            lambda xs, ws: np.asarray(xs).reshape(-1) * ws,
        )
        return derive(
            graph,
            bias,
            shape,
            "FLOAT",
            "dequantize_bias",
            (bias, step),
            lambda b, s: b * s.reshape(-1),
            {"stored_format": "int32", "format": "int8", "scale": graph.params[step], "axis": 0},
        )


def _scale_axis(
    graph: Graph, float_op: str, position: int, attrs: dict, value: str, scale: str
) -> int | None:
    """The axis a per-channel scale runs along, for DequantizeLinear (None: one scale for the tensor).

    QLinearConv's weight has one scale per output channel (axis 0 of (C_out, C_in/g, k...)); QLinearMatMul's
    B one per column (its last axis) and A one per row; QGemm's B one per column of the product, axis 0
    of B when transB, else 1.
    """
    shape = graph.value_info(scale).shape
    if shape is None or int(np.prod(shape, dtype=np.int64)) <= 1:
        return None
    rank = len(graph.value_info(value).shape or ()) or 2
    if float_op == "Conv":
        return 0 if position == 1 else 1
    if float_op == "MatMul":
        return rank - 1 if position == 1 else rank - 2
    if float_op == "Gemm":
        transposed = bool(attrs.get("transB" if position == 1 else "transA", 0))
        return (0 if transposed else 1) if position == 1 else (1 if transposed else 0)
    return None


class DequantizeDynamicIntegerOp(Rewrite):
    """Replaces dynamic quantization (quantize_dynamic) by the float op on the dequantized weight.

    onnxruntime writes ``Mul(Cast(MatMulInteger(q(x), Wq, zp(x), Wzp)), Mul(scale(x), Ws))`` with
    ``q, scale, zp = DynamicQuantizeLinear(x)`` (ConvInteger for convolutions): x quantized at run time,
    W stored as int8 with its scale. That is ``MatMul(x, (Wq − Wzp)·Ws)`` with the activation's rounding,
    so the canonical form is the float op on the dequantized weight, which the weights engine checks to
    within half a quantization step (semantics.DYNAMIC_QUANTIZATION).
    """

    says = (
        "dynamically quantized operators replaced by float ones",
        "weights and activations quantized dynamically",
    )
    name = "dequantize-dynamic"
    ops = ("Mul",)
    kind = PRECISION_CHANGED
    candidate_kind = GRAPH_QUANTIZED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        found = self._pattern(graph, node)
        if found is None:
            return None
        cast, integer, scales, dynamic, weight_scale = found
        x = dynamic.inputs[0]
        stored = graph.params[integer.inputs[1]]
        zero = integer.inputs[3] if len(integer.inputs) > 3 and integer.inputs[3] else ""
        axis = 1 if integer.op == "MatMulInteger" else 0
        sources = tuple(v for v in (stored.name, weight_scale, zero) if v)

        def dequantize(q, scale, zp=None):
            shape = [1] * q.ndim
            if np.asarray(scale).size > 1:
                shape[axis] = -1
            zp = np.zeros_like(scale) if zp is None else zp
            return (q - np.asarray(zp).reshape(shape)) * np.asarray(scale).reshape(shape)

        weight = derive(
            graph,
            stored.name,
            stored.shape,
            "FLOAT",
            "dequantize",
            sources,
            dequantize,
            {
                "stored_format": "int8" if stored.dtype == "INT8" else "uint8",
                "format": "int8",
                "scale": graph.params[weight_scale],
                "axis": axis,
            },
        )
        out = node.outputs[0]
        for gone in (node, cast, integer, scales):
            graph.remove_node(gone)
        float_op = "MatMul" if integer.op == "MatMulInteger" else "Conv"
        attrs = {k: v for k, v in integer.attrs.items()} if float_op == "Conv" else {}
        emit(graph, integer, float_op, [x, weight], out, self.name, **attrs)
        return self.applied([node, cast, integer, scales], format="int8", scheme="dynamic")

    @staticmethod
    def _pattern(graph: Graph, node: Node):
        if len(node.inputs) != 2:
            return None
        for first, second in ((0, 1), (1, 0)):
            cast, scales = graph.producer_of(node.inputs[first]), graph.producer_of(node.inputs[second])
            if cast is None or scales is None or cast.op != "Cast" or scales.op != "Mul":
                continue
            integer = graph.producer_of(cast.inputs[0])
            if (
                integer is None
                or integer.op not in ("MatMulInteger", "ConvInteger")
                or len(integer.inputs) < 3
            ):
                continue
            dynamic = graph.producer_of(integer.inputs[0])
            if (
                dynamic is None
                or dynamic.op != "DynamicQuantizeLinear"
                or not is_param(graph, integer.inputs[1])
            ):
                continue
            if integer.inputs[2] != dynamic.outputs[2]:
                continue
            others = [v for v in scales.inputs if v != dynamic.outputs[1]]
            if len(others) != 1 or not is_param(graph, others[0]):
                continue
            if any(
                len(graph.consumers.get(v, ())) != 1
                for v in (cast.outputs[0], integer.outputs[0], scales.outputs[0])
            ):
                continue
            return cast, integer, scales, dynamic, others[0]
        return None


class DequantizeDynamicLstm(Rewrite):
    """Replaces onnxruntime's DynamicQuantizeLSTM with LSTM on its dequantized, transposed weights.

    quantize_dynamic stores an LSTM's W and R as int8 of shape [directions, input, 4·hidden] (the
    transpose of LSTM's [directions, 4·hidden, input]) with a scale and zero point per direction or per
    gate row, and quantizes the activations at run time: the float LSTM on ``(Wq − zp)·s`` transposed,
    with the activation's rounding, which the weights engine checks to half a quantization step.
    """

    says = ("quantized LSTMs replaced by float ones", "LSTM weights and activations quantized dynamically")
    name = "dequantize-dynamic-lstm"
    ops = ("com.microsoft.DynamicQuantizeLSTM",)
    kind = PRECISION_CHANGED
    candidate_kind = GRAPH_QUANTIZED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        inputs = [*node.inputs, *[""] * 12][:12]
        weights = []
        for value, scale, zero in ((inputs[1], inputs[8], inputs[9]), (inputs[2], inputs[10], inputs[11])):
            if not all(is_param(graph, v) for v in (value, scale, zero)):
                return None
            weights.append(self._dequantized(graph, value, scale, zero))
        if any(w is None for w in weights):
            return None
        graph.remove_node(node)
        lstm_inputs = [inputs[0], weights[0], weights[1], *inputs[3:8]]
        while lstm_inputs and not lstm_inputs[-1]:
            lstm_inputs.pop()
        graph.add_node(  # LSTM has three outputs (Y, Y_h, Y_c): emit() writes one
            Node(
                name=graph.unique_name(f"{node.name}/LSTM"),
                op="LSTM",
                inputs=lstm_inputs,
                outputs=list(node.outputs),
                attrs=dict(node.attrs),
                origin=node.origin,
                rewrite=self.name,
                history=(*node.history, self.name),
            )
        )
        return self.applied([node], format="int8", scheme="dynamic")

    @staticmethod
    def _dequantized(graph: Graph, value: str, scale: str, zero: str) -> str | None:
        stored = graph.params[value]
        if len(stored.shape) != 3:
            return None
        directions, _, rows = stored.shape
        scale_shape = graph.params[scale].shape
        per_row = int(np.prod(scale_shape, dtype=np.int64)) == directions * rows and rows > 1
        if per_row and directions != 1:  # a scale per direction and row: not one axis of the weight
            return None
        flat_scale = scale
        if per_row:
            flat_scale = derive(
                graph, scale, (rows,), "FLOAT", "reshape", (scale,), lambda s: np.asarray(s).reshape(-1)
            )

        def dequantize(q, s, zp):
            q, s, zp = np.asarray(q), np.asarray(s), np.asarray(zp)
            shape = (directions, 1, rows) if per_row else (directions, 1, 1)
            return np.transpose((q - zp.reshape(shape)) * s.reshape(shape), (0, 2, 1))

        return derive(
            graph,
            value,
            (directions, rows, stored.shape[1]),
            "FLOAT",
            "dequantize",
            (value, scale, zero),
            dequantize,
            {
                "stored_format": "int8" if stored.dtype == "INT8" else "uint8",
                "format": "int8",
                "scale": graph.params[flat_scale],
                "axis": 1,
            },
        )


rewrites = RewriteSet([DecomposeQuantizedOp(), DequantizeDynamicIntegerOp(), DequantizeDynamicLstm()])
