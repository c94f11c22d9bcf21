"""Reference models at realistic structure: ResNet-style, Inception-style, transformer encoder block."""

from __future__ import annotations

import numpy as np
import onnx

from parity.examples.builder import GraphBuilder


def resnet(
    blocks: tuple[int, ...] = (2, 2),
    width: int = 16,
    image: int = 32,
    classes: int = 10,
    seed: int = 0,
    dropout: bool = True,
) -> onnx.ModelProto:
    """A ResNet-style CNN: stem, residual basic blocks with batch norm, global pooling, classifier."""
    b = GraphBuilder("resnet", seed)
    x = b.input("image", [1, 3, image, image])
    y = b.conv_bn_relu(x, 3, width, 3)
    y = b.op("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    channels = width
    for stage, count in enumerate(blocks):
        for index in range(count):
            out = channels * 2 if stage > 0 and index == 0 else channels
            stride = 2 if stage > 0 and index == 0 else 1
            shortcut = (
                y
                if out == channels and stride == 1
                else b.conv_bn_relu(y, channels, out, 1, stride, relu=False)
            )
            z = b.conv_bn_relu(y, channels, out, 3, stride)
            z = b.conv_bn_relu(z, out, out, 3, 1, relu=False)
            y = b.op("Relu", [b.op("Add", [z, shortcut])])
            channels = out
    y = b.op("GlobalAveragePool", [y])
    y = b.op("Flatten", [y], axis=1)
    if dropout:
        y = b.op("Dropout", [y])
    w = b.weight("fc_w", [classes, channels])
    bias = b.const("fc_b", (0.1 * b.rng.standard_normal(classes)).astype(np.float32))
    logits = b.op("Gemm", [y, w, bias], transB=1)
    b.output(logits, [1, classes])
    return b.model()


def inception(width: int = 8, image: int = 32, classes: int = 10, seed: int = 1) -> onnx.ModelProto:
    """An Inception-style CNN: parallel 1x1 / 3x3 / 5x5 / pool branches joined by Concat."""
    b = GraphBuilder("inception", seed)
    x = b.input("image", [1, 3, image, image])
    y = b.conv_bn_relu(x, 3, width * 2, 3)
    channels = width * 2
    for _ in range(2):
        branch1 = b.conv_bn_relu(y, channels, width, 1)
        branch3 = b.conv_bn_relu(b.conv_bn_relu(y, channels, width, 1), width, width, 3)
        branch5 = b.conv_bn_relu(b.conv_bn_relu(y, channels, width, 1), width, width, 5)
        pooled = b.op("MaxPool", [y], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
        branch_pool = b.conv_bn_relu(pooled, channels, width, 1)
        y = b.op("Concat", [branch1, branch3, branch5, branch_pool], axis=1)
        channels = width * 4
    y = b.op("GlobalAveragePool", [y])
    y = b.op("Flatten", [y], axis=1)
    w = b.weight("fc_w", [classes, channels])
    bias = b.const("fc_b", np.zeros(classes, dtype=np.float32))
    b.output(b.op("Gemm", [y, w, bias], transB=1), [1, classes])
    return b.model()


def transformer_block(
    seq: int = 16, d_model: int = 64, heads: int = 4, d_ff: int = 128, seed: int = 2, layers: int = 1
) -> onnx.ModelProto:
    """A transformer encoder: ``layers`` blocks of self-attention and an MLP, with residuals and LayerNorm."""
    b = GraphBuilder("transformer_block", seed)
    x = b.input("tokens", [1, seq, d_model])
    for _ in range(layers):
        x = _encoder_layer(b, x, seq, d_model, heads, d_ff)
    b.output(x, [1, seq, d_model])
    return b.model()


def _encoder_layer(b: GraphBuilder, x: str, seq: int, d_model: int, heads: int, d_ff: int) -> str:
    """One encoder block; returns its output."""
    head = d_model // heads
    split = b.const("heads_shape", np.array([1, seq, heads, head], dtype=np.int64))
    merge = b.const("merge_shape", np.array([1, seq, d_model], dtype=np.int64))

    def heads_of(v: str, perm: list[int]) -> str:
        return b.op("Transpose", [b.op("Reshape", [v, split])], perm=perm)

    q = heads_of(b.linear(x, d_model, d_model), [0, 2, 1, 3])
    k = heads_of(b.linear(x, d_model, d_model), [0, 2, 3, 1])
    v = heads_of(b.linear(x, d_model, d_model), [0, 2, 1, 3])
    scale = b.const("scale", np.array(1.0 / np.sqrt(head), dtype=np.float32))
    scores = b.op("Mul", [b.op("MatMul", [q, k]), scale])
    attention = b.op("MatMul", [b.op("Softmax", [scores], axis=-1), v])
    merged = b.op("Reshape", [b.op("Transpose", [attention], perm=[0, 2, 1, 3]), merge])
    y = b.op("Add", [x, b.linear(merged, d_model, d_model)])
    y = layer_norm(b, y, d_model)
    hidden = b.linear(y, d_model, d_ff)
    hidden = gelu(b, hidden)
    z = b.op("Add", [y, b.linear(hidden, d_ff, d_model)])
    return layer_norm(b, z, d_model)


def layer_norm(b: GraphBuilder, x: str, d: int) -> str:
    """LayerNormalization over the last axis with learned scale and bias."""
    gamma = b.const("ln_gamma", (1.0 + 0.1 * b.rng.standard_normal(d)).astype(np.float32))
    beta = b.const("ln_beta", (0.1 * b.rng.standard_normal(d)).astype(np.float32))
    return b.op("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=1e-5)


def gelu(b: GraphBuilder, x: str) -> str:
    """GELU written out as 0.5 * x * (1 + erf(x / sqrt 2)), as exporters emit it."""
    root2 = b.const("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
    one = b.const("one", np.array(1.0, dtype=np.float32))
    half = b.const("half", np.array(0.5, dtype=np.float32))
    erf = b.op("Erf", [b.op("Div", [x, root2])])
    return b.op("Mul", [b.op("Mul", [x, b.op("Add", [erf, one])]), half])
