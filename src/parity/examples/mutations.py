"""Edits that turn a reference model into an illegal candidate: remove, add or swap an operation."""

from __future__ import annotations

import copy

import onnx
from onnx import helper


def _nodes_of(model: onnx.ModelProto, op_type: str) -> list[onnx.NodeProto]:
    return [node for node in model.graph.node if node.op_type == op_type]


def remove_op(model: onnx.ModelProto, op_type: str, index: int = 0) -> tuple[onnx.ModelProto, str]:
    """Delete the index-th node of ``op_type`` (which must pass its first input's shape through)."""
    model = copy.deepcopy(model)
    node = _nodes_of(model, op_type)[index]
    source, target = node.input[0], node.output[0]
    model.graph.node.remove(node)
    for other in model.graph.node:
        other.input[:] = [source if value == target else value for value in other.input]
    for output in model.graph.output:
        if output.name == target:
            output.name = source
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
    for other in model.graph.node:
        other.input[:] = [fresh if value == produced else value for value in other.input]
    for output in model.graph.output:
        if output.name == produced:
            output.name = fresh
    name = f"extra_{new_type.lower()}"
    position = list(model.graph.node).index(node) + 1
    model.graph.node.insert(position, helper.make_node(new_type, [produced], [fresh], name=name))
    return model, name
