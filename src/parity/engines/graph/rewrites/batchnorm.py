"""Batch-norm folding: BatchNormalization(Conv(x, W, b)) → Conv(x, W', b').

With s = scale / sqrt(var + eps): W' = W · s (per output channel) and b' = (b − mean) · s + bias. The
folded weights are derived parameters computed in float64 from the reference's, which is what lets the
weights engine check a candidate's folded tensors.
"""

from __future__ import annotations

import numpy as np

from parity.engines.graph.params import derive, is_param
from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet, emit, fresh_value
from parity.ir import Graph, Node


class FoldBatchNormIntoConv(Rewrite):
    """Replaces Conv followed by BatchNormalization with one Conv carrying folded weights and bias."""

    says = ("batch norm folded into the preceding Conv", "batch norm kept where the reference folded it")

    name = "fold-batchnorm"
    ops = ("BatchNormalization",)
    kind = "graph.batchnorm_folded"
    candidate_kind = "graph.ops_unfused"

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if len(node.outputs) > 1 and any(graph.consumers.get(v) for v in node.outputs[1:] if v):
            return None
        conv = graph.producer_of(node.inputs[0])
        if conv is None or conv.op != "Conv" or len(graph.consumers.get(conv.outputs[0], ())) != 1:
            return None
        if graph.is_output(conv.outputs[0]) or not all(is_param(graph, v) for v in node.inputs[1:5]):
            return None
        if len(conv.inputs) < 2 or not is_param(graph, conv.inputs[1]):
            return None
        bias = conv.inputs[2] if len(conv.inputs) > 2 and conv.inputs[2] else None
        if bias is not None and not is_param(graph, bias):
            return None
        scale, offset, mean, var = node.inputs[1:5]
        eps = float(node.attrs.get("epsilon", 1e-5))
        weight = graph.params[conv.inputs[1]]

        def fold_weight(w, s, _b, _m, v):
            factor = s / np.sqrt(v + eps)
            return w * factor.reshape((-1,) + (1,) * (w.ndim - 1))

        def fold_bias(s, b, m, v, *conv_bias):
            base = conv_bias[0] if conv_bias else np.zeros_like(m)
            return (base - m) * (s / np.sqrt(v + eps)) + b

        new_w = derive(
            graph,
            weight.name,
            weight.shape,
            weight.dtype,
            "fold_bn",
            (weight.name, scale, offset, mean, var),
            fold_weight,
        )
        bias_sources = (scale, offset, mean, var) + ((bias,) if bias else ())
        new_b = derive(
            graph,
            bias or f"{conv.name}.bias",
            (weight.shape[0],),
            weight.dtype,
            "fold_bn",
            bias_sources,
            fold_bias,
        )
        out = node.outputs[0]
        graph.remove_node(node)
        graph.remove_node(conv)
        folded = type(conv)(
            name=graph.unique_name(conv.name),
            op="Conv",
            inputs=[conv.inputs[0], new_w, new_b],
            outputs=[out],
            attrs=dict(conv.attrs),
            origin=conv.origin + node.origin,
            rewrite=self.name,
            history=(*conv.history, *node.history, self.name),
        )
        graph.add_node(folded)
        return self.applied([conv, node], epsilon=eps)


class FuseConvBiasAdd(Rewrite):
    """Replaces Add(Conv(x, W), b) with Conv(x, W, b') when b is a per-channel constant."""

    says = ("bias Add fused into the Conv", "Conv bias split into a separate Add")

    name = "fuse-conv-bias"
    ops = ("Add",)
    kind = "graph.ops_fused"
    candidate_kind = "graph.ops_unfused"

    def apply(self, graph: Graph, node: Node) -> Application | None:
        for conv_side, const_side in ((0, 1), (1, 0)):
            conv = graph.producer_of(node.inputs[conv_side])
            bias = node.inputs[const_side]
            if conv is None or conv.op != "Conv" or not is_param(graph, bias):
                continue
            if len(graph.consumers.get(conv.outputs[0], ())) != 1 or graph.is_output(conv.outputs[0]):
                continue
            if len(conv.inputs) < 2 or not is_param(graph, conv.inputs[1]):
                continue
            channels = graph.params[conv.inputs[1]].shape[0]
            spatial = (1,) * len(conv.attrs.get("kernel_shape", ()))
            if graph.params[bias].shape not in ((channels, *spatial), (1, channels, *spatial)):
                continue
            sources = (bias,) + ((conv.inputs[2],) if len(conv.inputs) > 2 and conv.inputs[2] else ())
            if not all(is_param(graph, s) for s in sources):
                continue
            new_b = derive(
                graph,
                bias,
                (channels,),
                graph.params[bias].dtype,
                "fuse_bias",
                sources,
                lambda b, *old: b.reshape(-1) + (old[0] if old else 0.0),
            )
            out = node.outputs[0]
            graph.remove_node(node)
            graph.remove_node(conv)
            graph.add_node(
                type(conv)(
                    name=graph.unique_name(conv.name),
                    op="Conv",
                    inputs=[conv.inputs[0], conv.inputs[1], new_b],
                    outputs=[out],
                    attrs=dict(conv.attrs),
                    origin=conv.origin + node.origin,
                    rewrite=self.name,
                    history=(*conv.history, self.name),
                )
            )
            return self.applied([conv, node])
        return None


class FuseConvScaleMul(Rewrite):
    """Replaces Mul(Conv(x, W, b), s) with Conv(x, W·s, b·s) when s is a per-channel or scalar constant."""

    says = ("scale Mul fused into the Conv", "Conv scale split into a separate Mul")
    name = "fuse-conv-scale"
    ops = ("Mul",)
    kind = "graph.ops_fused"
    candidate_kind = "graph.ops_unfused"

    def apply(self, graph: Graph, node: Node) -> Application | None:
        for conv_side, const_side in ((0, 1), (1, 0)):
            conv = graph.producer_of(node.inputs[conv_side])
            scale = node.inputs[const_side]
            if conv is None or conv.op != "Conv" or not is_param(graph, scale) or len(conv.inputs) < 2:
                continue
            if len(graph.consumers.get(conv.outputs[0], ())) != 1 or graph.is_output(conv.outputs[0]):
                continue
            if not is_param(graph, conv.inputs[1]):
                continue
            weight = graph.params[conv.inputs[1]]
            channels = weight.shape[0]
            spatial = (1,) * len(conv.attrs.get("kernel_shape", ()))
            shape = graph.params[scale].shape
            if shape not in ((), (1,), (channels, *spatial), (1, channels, *spatial)):
                continue
            bias = conv.inputs[2] if len(conv.inputs) > 2 and conv.inputs[2] else None
            if bias is not None and not is_param(graph, bias):
                continue
            new_w = derive(
                graph,
                weight.name,
                weight.shape,
                weight.dtype,
                "fuse_scale",
                (weight.name, scale),
                lambda w, s: w * np.asarray(s).reshape((-1,) + (1,) * (w.ndim - 1)),
            )
            inputs = [conv.inputs[0], new_w]
            if bias is not None:
                inputs.append(
                    derive(
                        graph,
                        bias,
                        (channels,),
                        weight.dtype,
                        "fuse_scale",
                        (bias, scale),
                        lambda b, s: b * np.asarray(s).reshape(-1),
                    )
                )
            out = node.outputs[0]
            graph.remove_node(node)
            graph.remove_node(conv)
            graph.add_node(
                Node(
                    name=graph.unique_name(conv.name),
                    op="Conv",
                    inputs=inputs,
                    outputs=[out],
                    attrs=dict(conv.attrs),
                    origin=conv.origin + node.origin,
                    rewrite=self.name,
                    history=(*conv.history, self.name),
                )
            )
            return self.applied([conv, node])
        return None


class FoldBatchNormIntoMatMul(Rewrite):
    """Replaces BatchNormalization over the features of MatMul(x, W) [+ b] with folded W' [and b']."""

    says = (
        "batch norm folded into the preceding MatMul/Gemm",
        "batch norm kept where the reference folded it",
    )
    name = "fold-batchnorm-matmul"
    ops = ("BatchNormalization",)
    kind = "graph.batchnorm_folded"
    candidate_kind = "graph.ops_unfused"

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if len(node.outputs) > 1 and any(graph.consumers.get(v) for v in node.outputs[1:] if v):
            return None
        if not all(is_param(graph, v) for v in node.inputs[1:5]):
            return None
        shape = graph.value_info(node.inputs[0]).shape
        if shape is None or len(shape) != 2:
            return None
        add = graph.producer_of(node.inputs[0])
        matmul, bias = add, None
        if add is not None and add.op == "Add":
            matmul = next(
                (
                    graph.producer_of(v)
                    for v in add.inputs
                    if graph.producer_of(v) is not None and graph.producer_of(v).op == "MatMul"
                ),
                None,
            )
            bias = next((v for v in add.inputs if is_param(graph, v)), None)
            if matmul is None or bias is None:
                return None
        else:
            add = None
        if matmul is None or matmul.op != "MatMul" or not is_param(graph, matmul.inputs[1]):
            return None
        chain = [matmul.outputs[0], *((add.outputs[0],) if add else ())]
        if any(len(graph.consumers.get(v, ())) != 1 or graph.is_output(v) for v in chain):
            return None
        weight = graph.params[matmul.inputs[1]]
        scale, offset, mean, var = node.inputs[1:5]
        eps = float(node.attrs.get("epsilon", 1e-5))
        new_w = derive(
            graph,
            weight.name,
            weight.shape,
            weight.dtype,
            "fold_bn",
            (weight.name, scale, var),
            lambda w, s, v: w * (s / np.sqrt(v + eps)).reshape(1, -1),
        )
        sources = (scale, offset, mean, var) + ((bias,) if bias else ())
        new_b = derive(
            graph,
            bias or f"{matmul.name}.bias",
            (weight.shape[1],),
            weight.dtype,
            "fold_bn",
            sources,
            lambda s, b, m, v, *old: ((old[0].reshape(-1) if old else 0.0) - m) * (s / np.sqrt(v + eps)) + b,
        )
        out = node.outputs[0]
        for old in (node, add, matmul):
            if old is not None:
                graph.remove_node(old)
        product = fresh_value(graph, matmul.outputs[0])
        emit(graph, matmul, "MatMul", [matmul.inputs[0], new_w], product, self.name)
        emit(graph, node, "Add", [product, new_b], out, self.name)
        return self.applied([matmul, *([add] if add else []), node], epsilon=eps)


rewrites = RewriteSet(
    [FoldBatchNormIntoConv(), FoldBatchNormIntoMatMul(), FuseConvBiasAdd(), FuseConvScaleMul()]
)
