"""Linear layers: Gemm ↔ MatMul + Add, and where the Reshapes around a MatMul go.

Canonical form is MatMul(x, W) followed by Add(·, b): Gemm(A, B, C, alpha, beta, transA, transB) equals
MatMul(A', B') · alpha + C · beta, where a transposed or scaled constant B becomes a derived parameter.
"""

from __future__ import annotations

from parity.engines.graph.params import derive, is_param
from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet, emit, fresh_value
from parity.ir import Graph, Node, ValueInfo
from parity.observations.kinds import EQUIVALENT_OP_SUBSTITUTED, OPS_FUSED, OPS_UNFUSED


class DecomposeGemm(Rewrite):
    """Replaces Gemm with MatMul (+ Add), folding transB and alpha/beta into constant operands."""

    says = ("Gemm written as MatMul + Add", "MatMul + Add written as Gemm")

    name = "gemm-to-matmul-add"
    ops = ("Gemm",)
    kind = EQUIVALENT_OP_SUBSTITUTED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        a, b = node.inputs[0], node.inputs[1]
        c = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
        alpha, beta = float(node.attrs.get("alpha", 1.0)), float(node.attrs.get("beta", 1.0))
        trans_a, trans_b = int(node.attrs.get("transA", 0)), int(node.attrs.get("transB", 0))
        if (trans_b or alpha != 1.0) and not is_param(graph, b):
            return None
        if c is not None and beta != 1.0 and not is_param(graph, c):
            return None
        graph.remove_node(node)
        if trans_a:
            transposed = fresh_value(graph, a)
            emit(graph, node, "Transpose", [a], transposed, self.name, perm=(1, 0))
            a = transposed
        if trans_b or alpha != 1.0:
            shape = graph.params[b].shape[::-1] if trans_b else graph.params[b].shape
            b = derive(
                graph,
                b,
                shape,
                graph.params[b].dtype,
                "gemm_b",
                (b,),
                lambda w: (w.T if trans_b else w) * alpha,
            )
        if c is not None and beta != 1.0:
            c = derive(
                graph, c, graph.params[c].shape, graph.params[c].dtype, "gemm_c", (c,), lambda v: v * beta
            )
        out = node.outputs[0]
        if c is None:
            emit(graph, node, "MatMul", [a, b], out, self.name)
        else:
            product = fresh_value(graph, out)
            emit(graph, node, "MatMul", [a, b], product, self.name)
            emit(graph, node, "Add", [product, c], out, self.name)
        return self.applied([node])


def _product(dims) -> int | None:
    total = 1
    for dim in dims:
        if not isinstance(dim, int) or dim < 0:
            return None
        total *= dim
    return total


class LowerMatMulRank(Rewrite):
    """Replaces MatMul(x, W) with x of rank > 2 and a 2-D constant W by Reshape(MatMul(Reshape(x, 2-D), W)).

    Optimisers move linear layers between 3-D and 2-D (to use Gemm); computing every such MatMul on 2-D
    and letting the Reshapes sink and merge makes both placements canonical. A normalisation, not a
    difference.
    """

    says = ("MatMul rank changed", "MatMul rank changed")

    name = "lower-matmul-rank"
    ops = ("MatMul",)
    kind = EQUIVALENT_OP_SUBSTITUTED
    silent = True

    def apply(self, graph: Graph, node: Node) -> Application | None:
        x, w = node.inputs[0], node.inputs[1]
        shape = graph.value_info(x).shape
        if not is_param(graph, w) or len(graph.params[w].shape) != 2 or shape is None or len(shape) < 3:
            return None
        rows = _product(shape[:-1])
        if rows is None or not isinstance(shape[-1], int):
            return None
        n = graph.params[w].shape[1]
        dtype = graph.value_info(node.outputs[0]).dtype
        graph.remove_node(node)
        flat = emit(graph, node, "Reshape", [x], fresh_value(graph, x), self.name, shape=(rows, shape[-1]))
        graph.values[flat] = ValueInfo(dtype, (rows, shape[-1]))
        product = emit(graph, node, "MatMul", [flat, w], fresh_value(graph, node.outputs[0]), self.name)
        graph.values[product] = ValueInfo(dtype, (rows, n))
        emit(graph, node, "Reshape", [product], node.outputs[0], self.name, shape=(*shape[:-1], n))
        graph.values[node.outputs[0]] = ValueInfo(dtype, (*shape[:-1], n))
        return self.applied([node])


class MergeConsecutiveReshapes(Rewrite):
    """Replaces Reshape(Reshape(x, A), B) with Reshape(x, B) when the inner one has no other reader."""

    says = ("consecutive Reshapes merged", "Reshape split in two")

    name = "merge-consecutive-reshapes"
    ops = ("Reshape",)
    kind = OPS_FUSED
    silent = True

    def apply(self, graph: Graph, node: Node) -> Application | None:
        inner = graph.producer_of(node.inputs[0])
        if inner is None or inner.op != "Reshape" or len(node.inputs) != 1 or len(inner.inputs) != 1:
            return None
        if len(graph.consumers.get(inner.outputs[0], ())) != 1 or graph.is_output(inner.outputs[0]):
            return None
        graph.remove_node(inner)
        graph.consumers.get(inner.outputs[0], []).clear()
        node.inputs = [inner.inputs[0]]
        graph.consumers.setdefault(inner.inputs[0], []).append(node.name)
        node.origin = inner.origin + node.origin
        return self.applied([inner, node])


class SplitFusedProjection(Rewrite):
    """Replaces Split(MatMul(x, [W1 W2 ...]) [+ [b1 b2 ...]], last axis) with one MatMul (+ Add) per part.

    A fused QKV projection computes the three projections with one concatenated weight; split back into
    per-part constants (derived slices), it is the reference's three linear layers.
    """

    says = (
        "fused projection split into separate ones",
        "separate projections fused into one MatMul and a Split",
    )
    name = "split-fused-projection"
    ops = ("Split",)
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        source = graph.producer_of(node.inputs[0])
        add, matmul = (
            (source, graph.producer_of(source.inputs[0]))
            if source is not None and source.op == "Add"
            else (None, source)
        )
        if matmul is None or matmul.op != "MatMul" or not is_param(graph, matmul.inputs[1]):
            return None
        weight = graph.params[matmul.inputs[1]]
        bias = add.inputs[1] if add is not None else None
        if len(weight.shape) != 2 or (
            add is not None
            and (
                add.inputs[0] != matmul.outputs[0]
                or not is_param(graph, bias)
                or graph.params[bias].shape != (weight.shape[1],)
            )
        ):
            return None
        rank = len(graph.value_info(node.inputs[0]).shape or ())
        if node.attrs.get("axis", 0) not in (-1, rank - 1) or rank == 0:
            return None
        sizes = node.attrs.get("split") or (weight.shape[1] // len(node.outputs),) * len(node.outputs)
        if sum(sizes) != weight.shape[1] or len(sizes) != len(node.outputs):
            return None
        for value in (matmul.outputs[0], *((add.outputs[0],) if add else ())):
            if len(graph.consumers.get(value, ())) != 1 or graph.is_output(value):
                return None
        for old in (node, add, matmul):
            if old is not None:
                graph.remove_node(old)
        start = 0
        for size, out in zip(sizes, node.outputs, strict=True):
            lo, hi = start, start + size
            start = hi
            part = derive(
                graph,
                weight.name,
                (weight.shape[0], size),
                weight.dtype,
                "slice",
                (weight.name,),
                lambda w, lo=lo, hi=hi: w[:, lo:hi],
            )
            if add is None:
                emit(graph, matmul, "MatMul", [matmul.inputs[0], part], out, self.name)
                continue
            part_bias = derive(
                graph,
                bias,
                (size,),
                graph.params[bias].dtype,
                "slice",
                (bias,),
                lambda b, lo=lo, hi=hi: b[lo:hi],
            )
            product = emit(
                graph, matmul, "MatMul", [matmul.inputs[0], part], fresh_value(graph, out), self.name
            )
            emit(graph, add, "Add", [product, part_bias], out, self.name)
        return self.applied([matmul, *([add] if add else []), node], parts=len(sizes))


rewrites = RewriteSet(
    [DecomposeGemm(), SplitFusedProjection(), LowerMatMulRank(), MergeConsecutiveReshapes()]
)
