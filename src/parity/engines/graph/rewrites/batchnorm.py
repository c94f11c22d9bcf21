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
from parity.observations.kinds import BATCHNORM_FOLDED, OPS_FUSED, OPS_UNFUSED


def _statistics_read(graph: Graph, node: Node) -> bool:
    """Whether anything reads a BatchNormalization's running statistics (training mode): no folding then."""
    return len(node.outputs) > 1 and any(graph.consumers.get(v) for v in node.outputs[1:] if v)


class FoldBatchNormIntoConv(Rewrite):
    """Replaces Conv followed by BatchNormalization with one Conv carrying folded weights and bias."""

    says = ("batch norm folded into the preceding Conv", "batch norm kept where the reference folded it")

    name = "fold-batchnorm"
    ops = ("BatchNormalization",)
    kind = BATCHNORM_FOLDED
    candidate_kind = OPS_UNFUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if _statistics_read(graph, node):
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
        replace_conv(graph, conv, node, [conv.inputs[0], new_w, new_b], self.name)
        return self.applied([conv, node], epsilon=eps)


def replace_conv(graph: Graph, conv: Node, absorbed: Node, inputs: list[str], rewrite: str) -> None:
    """Put a Conv reading ``inputs`` where ``conv`` and the node it absorbs were."""
    out = absorbed.outputs[0]
    graph.remove_node(absorbed)
    graph.remove_node(conv)
    graph.add_node(
        Node(
            name=graph.unique_name(conv.name),
            op="Conv",
            inputs=inputs,
            outputs=[out],
            attrs=dict(conv.attrs),
            origin=conv.origin + absorbed.origin,
            rewrite=rewrite,
            history=(*conv.history, *absorbed.history, rewrite),
        )
    )


class _FuseConstantIntoConv(Rewrite):
    """Shared matching for op(Conv(x, W[, b]), c) with a per-channel (or, if allowed, scalar) constant c."""

    ops: tuple[str, ...]
    kind = OPS_FUSED
    candidate_kind = OPS_UNFUSED
    scalar_ok = False

    def apply(self, graph: Graph, node: Node) -> Application | None:
        for conv_side, const_side in ((0, 1), (1, 0)):
            conv = graph.producer_of(node.inputs[conv_side])
            constant = node.inputs[const_side]
            if conv is None or conv.op != "Conv" or not is_param(graph, constant) or len(conv.inputs) < 2:
                continue
            if len(graph.consumers.get(conv.outputs[0], ())) != 1 or graph.is_output(conv.outputs[0]):
                continue
            bias = conv.inputs[2] if len(conv.inputs) > 2 and conv.inputs[2] else None
            if not is_param(graph, conv.inputs[1]) or (bias is not None and not is_param(graph, bias)):
                continue
            channels = graph.params[conv.inputs[1]].shape[0]
            spatial = (1,) * len(conv.attrs.get("kernel_shape", ()))
            allowed = {(channels, *spatial), (1, channels, *spatial)} | (
                {(), (1,)} if self.scalar_ok else set()
            )
            if graph.params[constant].shape not in allowed:
                continue
            folded = self.folded(graph, conv.inputs[1], bias, constant, channels)
            replace_conv(graph, conv, node, [conv.inputs[0], *folded], self.name)
            return self.applied([conv, node])
        return None

    def folded(self, graph: Graph, weight: str, bias: str | None, constant: str, channels: int) -> list[str]:
        """The new Conv's weight and bias (derived parameters)."""
        raise NotImplementedError


class FuseConvBiasAdd(_FuseConstantIntoConv):
    """Replaces Add(Conv(x, W), b) with Conv(x, W, b') when b is a per-channel constant."""

    says = ("bias Add fused into the Conv", "Conv bias split into a separate Add")
    name = "fuse-conv-bias"
    ops = ("Add",)

    def folded(self, graph: Graph, weight: str, bias: str | None, constant: str, channels: int) -> list[str]:
        sources = (constant, *((bias,) if bias else ()))
        new_b = derive(
            graph,
            constant,
            (channels,),
            graph.params[constant].dtype,
            "fuse_bias",
            sources,
            lambda b, *old: b.reshape(-1) + (old[0] if old else 0.0),
        )
        return [weight, new_b]


class FuseConvScaleMul(_FuseConstantIntoConv):
    """Replaces Mul(Conv(x, W, b), s) with Conv(x, W·s, b·s) when s is a per-channel or scalar constant."""

    says = ("scale Mul fused into the Conv", "Conv scale split into a separate Mul")
    name = "fuse-conv-scale"
    ops = ("Mul",)
    scalar_ok = True

    def folded(self, graph: Graph, weight: str, bias: str | None, constant: str, channels: int) -> list[str]:
        param = graph.params[weight]
        new_w = derive(
            graph,
            weight,
            param.shape,
            param.dtype,
            "fuse_scale",
            (weight, constant),
            lambda w, s: w * np.asarray(s).reshape((-1,) + (1,) * (w.ndim - 1)),
        )
        if bias is None:
            return [new_w]
        new_b = derive(
            graph,
            bias,
            (channels,),
            param.dtype,
            "fuse_scale",
            (bias, constant),
            lambda b, s: b * np.asarray(s).reshape(-1),
        )
        return [new_w, new_b]


class FoldBatchNormIntoMatMul(Rewrite):
    """Replaces BatchNormalization over the features of MatMul(x, W) [+ b] with folded W' [and b']."""

    says = (
        "batch norm folded into the preceding MatMul/Gemm",
        "batch norm kept where the reference folded it",
    )
    name = "fold-batchnorm-matmul"
    ops = ("BatchNormalization",)
    kind = BATCHNORM_FOLDED
    candidate_kind = OPS_UNFUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if _statistics_read(graph, node):
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


class FoldScaleIntoMatMul(Rewrite):
    """Replaces Mul(MatMul(x, W) [+ b], s) with MatMul(x, W·s) [+ b·s] for a scalar or per-column s.

    Attention's query scaling (q = (x·W + b) · d^-1/2) is what optimisers fold this way (onnxslim writes
    the scaled q-projection as one Gemm): the same arithmetic as a batch norm folded into a MatMul, the
    folded weights derived in float64 from the reference's so the weights engine checks them within the
    precision's tolerance. Reshapes that keep the last (column) axis may sit between the MatMul, its bias
    Add and the Mul (a MatMul computed on 2-D with its rank restored).
    """

    says = ("scale Mul folded into the MatMul's weights", "MatMul scale split into a separate Mul")
    name = "fold-scale-matmul"
    ops = ("Mul",)
    kind = OPS_FUSED
    candidate_kind = OPS_UNFUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        for side in (0, 1):
            constant, value = node.inputs[1 - side], node.inputs[side]
            if not is_param(graph, constant) or is_param(graph, value):
                continue
            chain = self._chain(graph, value)
            if chain is None:
                continue
            matmul, bias_add, bias = chain[0], None, None
            for link in chain[1:]:
                if link.op == "Add":
                    bias_add = link
                    bias = next(v for v in link.inputs if is_param(graph, v))
            weight = graph.params[matmul.inputs[1]]
            columns = weight.shape[1]
            scale = graph.params[constant]
            if not self._per_column(graph, scale.shape, columns, node.outputs[0]):
                continue
            if bias is not None and graph.params[bias].shape not in ((columns,), (1, columns)):
                continue
            self._fold(graph, node, chain, constant, weight.name, bias_add, bias)
            return self.applied([*chain, node], scale=constant)
        return None

    @staticmethod
    def _chain(graph: Graph, value: str) -> list[Node] | None:
        """The MatMul and the bias Add / column-keeping Reshapes up to ``value``, MatMul first."""
        chain: list[Node] = []
        seen_add = False
        while True:
            if len(graph.consumers.get(value, ())) != 1 or graph.is_output(value):
                return None
            producer = graph.producer_of(value)
            if producer is None or len(chain) > 4:
                return None
            chain.insert(0, producer)
            if producer.op == "MatMul":
                w = producer.inputs[1]
                if (
                    not is_param(graph, w)
                    or len(graph.params[w].shape) != 2
                    or is_param(graph, producer.inputs[0])
                ):
                    return None
                return chain
            if producer.op == "Add" and not seen_add:
                params = [v for v in producer.inputs if is_param(graph, v)]
                if len(params) != 1:
                    return None
                seen_add = True
                value = next(v for v in producer.inputs if v not in params)
            elif producer.op == "Reshape":
                before = graph.value_info(producer.inputs[0]).shape
                after = graph.value_info(producer.outputs[0]).shape
                if not before or not after or before[-1] != after[-1] or not isinstance(after[-1], int):
                    return None
                value = producer.inputs[0]
            else:
                return None

    @staticmethod
    def _per_column(graph: Graph, shape: tuple[int, ...], columns: int, out: str) -> bool:
        """Whether a constant of ``shape`` scales whole columns without broadcasting the product further."""
        if any(dim != 1 for dim in shape[:-1]) or (shape and shape[-1] not in (1, columns)):
            return False
        if len(shape) <= 1:
            return True
        rank = graph.value_info(out).shape
        return rank is not None and len(shape) <= len(rank)

    def _fold(
        self,
        graph: Graph,
        mul: Node,
        chain: list[Node],
        constant: str,
        weight: str,
        bias_add: Node | None,
        bias: str | None,
    ) -> None:
        param = graph.params[weight]
        new_w = derive(
            graph,
            weight,
            param.shape,
            param.dtype,
            "fuse_scale",
            (weight, constant),
            lambda w, s: w * np.asarray(s).reshape(-1),
        )
        renamed = {weight: new_w}
        if bias is not None:
            old = graph.params[bias]
            renamed[bias] = derive(
                graph,
                bias,
                old.shape,
                old.dtype,
                "fuse_scale",
                (bias, constant),
                lambda b, s: b * np.asarray(s).reshape(-1),
            )
        out = mul.outputs[0]
        for old_node in (mul, *chain):
            graph.remove_node(old_node)
        for index, old_node in enumerate(chain):
            last = index == len(chain) - 1
            graph.add_node(
                Node(
                    name=graph.unique_name(old_node.name),
                    op=old_node.op,
                    inputs=[
                        renamed.get(v, v) if old_node in (chain[0], bias_add) else v for v in old_node.inputs
                    ],
                    outputs=[out] if last else list(old_node.outputs),
                    attrs=dict(old_node.attrs),
                    origin=old_node.origin + (mul.origin if last else ()),
                    rewrite=self.name,
                    history=(*old_node.history, *(mul.history if last else ()), self.name),
                )
            )


#: producers a batch norm may yet be folded into, directly or once quantization or casts are gone
MAY_BECOME_FOLDABLE = frozenset(
    {"Conv", "ConvTranspose", "Gemm", "MatMul", "DequantizeLinear", "QuantizeLinear", "Cast", "Identity"}
)


#: producers a batch norm folds into only when it is their output's sole reader
FOLDS_INTO = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})


class BatchNormAsDepthwiseConv(Rewrite):
    """Replaces a standalone BatchNormalization of an NCHW tensor with a depthwise 1x1 Conv.

    The conv's weight is s = scale / sqrt(var + eps) per channel and its bias offset − mean · s: how
    onnxruntime computes a batch norm that follows no convolution (semantics.BATCHNORM_AS_DEPTHWISE_CONV),
    and the same fold of the statistics into weights as any other batch-norm fold.
    """

    says = ("batch norm computed as a depthwise 1x1 Conv", "batch norm kept where the reference folded it")

    name = "batchnorm-as-depthwise-conv"
    ops = ("BatchNormalization",)
    kind = BATCHNORM_FOLDED
    candidate_kind = OPS_UNFUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if _statistics_read(graph, node) or not all(is_param(graph, v) for v in node.inputs[1:5]):
            return None
        shape = graph.value_info(node.inputs[0]).shape
        if shape is None or len(shape) != 4 or not isinstance(shape[1], int):
            return None
        producer = graph.producer_of(node.inputs[0])
        if producer is not None and (producer.op in MAY_BECOME_FOLDABLE or "." in producer.op):
            sole = len(graph.consumers.get(node.inputs[0], ())) == 1
            if sole or producer.op not in FOLDS_INTO:
                return None  # a fold into the producer may still apply once other rewrites have run
        channels = shape[1]
        scale, offset, mean, var = node.inputs[1:5]
        if graph.params[scale].shape != (channels,):
            return None
        eps = float(node.attrs.get("epsilon", 1e-5))
        dtype = graph.params[scale].dtype
        weight = derive(
            graph,
            scale,
            (channels, 1, 1, 1),
            dtype,
            "fold_bn",
            (scale, offset, mean, var),
            lambda s, _b, _m, v: (s / np.sqrt(v + eps)).reshape(-1, 1, 1, 1),
        )
        bias = derive(
            graph,
            offset,
            (channels,),
            dtype,
            "fold_bn",
            (scale, offset, mean, var),
            lambda s, b, m, v: b - m * s / np.sqrt(v + eps),
        )
        out = node.outputs[0]
        graph.remove_node(node)
        emit(
            graph,
            node,
            "Conv",
            [node.inputs[0], weight, bias],
            out,
            self.name,
            group=channels,
            kernel_shape=(1, 1),
        )
        return self.applied([node], epsilon=eps)


rewrites = RewriteSet(
    [
        FoldBatchNormIntoConv(),
        FoldBatchNormIntoMatMul(),
        BatchNormAsDepthwiseConv(),
        FuseConvBiasAdd(),
        FuseConvScaleMul(),
        FoldScaleIntoMatMul(),
    ]
)
