"""onnxruntime's fused and blocked-layout operators, decomposed into standard ONNX.

- ``com.microsoft.FusedConv`` / ``com.microsoft.nchwc.Conv``: act(Conv(x, W, B) [+ Z])
- ``com.microsoft.FusedGemm``: act(Gemm(...))
- ``com.microsoft.FusedMatMul``: MatMul(A', B') · alpha
- ``com.microsoft.SkipLayerNormalization``: LayerNormalization(input + skip [+ bias])
- ``com.microsoft.Gelu``: 0.5 · x · (1 + erf(x / √2)), written as exporters write it (``BiasGelu``: of x + b)
- ``com.microsoft.FastGelu``: GELU's tanh approximation on x [+ bias], written as exporters write it
- ``com.microsoft.nchwc.*`` pools and ``ReorderInput``/``ReorderOutput``: standard pools and identities

Canonical form is the unfused standard graph, so a fused candidate shows as ``graph.ops_fused``.
"""

from __future__ import annotations

import numpy as np

from parity.engines.graph.params import constant, derive, is_param
from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet, emit, fresh_value
from parity.ir import Graph, Node, ValueInfo
from parity.observations.kinds import LAYOUT_CHANGED, OPS_FUSED, OPS_UNFUSED

_ACTIVATION_PARAMS = {"LeakyRelu": ("alpha",), "HardSigmoid": ("alpha", "beta"), "Elu": ("alpha",)}


def _activation(graph: Graph, node: Node, x: str, out: str, rewrite: str) -> None:
    """Apply the node's fused activation (if any) to x, writing ``out``."""
    name = node.attrs.get("activation")
    params = tuple(node.attrs.get("activation_params", ()))
    if not name:
        graph.replace_uses(out, x)
        return
    if name == "Clip":
        low = constant(
            graph, f"{node.name}.min", np.array(params[0] if params else -np.inf, dtype=np.float32)
        )
        high = constant(
            graph, f"{node.name}.max", np.array(params[1] if len(params) > 1 else np.inf, np.float32)
        )
        emit(
            graph,
            node,
            "Clip",
            [x],
            out,
            rewrite,
            min=float(graph.params[low].values()),
            max=float(graph.params[high].values()),
        )
        return
    attrs = dict(zip(_ACTIVATION_PARAMS.get(name, ()), (float(np.float32(p)) for p in params), strict=False))
    emit(graph, node, name, [x], out, rewrite, **attrs)


class UnfuseConvActivation(Rewrite):
    """Replaces FusedConv / nchwc Conv with Conv, an optional Add of the Sum input, and the activation."""

    says = ("fused Conv split into Conv and activation", "Conv, residual Add and activation fused")

    name = "unfuse-conv-activation"
    ops = ("com.microsoft.FusedConv", "com.microsoft.nchwc.Conv")
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        inputs = list(node.inputs)
        summand = inputs[3] if len(inputs) > 3 and inputs[3] else None
        out = node.outputs[0]
        graph.remove_node(node)
        attrs = {k: v for k, v in node.attrs.items() if not k.startswith("activation")}
        conv_out = fresh_value(graph, out)
        emit(graph, node, "Conv", [v for v in inputs[:3] if v], conv_out, self.name, **attrs)
        if summand:
            conv_out = emit(graph, node, "Add", [conv_out, summand], fresh_value(graph, out), self.name)
        if node.attrs.get("activation"):
            _activation(graph, node, conv_out, out, self.name)
        else:
            graph.replace_uses(out, conv_out)
        return self.applied([node], fused=node.op, activation=node.attrs.get("activation"))


class UnfuseGemmActivation(Rewrite):
    """Replaces FusedGemm with Gemm and the activation."""

    says = ("FusedGemm split into Gemm and activation", "Gemm and activation fused")

    name = "unfuse-gemm-activation"
    ops = ("com.microsoft.FusedGemm",)
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        out = node.outputs[0]
        graph.remove_node(node)
        attrs = {k: v for k, v in node.attrs.items() if not k.startswith("activation")}
        gemm_out = emit(graph, node, "Gemm", list(node.inputs), fresh_value(graph, out), self.name, **attrs)
        _activation(graph, node, gemm_out, out, self.name)
        return self.applied([node], fused=node.op, activation=node.attrs.get("activation"))


class UnfuseScaledMatMul(Rewrite):
    """Replaces FusedMatMul(A, B, alpha, transA, transB) with MatMul (+ Transposes) and Mul by alpha."""

    says = ("FusedMatMul split", "MatMul and scaling fused (FusedMatMul)")

    name = "unfuse-scaled-matmul"
    ops = ("com.microsoft.FusedMatMul",)
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if node.attrs.get("transBatchA") or node.attrs.get("transBatchB"):
            return None
        out = node.outputs[0]
        a, b = node.inputs[:2]
        graph.remove_node(node)
        for flag, operand in (("transA", 0), ("transB", 1)):
            if node.attrs.get(flag):
                rank = len(graph.value_info(node.inputs[operand]).shape or (0, 0))
                perm = (*range(rank - 2), rank - 1, rank - 2)
                moved = emit(
                    graph,
                    node,
                    "Transpose",
                    [node.inputs[operand]],
                    fresh_value(graph, out),
                    self.name,
                    perm=perm,
                )
                a, b = (moved, b) if operand == 0 else (a, moved)
        alpha = float(node.attrs.get("alpha", 1.0))
        if alpha == 1.0:
            emit(graph, node, "MatMul", [a, b], out, self.name)
        else:
            product = emit(graph, node, "MatMul", [a, b], fresh_value(graph, out), self.name)
            scale = constant(graph, f"{node.name}.alpha", np.array(alpha, dtype=np.float32))
            emit(graph, node, "Mul", [product, scale], out, self.name)
        return self.applied([node], fused=node.op)


class UnfuseSkipLayerNorm(Rewrite):
    """Replaces SkipLayerNormalization with Add(input, skip [+ bias]) and LayerNormalization."""

    says = (
        "SkipLayerNormalization split",
        "residual Add and LayerNormalization fused (SkipLayerNormalization)",
    )

    name = "unfuse-skip-layernorm"
    ops = ("com.microsoft.SkipLayerNormalization",)
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if len(node.outputs) > 1 and any(graph.consumers.get(v) for v in node.outputs[1:3] if v):
            return None
        x, skip, gamma = node.inputs[:3]
        beta = node.inputs[3] if len(node.inputs) > 3 and node.inputs[3] else ""
        bias = node.inputs[4] if len(node.inputs) > 4 and node.inputs[4] else ""
        out = node.outputs[0]
        graph.remove_node(node)
        summed = _residual_sum(graph, node, x, skip, bias, self.name)
        eps = float(np.float32(node.attrs.get("epsilon", 1e-12)))
        emit(
            graph,
            node,
            "LayerNormalization",
            [summed, gamma, *([beta] if beta else [])],
            out,
            self.name,
            axis=-1,
            epsilon=eps,
            stash_type=1,
        )
        return self.applied([node], fused=node.op)


def _residual_sum(graph: Graph, node: Node, x: str, skip: str, bias: str, rewrite: str) -> str:
    """X + skip (+ bias) for a Skip*Normalization, written to its sum output (index 3) when it has one.

    Each intermediate is named after the previous emit, so no two nodes write one tensor.
    """
    out = node.outputs[0]
    kept = node.outputs[3] if len(node.outputs) > 3 and node.outputs[3] else None
    summed = emit(
        graph, node, "Add", [x, skip], (kept if not bias else None) or fresh_value(graph, out), rewrite
    )
    if bias:
        summed = emit(graph, node, "Add", [summed, bias], kept or fresh_value(graph, out), rewrite)
    return summed


def _rms_norm(graph: Graph, node: Node, x: str, scale: str, out: str, rewrite: str) -> None:
    """RMSNorm as exporters write it: x / sqrt(mean(x², last axis) + eps) · scale (proofs absorb others)."""
    eps = float(np.float32(node.attrs.get("epsilon", 1e-5)))
    two = constant(graph, f"{node.name}.two", np.array(2.0, dtype=np.float32))
    epsilon = constant(graph, f"{node.name}.epsilon", np.array(eps, dtype=np.float32))
    axis = int(node.attrs.get("axis", -1))
    squared = emit(graph, node, "Pow", [x, two], fresh_value(graph, out), rewrite)
    mean = emit(
        graph, node, "ReduceMean", [squared], fresh_value(graph, out), rewrite, axes=(axis,), keepdims=1
    )
    shifted = emit(graph, node, "Add", [mean, epsilon], fresh_value(graph, out), rewrite)
    root = emit(graph, node, "Sqrt", [shifted], fresh_value(graph, out), rewrite)
    inverse = emit(graph, node, "Reciprocal", [root], fresh_value(graph, out), rewrite)
    normed = emit(graph, node, "Mul", [x, inverse], fresh_value(graph, out), rewrite)
    emit(graph, node, "Mul", [normed, scale], out, rewrite)


class UnfuseSimplifiedLayerNorm(Rewrite):
    """Replaces (Skip)SimplifiedLayerNormalization (RMSNorm) with its arithmetic, after the residual Add."""

    says = ("SimplifiedLayerNormalization split", "RMSNorm arithmetic fused (SimplifiedLayerNormalization)")

    name = "unfuse-simplified-layernorm"
    ops = ("SimplifiedLayerNormalization", "com.microsoft.SkipSimplifiedLayerNormalization")
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        skip = node.op.endswith("SkipSimplifiedLayerNormalization")
        statistics = node.outputs[1:3] if skip else node.outputs[1:]
        if any(graph.consumers.get(v) or graph.is_output(v) for v in statistics if v):
            return None
        out = node.outputs[0]
        graph.remove_node(node)
        if skip:
            x, residual, scale = node.inputs[:3]
            bias = node.inputs[3] if len(node.inputs) > 3 and node.inputs[3] else ""
            x = _residual_sum(graph, node, x, residual, bias, self.name)
        else:
            x, scale = node.inputs[:2]
        _rms_norm(graph, node, x, scale, out, self.name)
        return self.applied([node], fused=node.op)


class UnfuseQuickGelu(Rewrite):
    """Replaces QuickGelu(x, alpha) with x · Sigmoid(alpha · x) (onnxruntime fuses SiLU into it, alpha 1)."""

    says = ("QuickGelu split", "x · sigmoid(α·x) fused into QuickGelu")

    name = "unfuse-quick-gelu"
    ops = ("com.microsoft.QuickGelu",)
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        x, out = node.inputs[0], node.outputs[0]
        alpha = float(np.float32(node.attrs.get("alpha", 1.702)))
        graph.remove_node(node)
        scaled = x
        if alpha != 1.0:
            factor = constant(graph, f"{node.name}.alpha", np.array(alpha, dtype=np.float32))
            scaled = emit(graph, node, "Mul", [x, factor], fresh_value(graph, out), self.name)
        gate = emit(graph, node, "Sigmoid", [scaled], fresh_value(graph, out), self.name)
        emit(graph, node, "Mul", [x, gate], out, self.name)
        return self.applied([node], fused=node.op)


class UnfuseGelu(Rewrite):
    """Replaces Gelu(x) with Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)."""

    says = ("Gelu split into Erf arithmetic", "GELU arithmetic fused into Gelu")

    name = "unfuse-gelu"
    ops = ("com.microsoft.Gelu",)
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        x, out = node.inputs[0], node.outputs[0]
        graph.remove_node(node)
        root2 = constant(graph, f"{node.name}.sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
        one = constant(graph, f"{node.name}.one", np.array(1.0, dtype=np.float32))
        half = constant(graph, f"{node.name}.half", np.array(0.5, dtype=np.float32))
        scaled = emit(graph, node, "Div", [x, root2], fresh_value(graph, out), self.name)
        erf = emit(graph, node, "Erf", [scaled], fresh_value(graph, out), self.name)
        shifted = emit(graph, node, "Add", [erf, one], fresh_value(graph, out), self.name)
        product = emit(graph, node, "Mul", [x, shifted], fresh_value(graph, out), self.name)
        emit(graph, node, "Mul", [product, half], out, self.name)
        return self.applied([node], fused=node.op)


class UnfuseBiasGelu(Rewrite):
    """Replaces BiasGelu(x, bias) with Gelu's Erf arithmetic on x + bias (the transformers optimizer)."""

    says = ("BiasGelu split into Add and Erf arithmetic", "bias and GELU arithmetic fused into BiasGelu")

    name = "unfuse-bias-gelu"
    ops = ("com.microsoft.BiasGelu",)
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if len(node.inputs) < 2 or not node.inputs[1]:
            return None
        x, bias, out = node.inputs[0], node.inputs[1], node.outputs[0]
        graph.remove_node(node)
        shifted = emit(graph, node, "Add", [x, bias], fresh_value(graph, out), self.name)
        emit(graph, node, "com.microsoft.Gelu", [shifted], out, self.name)
        UnfuseGelu().apply(graph, graph.nodes[graph.producer[out]])
        return self.applied([node], fused=node.op)


#: the tanh approximation's constants as onnxruntime's FastGelu kernel and exporters write them (fp32)
FAST_GELU_SCALE = np.float32(np.sqrt(2.0 / np.pi))
FAST_GELU_CUBIC = np.float32(0.044715)


class UnfuseFastGelu(Rewrite):
    """Replaces FastGelu(x [, bias]) with 0.5 · y · (1 + tanh(√(2/π) · (y + 0.044715 · y³))), y = x + bias.

    The tanh approximation of GELU (GPT-2's and GPT-J's gelu_new), which the transformers optimizer fuses.
    """

    says = ("FastGelu split into tanh arithmetic", "tanh GELU arithmetic fused into FastGelu")

    name = "unfuse-fast-gelu"
    ops = ("com.microsoft.FastGelu",)
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        x, out = node.inputs[0], node.outputs[0]
        graph.remove_node(node)
        if len(node.inputs) > 1 and node.inputs[1]:
            x = emit(graph, node, "Add", [x, node.inputs[1]], fresh_value(graph, out), self.name)
        three = constant(graph, f"{node.name}.three", np.array(3.0, dtype=np.float32))
        cubic = constant(graph, f"{node.name}.cubic", np.array(FAST_GELU_CUBIC))
        scale = constant(graph, f"{node.name}.scale", np.array(FAST_GELU_SCALE))
        one = constant(graph, f"{node.name}.one", np.array(1.0, dtype=np.float32))
        half = constant(graph, f"{node.name}.half", np.array(0.5, dtype=np.float32))

        def step(op: str, inputs: list[str], target: str | None = None) -> str:
            return emit(graph, node, op, inputs, target or fresh_value(graph, out), self.name)

        inner = step("Add", [x, step("Mul", [step("Pow", [x, three]), cubic])])
        shifted = step("Add", [step("Tanh", [step("Mul", [inner, scale])]), one])
        step("Mul", [step("Mul", [x, half]), shifted], out)
        return self.applied([node], fused=node.op)


class UnfuseAttention(Rewrite):
    """Replaces com.microsoft.Attention (no mask, no past) with its multi-head self-attention subgraph.

    QKV = x·W + b split into Q, K, V; each reshaped to heads; softmax(Q·Kᵀ · scale)·V; heads merged.
    """

    says = ("Attention split into its subgraph", "self-attention fused into one Attention op")

    name = "unfuse-attention"
    ops = ("com.microsoft.Attention",)
    kind = OPS_UNFUSED
    candidate_kind = OPS_FUSED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if len([v for v in node.inputs if v]) != 3 or len([v for v in node.outputs if v]) != 1:
            return None
        x, weights, bias = node.inputs[:3]
        shape = graph.value_info(x).shape
        if not (is_param(graph, weights) and is_param(graph, bias)) or shape is None or len(shape) != 3:
            return None
        if not all(isinstance(d, int) for d in shape) or node.attrs.get("unidirectional"):
            return None
        heads, width = int(node.attrs["num_heads"]), int(shape[2])
        sizes = tuple(node.attrs.get("qkv_hidden_sizes") or (width,) * 3)
        if len(set(sizes)) != 1 or sizes[0] != width or graph.params[weights].shape != (width, 3 * width):
            return None
        head = width // heads
        scale = float(node.attrs.get("scale") or 1.0 / np.sqrt(head))
        out, dtype = node.outputs[0], graph.value_info(node.outputs[0]).dtype or "FLOAT"
        graph.remove_node(node)

        def value(tag: str, dims: tuple) -> str:
            name = fresh_value(graph, f"{out}.{tag}")
            graph.values[name] = ValueInfo(dtype, dims)
            return name

        split = (shape[0], shape[1], heads, head)
        projected = []
        for index, (tag, perm, dims) in enumerate(
            (
                ("q", (0, 2, 1, 3), (shape[0], heads, shape[1], head)),
                ("k", (0, 2, 3, 1), (shape[0], heads, head, shape[1])),
                ("v", (0, 2, 1, 3), (shape[0], heads, shape[1], head)),
            )
        ):
            lo, hi = index * width, (index + 1) * width
            w = derive(
                graph,
                weights,
                (width, width),
                graph.params[weights].dtype,
                f"attention_{tag}",
                (weights,),
                lambda m, lo=lo, hi=hi: m[:, lo:hi],
            )
            b = derive(
                graph,
                bias,
                (width,),
                graph.params[bias].dtype,
                f"attention_{tag}",
                (bias,),
                lambda v, lo=lo, hi=hi: v[lo:hi],
            )
            product = emit(graph, node, "MatMul", [x, w], value(f"{tag}_mm", tuple(shape)), self.name)
            biased = emit(graph, node, "Add", [product, b], value(f"{tag}_add", tuple(shape)), self.name)
            heads_view = emit(
                graph, node, "Reshape", [biased], value(f"{tag}_heads", split), self.name, shape=split
            )
            projected.append(
                emit(graph, node, "Transpose", [heads_view], value(f"{tag}_t", dims), self.name, perm=perm)
            )
        q, k, v = projected
        square = (shape[0], heads, shape[1], shape[1])
        scores = emit(graph, node, "MatMul", [q, k], value("scores", square), self.name)
        factor = constant(graph, f"{node.name}.scale", np.array(scale, dtype=np.float32))
        scaled = emit(graph, node, "Mul", [scores, factor], value("scaled", square), self.name)
        weights_ = emit(graph, node, "Softmax", [scaled], value("probs", square), self.name, axis=-1)
        context = emit(
            graph,
            node,
            "MatMul",
            [weights_, v],
            value("context", (shape[0], heads, shape[1], head)),
            self.name,
        )
        merged = emit(
            graph, node, "Transpose", [context], value("merged", split), self.name, perm=(0, 2, 1, 3)
        )
        emit(graph, node, "Reshape", [merged], out, self.name, shape=tuple(shape))
        graph.values[out] = ValueInfo(dtype, tuple(shape))
        return self.applied([node], fused=node.op)


class NchwcToStandard(Rewrite):
    """Replaces onnxruntime's blocked-layout pools with the standard op, and reorders with identities."""

    says = ("blocked NCHWc layout removed", "onnxruntime's blocked NCHWc layout used")

    name = "nchwc-to-standard"
    ops = (
        "com.microsoft.nchwc.MaxPool",
        "com.microsoft.nchwc.AveragePool",
        "com.microsoft.nchwc.GlobalAveragePool",
        "com.microsoft.nchwc.GlobalMaxPool",
        "com.microsoft.nchwc.ReorderInput",
        "com.microsoft.nchwc.ReorderOutput",
        "com.microsoft.nchwc.Upsample",
    )
    kind = LAYOUT_CHANGED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        op = node.op.rsplit(".", 1)[-1]
        if op == "ReorderOutput" and node.attrs.get("channels_last"):  # NCHWc to NHWC: a Transpose
            graph.remove_node(node)
            emit(graph, node, "Transpose", [node.inputs[0]], node.outputs[0], self.name, perm=(0, 2, 3, 1))
            return self.applied([node], layout="nchwc")
        if op.startswith("Reorder"):
            graph.bypass(node, node.inputs[0])
            return self.applied([node], layout="nchwc")
        if op == "Upsample":  # integer nearest upsampling: the Resize onnxruntime converted
            graph.remove_node(node)
            emit(
                graph,
                node,
                "Resize",
                [node.inputs[0]],
                node.outputs[0],
                self.name,
                scales=tuple(float(s) for s in node.attrs.get("scales", ())),
                mode="nearest",
                coordinate_transformation_mode="asymmetric",
                nearest_mode="floor",
            )
            return self.applied([node], layout="nchwc")
        graph.remove_node(node)
        attrs = {k: v for k, v in node.attrs.items() if k not in ("storage_order",) or v}
        emit(graph, node, op, list(node.inputs), node.outputs[0], self.name, **attrs)
        return self.applied([node], layout="nchwc")


rewrites = RewriteSet(
    [
        UnfuseConvActivation(),
        UnfuseGemmActivation(),
        UnfuseScaledMatMul(),
        UnfuseSkipLayerNorm(),
        UnfuseSimplifiedLayerNorm(),
        UnfuseQuickGelu(),
        UnfuseGelu(),
        UnfuseBiasGelu(),
        UnfuseFastGelu(),
        UnfuseAttention(),
        NchwcToStandard(),
    ]
)
