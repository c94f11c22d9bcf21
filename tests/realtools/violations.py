"""Violations injected into a reference: in the module (then exported like the reference) or in its weights.

Each knows where it is, so a test can check that parity's violating findings point there: a substring of
the node or tensor names the exporter gives the changed part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from realtools.architectures import Architecture, Variant

#: the activation each architecture's violation swaps in (GELU→ReLU for transformers, as the issue asks)
SWAPPED = {
    "resnet": "sigmoid",
    "densenet": "sigmoid",
    "inception": "sigmoid",
    "mobilenet": "relu",
    "unet": "sigmoid",
    "vit": "relu",
    "bert": "relu",
    "llama": "relu",
    # the MLPerf families (families.py)
    "retinanet": "sigmoid",
    "unet3d": "relu",  # LeakyReLU → ReLU
    "dlrm": "sigmoid",
    "rnnt": "relu",  # the joint network's tanh
    "gptj": "relu",
    "mixtral": "relu",
    "whisper": "relu",
    "sdunet": "relu",
    "convnext": "relu",
    "efficientnet": "relu",
    "swin": "relu",
    "rgat": "relu",  # ELU → ReLU
}


@dataclass(frozen=True)
class Violation:
    """An injected violation: how to make it and where it is."""

    name: str
    make: Callable[[Architecture, Path, Path], str]  # (arch, reference path, out) -> location hint


def _module(variant: Callable[[Architecture], Variant], hint: Callable[[Architecture], str]):
    def make(arch: Architecture, reference: Path, out: Path) -> str:
        from realtools.tools import export

        export(arch.build(variant(arch)), arch, out)
        return hint(arch)

    return make


def _target(model: onnx.ModelProto) -> onnx.TensorProto:
    """The largest float weight read by a Conv, Gemm or MatMul (not an embedding table)."""
    readers = {
        value
        for node in model.graph.node
        if node.op_type in ("Conv", "Gemm", "MatMul")
        for value in node.input[1:2]
    }
    floats = [
        t
        for t in model.graph.initializer
        if t.name in readers and t.data_type == onnx.TensorProto.FLOAT and len(t.dims) >= 2
    ]
    return max(floats, key=lambda t: (int(np.prod(t.dims)), t.name))


def _edit_weight(edit: Callable[[np.ndarray], np.ndarray]):
    def make(arch: Architecture, reference: Path, out: Path) -> str:
        model = onnx.load(str(reference))
        target = _target(model)
        values = edit(numpy_helper.to_array(target).copy())
        target.CopyFrom(numpy_helper.from_array(values.astype(np.float32), target.name))
        onnx.save(model, str(out))
        return target.name

    return make


def _prune(values: np.ndarray) -> np.ndarray:
    """Magnitude pruning: the 30% smallest entries set to zero."""
    flat = values.reshape(-1)
    flat[np.argsort(np.abs(flat))[: int(0.3 * flat.size)]] = 0.0
    return values


def _nudge(values: np.ndarray) -> np.ndarray:
    """One weight, the largest, changed by 0.1%."""
    flat = values.reshape(-1)
    flat[int(np.argmax(np.abs(flat)))] *= 1.001
    return values


_BLOCK_HINT = {
    "resnet": "blocks.1",
    "densenet": "features.2",
    "inception": "m1",
    "mobilenet": "blocks.1",
    "unet": "enc2",
    "vit": "blocks.0",
    "bert": "layer.0",
    "llama": "layers.0",
    "retinanet": "layer2.0",
    "unet3d": "enc1",
    "dlrm": "top.1",
    "rnnt": "joint_act",
    "gptj": "h.0/mlp",
    "mixtral": "layers.0/mlp/experts",
    "whisper": "layers.0/activation_fn",
    "sdunet": "down_blocks.0/resnets.0",
    "convnext": "stages.0/layers.0/act",
    "efficientnet": "features.2.0",
    "swin": "layers.0/blocks.0/mlp",
    "rgat": "layers.0/act",
}
_RESIDUAL_HINT = {
    "resnet": "blocks.0",
    "densenet": "features.2",
    "inception": "m2",
    "mobilenet": "blocks.0",
    "unet": "/Concat",
    "vit": "blocks.0",
    "bert": "layer.0",
    "llama": "layers.0",
    "retinanet": "layer1.0",
    "unet3d": "/Concat",
    "gptj": "h.0",
    "mixtral": "layers.0",
    "whisper": "layers.0",
    "sdunet": "down_blocks.1/resnets.0",
    "convnext": "stages.1/layers.0",
    "efficientnet": "features.4.1",
    "swin": "layers.1/blocks.0",
    "rgat": "layers.0",
}
_NORM_HINT = {
    **_BLOCK_HINT,
    "unet": "mid",
    "bert": "layer.1",
    "llama": "layers.1",
    "retinanet": "layer3.0",
    "unet3d": "enc2.0",
    "gptj": "h.1/ln_1",
    "mixtral": "layers.1/post_attention_layernorm",
    "whisper": "layers.1/final_layer_norm",
    "sdunet": "down_blocks.1/resnets.0/norm2",
    "convnext": "stages.1/layers.0/layernorm",
    "efficientnet": "features.3.0",
    "swin": "layers.0/blocks.0/layernorm_after",
}
_ATTENTION_HINT = {
    "vit": "attn",
    "bert": "attention",
    "llama": "self_attn",
    "gptj": "attn",
    "mixtral": "self_attn",
    "whisper": "self_attn",
}
#: the MLPerf families' violations (families.py): where each is, in the reference's node names
_SKIP_HINT = {
    "retinanet": "layer2.1",
    "unet3d": "enc2.1",
    "rnnt": "/encoder/LSTM_1",  # the encoder's second LSTM layer
    "gptj": "h.0",
    "mixtral": "layers.0",
    "whisper": "layers.0",
    "sdunet": "mid_block/attentions.0",
    "convnext": "stages.0/layers.0",
    "efficientnet": "features.5.1",
    "swin": "layers.0/blocks.0",
}
_EXIT_HINT = {"gptj": "h.1", "mixtral": "layers.1", "whisper": "layers.1", "swin": "layers.1/blocks.1"}
_EPSILON_HINT = {
    "gptj": "h.1/ln_1",
    "mixtral": "layers.1/post_attention_layernorm",
    "whisper": "layers.1/self_attn_layer_norm",
    "swin": "layers.1/blocks.1/layernorm_before",
}
_HEAD_HINT = {
    "gptj": "h.0/attn",
    "mixtral": "layers.0/self_attn",
    "whisper": "layers.0/self_attn",
    "sdunet": "down_blocks.0/attentions.0/transformer_blocks.0/attn1",
    "swin": "layers.1/blocks.0/attention",
}
#: the reference norms' epsilon is 1e-5; 1e-3 changes the outputs visibly (a few 1e-4 or more)
_EPSILON = 1e-3
#: DLRM's table 0 (200 rows) cut to its first 100: indices clipped, or hashed (modulo 100)
_TABLE_ROWS = 100

VIOLATIONS: dict[str, Violation] = {
    v.name: v
    for v in (
        Violation(
            "swapped_activation",
            _module(lambda a: Variant(activation=SWAPPED[a.name]), lambda a: _BLOCK_HINT[a.name]),
        ),
        Violation(
            "dropped_residual",
            _module(lambda a: Variant(drop_residual=True), lambda a: _RESIDUAL_HINT[a.name]),
        ),
        Violation("dropped_norm", _module(lambda a: Variant(drop_norm=True), lambda a: _NORM_HINT[a.name])),
        Violation("fewer_heads", _module(lambda a: Variant(heads=2), lambda a: _ATTENTION_HINT[a.name])),
        Violation("rotary_base", _module(lambda a: Variant(rope_theta=500000.0), lambda a: "rotary")),
        Violation("skipped_layer", _module(lambda a: Variant(skip_layer=True), lambda a: _SKIP_HINT[a.name])),
        Violation("early_exit", _module(lambda a: Variant(early_exit=True), lambda a: _EXIT_HINT[a.name])),
        Violation("moe_topk", _module(lambda a: Variant(experts_per_token=1), lambda a: "mlp/gate")),
        Violation("epsilon", _module(lambda a: Variant(epsilon=_EPSILON), lambda a: _EPSILON_HINT[a.name])),
        Violation("pruned_head", _module(lambda a: Variant(pruned_head=True), lambda a: _HEAD_HINT[a.name])),
        # the indices clipped (pruned rows) or taken modulo the rows (hashed) before table 0: the node that
        # does it is where the model differs, the table's missing rows are its weights' side
        Violation("table_pruned", _module(lambda a: Variant(table_rows=_TABLE_ROWS), lambda a: "/Clip")),
        Violation(
            "table_hashed", _module(lambda a: Variant(table_rows=_TABLE_ROWS, hashed=True), lambda a: "/Mod")
        ),
        Violation("pruned", _edit_weight(_prune)),
        Violation("modified_weight", _edit_weight(_nudge)),
    )
}


def redrawn(arch: Architecture, out: Path) -> None:
    """The same module with every weight re-drawn from its initialiser (another seed): legal in training."""
    from realtools.tools import export

    export(arch.build(Variant(seed=1)), arch, out)
