"""Semantic, opset-independent attributes of a node.

Attributes become hashable Python values with schema defaults filled in, and inputs that later opsets
turned from attributes into constant inputs (Squeeze axes, Reshape shape, Clip bounds, ...) are lifted
back into attributes, so the same operation compares equal whatever opset it was written in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import onnx
from onnx import AttributeProto, helper

#: op type -> {input index: attribute name}; the constant input becomes the attribute.
LIFTED_INPUTS: dict[str, dict[int, str]] = {
    "Squeeze": {1: "axes"},
    "Unsqueeze": {1: "axes"},
    "Reshape": {1: "shape"},
    "Clip": {1: "min", 2: "max"},
    "Pad": {1: "pads", 2: "constant_value", 3: "axes"},
    "Split": {1: "split"},
    "ReduceSum": {1: "axes"},
    "ReduceMean": {1: "axes"},
    "ReduceMax": {1: "axes"},
    "ReduceMin": {1: "axes"},
    "ReduceProd": {1: "axes"},
    "ReduceL2": {1: "axes"},
    "Slice": {1: "starts", 2: "ends", 3: "axes", 4: "steps"},
    "TopK": {1: "k"},
    "Dropout": {1: "ratio", 2: "training_mode"},
    "Expand": {1: "shape"},
    "Tile": {1: "repeats"},
    "Resize": {1: "roi", 2: "scales", 3: "sizes"},
    "Upsample": {1: "scales"},
    "ConstantOfShape": {0: "shape"},
}

#: the newest opset this onnx knows (its schemas supply defaults for attributes added over time)
LATEST_OPSET = onnx.defs.onnx_opset_version()
#: attributes whose value does not change what is computed
IGNORED = frozenset({"training_mode_unused"})


def python_value(value: Any) -> Any:
    """A hashable, exact-enough Python value for an attribute or a small constant."""
    kind = type(value)
    if kind is int or kind is str or kind is bool or value is None:
        return value
    if kind is tuple and all(type(item) is int for item in value):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float):
        return float(np.float32(value))
    if isinstance(value, list | tuple):
        return tuple(python_value(item) for item in value)
    if isinstance(value, np.ndarray):
        return python_value(value.tolist()) if value.ndim else python_value(value.item())
    if isinstance(value, onnx.TensorProto):
        array = onnx.numpy_helper.to_array(value)
        return (
            "tensor",
            str(array.dtype),
            tuple(array.shape),
            python_value(array) if array.size <= 64 else None,
        )
    if isinstance(value, onnx.GraphProto):
        return ("graph", value.name, len(value.node))
    return value


def _schema_defaults(op_type: str, domain: str, opset: int) -> dict[str, Any]:
    """Defaults of the op at the model's opset, plus those of attributes later versions added.

    ONNX adds an attribute with a default that keeps the old behaviour (Reshape's ``allowzero`` in
    opset 14, Resize's ``antialias`` in 18), so the same op written at opset 13 and at 21 must compare
    equal: the newest schema's defaults fill in what the model's own version does not have.
    """
    merged = dict(_cached_defaults(op_type, domain, LATEST_OPSET))
    merged.update(_cached_defaults(op_type, domain, opset))
    return merged


@lru_cache(maxsize=1024)
def _cached_defaults(op_type: str, domain: str, opset: int) -> tuple[tuple[str, Any], ...]:
    return tuple(_read_defaults(op_type, domain, opset).items())


def _read_defaults(op_type: str, domain: str, opset: int) -> dict[str, Any]:
    try:
        schema = onnx.defs.get_schema(op_type, opset, domain)
    except onnx.defs.SchemaError:
        return {}
    defaults = {}
    for name, attribute in schema.attributes.items():
        if attribute.default_value.type != AttributeProto.UNDEFINED:
            defaults[name] = python_value(helper.get_attribute_value(attribute.default_value))
    return defaults


def with_defaults(op_type: str, attrs: dict[str, Any], opset: int) -> dict[str, Any]:
    """Attributes of a standard op built by a rewrite, normalised exactly like loaded ones."""
    merged = _schema_defaults(op_type, "", opset)
    merged.update({name: python_value(value) for name, value in attrs.items()})
    normalise_spatial(op_type, merged)
    return merged


def semantic_attrs(
    node: onnx.NodeProto, opset: int, constant: Callable[[str], np.ndarray | None]
) -> tuple[dict[str, Any], list[str]]:
    """The node's semantic attributes and the inputs that remain data inputs after lifting constants."""
    attrs = _schema_defaults(node.op_type, node.domain, opset)
    for attribute in node.attribute:
        if attribute.name not in IGNORED:
            attrs[attribute.name] = python_value(helper.get_attribute_value(attribute))
    inputs = list(node.input)
    lifted = LIFTED_INPUTS.get(node.op_type, {}) if node.domain in ("", "ai.onnx") else {}
    for index in sorted(lifted, reverse=True):
        if index < len(inputs) and inputs[index]:
            value = constant(inputs[index])
            if value is not None:
                attrs[lifted[index]] = python_value(value)
                inputs[index] = ""
    while inputs and inputs[-1] == "":
        inputs.pop()
    normalise_spatial(node.op_type, attrs)
    return attrs, inputs


def normalise_spatial(op_type: str, attrs: dict[str, Any]) -> None:
    """Fill rank-dependent defaults of conv and pooling ops so written-out defaults compare equal."""
    if op_type not in ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool"):
        return
    kernel = attrs.get("kernel_shape")
    if not kernel:
        return
    rank = len(kernel)
    attrs.setdefault("strides", (1,) * rank)
    attrs.setdefault("dilations", (1,) * rank)
    if op_type == "ConvTranspose":
        attrs.setdefault("output_padding", (0,) * rank)
    if attrs.get("auto_pad", "NOTSET") in ("NOTSET", "VALID"):
        attrs.setdefault("pads", (0,) * (2 * rank))
        if attrs.get("auto_pad") == "VALID":
            attrs["auto_pad"] = "NOTSET"
