"""Precision and quantization on activations: float-to-float Casts, and QuantizeLinear→DequantizeLinear.

Canonical form computes without them: a Cast between float formats, or a quantize/dequantize round trip,
changes only the precision of a value, which the rulebooks judge as a precision change or quantization.
"""

from __future__ import annotations

from parity.engines.graph.params import FLOAT_TYPES, is_param, precision_name
from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet
from parity.ir import Graph, Node

_ONNX_FLOATS = {1: "FLOAT", 10: "FLOAT16", 16: "BFLOAT16", 11: "DOUBLE"}


class RemoveFloatCast(Rewrite):
    """Replaces Cast(x, to=float format) of a float activation with x."""

    says = ("precision Casts removed", "Casts to another float precision inserted")

    name = "remove-float-cast"
    ops = ("Cast",)
    kind = "graph.precision_changed"

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
    kind = "graph.precision_changed"
    candidate_kind = "graph.quantized"

    def apply(self, graph: Graph, node: Node) -> Application | None:
        quantize = graph.producer_of(node.inputs[0])
        if quantize is None or quantize.op != "QuantizeLinear" or is_param(graph, quantize.inputs[0]):
            return None
        readers = graph.consumers.get(quantize.outputs[0], [])
        zero_point = quantize.inputs[2] if len(quantize.inputs) > 2 else ""
        fmt = precision_name(graph.value_info(zero_point).dtype) if zero_point else "uint8"
        graph.bypass(node, quantize.inputs[0])
        if len(readers) == 1 and not graph.is_output(quantize.outputs[0]):
            graph.remove_node(quantize)
        return self.applied([quantize, node], format=fmt)


rewrites = RewriteSet([RemoveFloatCast(), RemoveQuantizeDequantize()])
