"""Neutral Graph → ONNX, so a canonicalised graph can be run and compared with the model it came from.

This is how the tests prove every rewrite preserves semantics: canonicalise a real model, export it,
run both with onnxruntime, compare outputs. Lifted attributes go back to being constant inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from parity.ir.attributes import LIFTED_INPUTS
from parity.ir.graph import Graph

#: element type of a lifted attribute when it goes back to being an input
_LIFTED_TYPES = {
    "min": "value",
    "max": "value",
    "constant_value": "value",
    "ratio": np.float32,
    "training_mode": np.bool_,
    "scales": np.float32,
    "roi": np.float32,
}


FLOATS = frozenset({"FLOAT", "FLOAT16", "BFLOAT16", "DOUBLE"})


def unlift(
    op_type: str, attrs: dict[str, Any], inputs: list[str], data_type: Any, prefix: str
) -> tuple[list[str], dict[str, np.ndarray], dict[str, Any]]:
    """Lifted attributes back to constant inputs, as the newest opsets write them.

    Returns the node's inputs (constants named ``prefix.<attribute>``), the constants, and the
    attributes that remain attributes. ``data_type`` is the numpy type of the node's first input, which
    the bounds of Clip and the fill value of Pad take.
    """
    inputs, attrs, constants = list(inputs), dict(attrs), {}
    for index, name in sorted(LIFTED_INPUTS.get(op_type, {}).items()):
        if name not in attrs:
            continue
        value = attrs.pop(name)
        dtype = _LIFTED_TYPES.get(name, np.int64)
        if dtype == "value":
            dtype = data_type
        constant = f"{prefix}.{name}"
        constants[constant] = np.array(value, dtype=dtype)
        while len(inputs) <= index:
            inputs.append("")
        inputs[index] = constant
    return inputs, constants, attrs


def graph_to_model(
    graph: Graph,
    opset: int | None = None,
    float_type: str | None = None,
    max_initializer: int | None = None,
) -> onnx.ModelProto:
    """An ONNX model computing what ``graph`` computes (derived parameters materialised).

    With ``float_type`` (e.g. 'FLOAT') every floating parameter and value uses that type: a canonical
    graph has no precision casts left, so this is how a reduced-precision candidate is run. With
    ``max_initializer``, larger parameters become typed graph inputs instead of values (a light model
    for shape inference, whose weights are never read).
    """
    opset = opset or graph.opsets.get("", 17)

    def float_of(dtype: str | None) -> str | None:
        return float_type if float_type and dtype in FLOATS else dtype

    initializers: dict[str, onnx.TensorProto] = {}
    declared: dict[str, onnx.ValueInfoProto] = {}
    nodes = []
    for node in graph.topological():
        domain, _, op_type = node.op.rpartition(".") if "." in node.op else ("", "", node.op)
        inputs, attrs = list(node.inputs), dict(node.attrs)
        if not domain:
            data_type = _dtype(graph, inputs[0]) if inputs and inputs[0] else np.float32
            inputs, constants, attrs = unlift(op_type, attrs, inputs, data_type, node.name)
            attrs = _known_at(op_type, opset, attrs)
            for constant, array in constants.items():
                initializers[constant] = numpy_helper.from_array(array, constant)
        used = {value for value in inputs if value}
        for value in used & graph.params.keys():
            if value not in initializers and value not in declared:
                param = graph.params[value]
                if (
                    max_initializer is not None
                    and int(np.prod(param.shape, dtype=np.int64)) > max_initializer
                ):
                    declared[value] = helper.make_tensor_value_info(
                        value, TensorProto.DataType.Value(float_of(param.dtype)), list(param.shape)
                    )
                    continue
                np_type = helper.tensor_dtype_to_np_dtype(TensorProto.DataType.Value(float_of(param.dtype)))
                with np.errstate(all="ignore"):  # a hostile value cast to float: inf, observed downstream
                    cast = np.asarray(param.values()).astype(np_type)
                initializers[value] = numpy_helper.from_array(cast, value)
        nodes.append(
            helper.make_node(
                op_type,
                inputs,
                node.outputs,
                name=node.name,
                domain=domain,
                **{k: onnx_attribute(v) for k, v in attrs.items() if onnx_attribute(v) is not None},
            )
        )

    def info(value: str) -> onnx.ValueInfoProto:
        found = graph.value_info(value)
        dtype = TensorProto.DataType.Value(float_of(found.dtype)) if found.dtype else TensorProto.FLOAT
        return helper.make_tensor_value_info(value, dtype, list(found.shape) if found.shape else None)

    for value in graph.outputs:
        if value in graph.params and value not in initializers:
            param = graph.params[value]
            initializers[value] = numpy_helper.from_array(np.asarray(param.values(), dtype=np.float32), value)
    domains = {node.op.rpartition(".")[0] for node in graph.nodes.values() if "." in node.op}
    imports = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in sorted(domains)]
    model = helper.make_model(
        helper.make_graph(
            nodes,
            graph.name,
            [info(v) for v in graph.inputs] + list(declared.values()),
            [info(v) for v in graph.outputs],
            list(initializers.values()),
        ),
        opset_imports=imports,
    )
    model.ir_version = 8
    return model


def _known_at(op_type: str, opset: int, attrs: dict[str, Any]) -> dict[str, Any]:
    """The attributes the op's schema at ``opset`` has (the IR also fills in defaults of later versions)."""
    try:
        known = onnx.defs.get_schema(op_type, opset, "").attributes
    except onnx.defs.SchemaError:
        return attrs
    return {name: value for name, value in attrs.items() if name in known}


def _dtype(graph: Graph, value: str) -> Any:
    found = graph.value_info(value).dtype
    return helper.tensor_dtype_to_np_dtype(TensorProto.DataType.Value(found)) if found else np.float32


def onnx_attribute(value: Any) -> Any:
    """An IR attribute value as onnx.helper.make_node takes it (None: not exportable)."""
    if isinstance(value, tuple) and value and value[0] in ("tensor", "graph"):
        return None  # tensors and subgraphs are compared by summary only; not exported
    if isinstance(value, tuple):
        return list(value)
    return value
