"""Constant folding: computations whose inputs are all constants become constants.

This covers shape arithmetic (Shape of a static shape, Gather, Concat, Unsqueeze ...) and operations on
weights (Transpose, Reshape). A dequantized or up-cast weight is a constant too, but it is its own
change (quantization, precision), so those have their own rewrites and run first.
"""

from __future__ import annotations

import numpy as np

from parity.engines.graph.evaluate import MAX_ELEMENTS, can_evaluate, evaluate
from parity.engines.graph.params import constant, derive, is_param, precision_name
from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet
from parity.ir import Graph, Node
from parity.observations.kinds import CONSTANT_FOLDED, GRAPH_QUANTIZED, PRECISION_CHANGED

SMALL = 4096


def _static(shape) -> bool:
    return shape is not None and all(isinstance(d, int) and d >= 0 for d in shape)


def _fold(graph: Graph, node: Node, transform: str, info: dict | None = None) -> str | None:
    """Replace ``node`` (all inputs constant) by a derived parameter; return its name."""
    sources = tuple(value for value in node.inputs if value)
    out = node.outputs[0]
    declared = graph.value_info(out)
    shape = declared.shape
    if not _static(shape):
        if any(int(np.prod(graph.params[s].shape, dtype=np.int64)) > SMALL for s in sources):
            return None
        try:
            shape = evaluate(node.op, node.attrs, [graph.params[s].values() for s in sources]).shape
        except Exception:  # an op onnx's reference cannot compute on these values stays an op
            return None
    if int(np.prod(shape, dtype=np.int64)) > MAX_ELEMENTS:
        return None
    op, attrs = node.op, dict(node.attrs)
    dtype = declared.dtype or (graph.params[sources[0]].dtype if sources else "FLOAT")
    name = derive(
        graph, out, tuple(shape), dtype, transform, sources, lambda *xs: evaluate(op, attrs, list(xs)), info
    )
    graph.remove_node(node)
    graph.replace_uses(out, name)
    return name


class DequantizeWeights(Rewrite):
    """Replaces DequantizeLinear(q, scale, zero_point) of a stored weight with the dequantized weight."""

    says = ("quantized weights replaced by float ones", "weights stored quantized and dequantized")

    name = "dequantize-weights"
    ops = ("DequantizeLinear",)
    kind = PRECISION_CHANGED
    candidate_kind = GRAPH_QUANTIZED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if not node.inputs or not all(is_param(graph, v) for v in node.inputs if v):
            return None
        stored = graph.params[node.inputs[0]]
        axis = node.attrs.get("axis", 1)
        sources = tuple(v for v in node.inputs if v)
        out = node.outputs[0]

        def dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray | None = None) -> np.ndarray:
            shape = [1] * q.ndim
            if scale.ndim == 1 and scale.size > 1:
                shape[axis] = -1
            zero = np.zeros_like(scale) if zero is None else zero
            return (q - zero.reshape(shape)) * scale.reshape(shape)

        fmt = arithmetic_format(stored.dtype, stored.shape)
        info = {
            "stored_format": precision_name(stored.dtype),
            "format": fmt,
            "scale": graph.params[sources[1]],
            "axis": axis,
        }
        name = derive(graph, out, stored.shape, "FLOAT", "dequantize", sources, dequantize, info)
        graph.remove_node(node)
        graph.replace_uses(out, name)
        scheme = (
            "per-channel"
            if int(np.prod(graph.params[sources[1]].shape, dtype=np.int64)) > 1
            else "per-tensor"
        )
        return self.applied([node], format=fmt, scheme=scheme, tensor=stored.name)


def arithmetic_format(dtype: str, shape: tuple[int, ...]) -> str | None:
    """The format a quantized weight computes in: int8 arithmetic keeps its biases as int32.

    Quantizers store a bias in int32 with scale input_scale × weight_scale, so that it adds to the
    int32 accumulator of int8 products; the arithmetic is int8, whatever the bias's storage type.
    """
    stored = precision_name(dtype)
    return "int8" if stored == "int32" and len(shape) <= 1 else stored


class CastWeights(Rewrite):
    """Replaces Cast(w) of a stored weight with the weight in the cast's type."""

    says = ("weight casts removed", "weights stored in another precision and cast")

    name = "cast-weights"
    ops = ("Cast",)
    kind = PRECISION_CHANGED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if not node.inputs or not is_param(graph, node.inputs[0]):
            return None
        stored = graph.params[node.inputs[0]]
        if stored.dtype not in ("FLOAT", "FLOAT16", "BFLOAT16", "DOUBLE"):
            return None
        if _fold(graph, node, "cast", {"stored_format": precision_name(stored.dtype)}) is None:
            return None
        return self.applied([node], format=precision_name(stored.dtype), tensor=stored.name)


class ShapeOfStaticTensor(Rewrite):
    """Replaces Shape(x) by a constant when x has a fully known static shape."""

    says = ("static shape computation folded", "static shape computed at run time")

    name = "fold-static-shape"
    ops = ("Shape",)
    kind = CONSTANT_FOLDED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        shape = graph.value_info(node.inputs[0]).shape
        if not _static(shape) or node.attrs.get("start", 0) != 0 or node.attrs.get("end") is not None:
            return None
        out = node.outputs[0]
        name = constant(graph, out, np.array(shape, dtype=np.int64), "INT64")
        graph.remove_node(node)
        graph.replace_uses(out, name)
        return self.applied([node])


class FoldConstants(Rewrite):
    """Replaces an operation whose inputs are all constants by its (lazily computed) result."""

    says = ("constant computation folded", "constant computation left to run time")

    name = "fold-constants"
    ops = ("*",)
    kind = CONSTANT_FOLDED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        params = graph.params
        if any(value and value not in params for value in node.inputs):
            return None
        sources = [value for value in node.inputs if value]
        if node.op == "Split" and sources and all(is_param(graph, value) for value in sources):
            return self.applied([node]) if _fold_split(graph, node) else None
        if len(node.outputs) != 1 or not can_evaluate(node.op):
            return None
        if node.op != "ConstantOfShape" and not sources:
            return None
        if not all(is_param(graph, value) for value in sources):
            return None
        if _fold(graph, node, node.op.lower()) is None:
            return None
        return self.applied([node])


def _fold_split(graph: Graph, node: Node) -> bool:
    """Split of a constant (a rotary table cut into its sine and cosine halves), one parameter per output.

    A tool that folds the Split stores the halves as constants; folded here too, they pair with them.
    """
    source = graph.params[node.inputs[0]]
    shape = tuple(source.shape)
    if not shape:
        return False
    axis = int(node.attrs.get("axis", 0)) % len(shape)
    sizes = node.attrs.get("split")
    count = len(node.outputs)
    if sizes is None:
        if shape[axis] % count:
            return False
        sizes = [shape[axis] // count] * count
    sizes = [int(size) for size in (sizes if isinstance(sizes, tuple | list) else (sizes,))]
    if len(sizes) != count or sum(sizes) != shape[axis]:
        return False
    bounds = np.cumsum(sizes)[:-1]
    for index, out in enumerate(node.outputs):
        if not out:
            continue
        part = (*shape[:axis], sizes[index], *shape[axis + 1 :])
        name = derive(
            graph,
            out,
            part,
            source.dtype,
            "split",
            (source.name,),
            lambda x, index=index: np.split(x, bounds, axis=axis)[index],
        )
        graph.replace_uses(out, name)
    graph.remove_node(node)
    return True


rewrites = RewriteSet([DequantizeWeights(), CastWeights(), ShapeOfStaticTensor(), FoldConstants()])
