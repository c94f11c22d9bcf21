"""Edits that turn a reference model into an illegal candidate: remove, add or swap an operation."""

from __future__ import annotations

import copy

import onnx
from onnx import helper


def _nodes_of(model: onnx.ModelProto, op_type: str) -> list[onnx.NodeProto]:
    return [node for node in model.graph.node if node.op_type == op_type]


def _reroute(model: onnx.ModelProto, old: str, new: str) -> None:
    """Make every reader of ``old`` (graph outputs included) read ``new``."""
    for other in model.graph.node:
        other.input[:] = [new if value == old else value for value in other.input]
    for output in model.graph.output:
        if output.name == old:
            output.name = new


def remove_op(model: onnx.ModelProto, op_type: str, index: int = 0) -> tuple[onnx.ModelProto, str]:
    """Delete the index-th node of ``op_type`` (which must pass its first input's shape through)."""
    model = copy.deepcopy(model)
    node = _nodes_of(model, op_type)[index]
    model.graph.node.remove(node)
    _reroute(model, node.output[0], node.input[0])
    return model, node.name


def swap_op(
    model: onnx.ModelProto, op_type: str, new_type: str, index: int = 0
) -> tuple[onnx.ModelProto, str]:
    """Change the index-th node of ``op_type`` into ``new_type`` (same inputs, the attributes it accepts)."""
    model = copy.deepcopy(model)
    node = _nodes_of(model, op_type)[index]
    opset = next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
    accepted = set(onnx.defs.get_schema(new_type, opset).attributes)
    kept = [attribute for attribute in node.attribute if attribute.name in accepted]
    node.op_type = new_type
    del node.attribute[:]
    node.attribute.extend(kept)
    return model, node.name


def add_op_after(
    model: onnx.ModelProto, op_type: str, new_type: str, index: int = 0
) -> tuple[onnx.ModelProto, str]:
    """Insert a unary ``new_type`` node after the index-th node of ``op_type``."""
    model = copy.deepcopy(model)
    node = _nodes_of(model, op_type)[index]
    produced = node.output[0]
    fresh = f"{produced}_extra"
    _reroute(model, produced, fresh)
    name = f"extra_{new_type.lower()}"
    position = list(model.graph.node).index(node) + 1
    model.graph.node.insert(position, helper.make_node(new_type, [produced], [fresh], name=name))
    return model, name


def fuse_projections(model: onnx.ModelProto, count: int = 3) -> onnx.ModelProto:
    """Fuse ``count`` linear layers reading the same input into one MatMul and a Split (a fused QKV).

    The weights and biases are concatenated along the output axis.
    """
    import numpy as np
    from onnx import numpy_helper

    model = copy.deepcopy(model)
    inits = {t.name: t for t in model.graph.initializer}
    nodes = list(model.graph.node)
    by_input: dict[str, list[onnx.NodeProto]] = {}
    for node in nodes:
        if node.op_type == "MatMul" and node.input[1] in inits:
            by_input.setdefault(node.input[0], []).append(node)
    source, matmuls = next((k, v) for k, v in by_input.items() if len(v) >= count)
    matmuls = matmuls[:count]
    adds = [next(n for n in nodes if n.op_type == "Add" and mm.output[0] in n.input) for mm in matmuls]
    weights = [numpy_helper.to_array(inits[mm.input[1]]) for mm in matmuls]
    biases = [numpy_helper.to_array(inits[next(v for v in add.input if v in inits)]) for add in adds]
    model.graph.initializer.extend(
        [
            numpy_helper.from_array(np.concatenate(weights, axis=1), "qkv_weight"),
            numpy_helper.from_array(np.concatenate(biases), "qkv_bias"),
            numpy_helper.from_array(np.array([w.shape[1] for w in weights], dtype=np.int64), "qkv_split"),
        ]
    )
    position = min(nodes.index(mm) for mm in matmuls)
    fused = [
        helper.make_node("MatMul", [source, "qkv_weight"], ["qkv_mm"], name="qkv_matmul"),
        helper.make_node("Add", ["qkv_mm", "qkv_bias"], ["qkv"], name="qkv_add"),
        helper.make_node(
            "Split", ["qkv", "qkv_split"], [add.output[0] for add in adds], name="qkv_split", axis=-1
        ),
    ]
    for node in [*matmuls, *adds]:
        model.graph.node.remove(node)
    unused = {mm.input[1] for mm in matmuls} | {v for add in adds for v in add.input if v in inits}
    for name in unused:
        model.graph.initializer.remove(inits[name])
    for offset, node in enumerate(fused):
        model.graph.node.insert(position + offset, node)
    return model
