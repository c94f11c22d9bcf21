"""Shape-only operations: Flatten, Squeeze and Unsqueeze are a Reshape to a static shape; Sum of two is Add.

Canonical form is Reshape with the static output shape as its attribute, so Reshape(x, [0, -1]),
Reshape(x, [1, 512]) and Flatten(x) compare equal when they produce the same shape.
"""

from __future__ import annotations

import numpy as np

from parity.engines.graph.params import derive, is_param
from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet, emit, fresh_value
from parity.ir import Graph, Node, ValueInfo
from parity.ir.attributes import LIFTED_INPUTS, python_value
from parity.observations.kinds import CONSTANT_FOLDED, EQUIVALENT_OP_SUBSTITUTED


def _static(shape) -> bool:
    return shape is not None and all(isinstance(d, int) and d >= 0 for d in shape)


class ShapeOpToReshape(Rewrite):
    """Replaces Flatten, Squeeze and Unsqueeze with a Reshape to their static output shape."""

    says = ("Flatten/Squeeze/Unsqueeze written as Reshape", "Reshape written as Flatten/Squeeze/Unsqueeze")

    name = "shape-op-to-reshape"
    ops = ("Flatten", "Squeeze", "Unsqueeze")
    kind = EQUIVALENT_OP_SUBSTITUTED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        shape = graph.value_info(node.outputs[0]).shape
        if not _static(shape) or not node.inputs or not node.inputs[0]:
            return None
        graph.remove_node(node)
        emit(graph, node, "Reshape", [node.inputs[0]], node.outputs[0], self.name, shape=tuple(shape))
        return self.applied([node], was=node.op)


class LiftConstantInputs(Rewrite):
    """Moves a constant input (Reshape's shape, Squeeze's axes, ...) into the node's attributes.

    Loading does this for constants in the file; constant folding can create such inputs afterwards.
    """

    says = ("", "")
    name = "lift-constant-inputs"
    ops = tuple(LIFTED_INPUTS)
    kind = CONSTANT_FOLDED
    silent = True

    def apply(self, graph: Graph, node: Node) -> Application | None:
        lifted = LIFTED_INPUTS[node.op]
        movable = [
            i
            for i in lifted
            if i < len(node.inputs)
            and node.inputs[i]
            and is_param(graph, node.inputs[i])
            and int(np.prod(graph.params[node.inputs[i]].shape, dtype=np.int64)) <= 4096
        ]
        if not movable:
            return None
        inputs = list(node.inputs)
        for index in movable:
            node.attrs[lifted[index]] = python_value(graph.params[inputs[index]].values())
            readers = graph.consumers.get(inputs[index], [])
            if node.name in readers:
                readers.remove(node.name)
            inputs[index] = ""
        while inputs and inputs[-1] == "":
            inputs.pop()
        node.inputs = inputs
        return self.applied([node])


class StaticReshapeTarget(Rewrite):
    """Writes a Reshape's target as its static output shape (no 0 or -1 placeholders); not a change."""

    says = ("Reshape target written statically", "Reshape target written statically")

    name = "static-reshape-target"
    ops = ("Reshape",)
    kind = EQUIVALENT_OP_SUBSTITUTED
    silent = True

    def apply(self, graph: Graph, node: Node) -> Application | None:
        shape = graph.value_info(node.outputs[0]).shape
        if not _static(shape) or node.attrs.get("shape") == tuple(shape) or len(node.inputs) != 1:
            return None
        node.attrs = {"allowzero": int(0 in shape), "shape": tuple(shape)}  # as Reshape-14 and later write it
        return self.applied([node])


class SpatialReduceAsGlobalPool(Rewrite):
    """Replaces ReduceMean/ReduceMax over every spatial axis (keepdims) by GlobalAveragePool/GlobalMaxPool.

    The dynamo exporter writes adaptive pooling to 1x1 as ReduceMean over axes 2..; the TorchScript
    exporter as GlobalAveragePool. They are the same operation on a tensor of rank 3 or more.
    """

    says = ("global pooling written as a reduction", "global pooling written as a reduction")
    name = "spatial-reduce-as-global-pool"
    ops = ("ReduceMean", "ReduceMax")
    kind = EQUIVALENT_OP_SUBSTITUTED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        shape = graph.value_info(node.inputs[0]).shape
        if shape is None or len(shape) < 3 or not int(node.attrs.get("keepdims", 1)):
            return None
        axes = node.attrs.get("axes")
        if axes is None:
            return None
        rank = len(shape)
        if sorted(int(a) % rank for a in (axes if isinstance(axes, tuple) else (axes,))) != list(
            range(2, rank)
        ):
            return None
        graph.remove_node(node)
        pool = "GlobalAveragePool" if node.op == "ReduceMean" else "GlobalMaxPool"
        emit(graph, node, pool, [node.inputs[0]], node.outputs[0], self.name)
        return self.applied([node])


class HardSwishAsProduct(Rewrite):
    """Replaces HardSwish(x) with x · HardSigmoid(x; 1/6, 1/2), as optimisers sometimes write it."""

    says = ("HardSwish written as x · HardSigmoid(x)", "HardSwish written as x · HardSigmoid(x)")
    name = "hardswish-as-product"
    ops = ("HardSwish",)
    kind = EQUIVALENT_OP_SUBSTITUTED
    silent = True  # a normalisation: both spellings are the same op

    def apply(self, graph: Graph, node: Node) -> Application | None:
        x, out = node.inputs[0], node.outputs[0]
        graph.remove_node(node)
        gate = emit(
            graph,
            node,
            "HardSigmoid",
            [x],
            fresh_value(graph, out),
            self.name,
            alpha=float(np.float32(1 / 6)),
            beta=0.5,
        )
        emit(graph, node, "Mul", [x, gate], out, self.name)
        return self.applied([node])


class SumOfTwoToAdd(Rewrite):
    """Replaces Sum(a, b) with Add(a, b)."""

    says = ("Sum written as Add", "Add written as Sum")

    name = "sum-to-add"
    ops = ("Sum",)
    kind = EQUIVALENT_OP_SUBSTITUTED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if len(node.inputs) == 1:
            graph.bypass(node, node.inputs[0])
            return self.applied([node])
        if len(node.inputs) != 2:
            return None
        node.op = "Add"
        node.rewrite = self.name
        return self.applied([node])


UNARY_ELEMENTWISE = frozenset(
    {
        "Relu",
        "Sigmoid",
        "Tanh",
        "Erf",
        "Exp",
        "Log",
        "Neg",
        "Abs",
        "Sqrt",
        "Reciprocal",
        "LeakyRelu",
        "Elu",
        "Selu",
        "Softplus",
        "HardSigmoid",
        "HardSwish",
        "Clip",
        "Gelu",
    }
)
BINARY_ELEMENTWISE = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"})


class SinkReshape(Rewrite):
    """Replaces f(Reshape(x, S)) with Reshape(f(x), S) for elementwise f (a normalisation).

    Valid for unary elementwise ops, for binary ones whose other operand is a constant that broadcasts
    the same way before and after the Reshape (a scalar, or a vector over a last dimension the Reshape
    keeps), and for binary ones whose operands are both Reshapes of same-shaped values to the same S.
    """

    says = ("Reshape moved", "Reshape moved")

    name = "sink-reshape"
    ops = tuple(UNARY_ELEMENTWISE | BINARY_ELEMENTWISE)
    kind = EQUIVALENT_OP_SUBSTITUTED
    silent = True

    def apply(self, graph: Graph, node: Node) -> Application | None:
        producers = graph.producer
        nodes = graph.nodes
        if not any(v in producers and nodes[producers[v]].op == "Reshape" for v in node.inputs):
            return None
        if node.op in UNARY_ELEMENTWISE:
            data = [i for i, v in enumerate(node.inputs) if v and not is_param(graph, v)]
        else:
            data = [i for i, v in enumerate(node.inputs[:2]) if not is_param(graph, v)]
        reshapes = [self._reshape(graph, node.inputs[i]) for i in data]
        if not data or any(r is None for r in reshapes):
            return None
        source_shape = graph.value_info(reshapes[0].inputs[0]).shape
        target = reshapes[0].attrs.get("shape")
        if any(
            graph.value_info(r.inputs[0]).shape != source_shape or r.attrs.get("shape") != target
            for r in reshapes
        ):
            return None
        for i, value in enumerate(node.inputs):
            if value and i not in data and not self._broadcast_safe(graph, value, source_shape, target):
                return None
        out = node.outputs[0]
        dtype = graph.value_info(out).dtype
        graph.remove_node(node)
        inputs = list(node.inputs)
        for i, reshape in zip(data, reshapes, strict=True):
            inputs[i] = reshape.inputs[0]
        moved = emit(graph, node, node.op, inputs, fresh_value(graph, out), self.name, **node.attrs)
        graph.values[moved] = ValueInfo(dtype, tuple(source_shape))
        emit(graph, reshapes[0], "Reshape", [moved], out, self.name, shape=target)
        for reshape in reshapes:
            if reshape.name in graph.nodes and not graph.consumers.get(reshape.outputs[0]):
                graph.remove_node(reshape)
        return self.applied([node])

    @staticmethod
    def _reshape(graph: Graph, value: str) -> Node | None:
        producer = graph.producer_of(value)
        if (
            producer is None
            or producer.op != "Reshape"
            or len(producer.inputs) != 1
            or graph.is_output(value)
        ):
            return None
        if not _static(graph.value_info(producer.inputs[0]).shape):
            return None
        return producer if producer.attrs.get("shape") is not None else None

    @staticmethod
    def _broadcast_safe(graph: Graph, value: str, source: tuple, target: tuple) -> bool:
        if not is_param(graph, value):
            return False
        shape = [d for d in graph.params[value].shape]
        while shape and shape[0] == 1:
            shape.pop(0)
        if not shape:
            return True
        return len(shape) == 1 and source[-1] == target[-1] == shape[0]


class DivideByConstantAsMultiply(Rewrite):
    """Replaces Div(x, c) by a float constant with Mul(x, 1/c)."""

    says = (
        "division by a constant written as multiplication",
        "multiplication by a constant written as division",
    )

    name = "div-by-constant-to-mul"
    ops = ("Div",)
    kind = EQUIVALENT_OP_SUBSTITUTED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        divisor = node.inputs[1]
        if not is_param(graph, divisor) or is_param(graph, node.inputs[0]):
            return None
        param = graph.params[divisor]
        if param.dtype not in ("FLOAT", "FLOAT16", "BFLOAT16", "DOUBLE"):
            return None
        inverse = derive(
            graph, divisor, param.shape, param.dtype, "reciprocal", (divisor,), lambda c: 1.0 / c
        )
        graph.remove_node(node)
        emit(graph, node, "Mul", [node.inputs[0], inverse], node.outputs[0], self.name)
        return self.applied([node])


rewrites = RewriteSet(
    [
        LiftConstantInputs(),
        ShapeOpToReshape(),
        StaticReshapeTarget(),
        SumOfTwoToAdd(),
        SinkReshape(),
        DivideByConstantAsMultiply(),
        SpatialReduceAsGlobalPool(),
        HardSwishAsProduct(),
    ]
)
