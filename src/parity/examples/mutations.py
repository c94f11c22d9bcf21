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
