"""ONNX → neutral Graph: parameters by reference, shapes inferred on a weight-free copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from parity.errors import BadInput
from parity.ir.attributes import normalise_spatial, semantic_attrs
from parity.ir.graph import Graph, Node, Param, SourceNames, ValueInfo
from parity.ir.onnx_file import DEFAULT_MAX_MODEL_BYTES, captures, read_onnx

#: initializers up to this many elements stay in the shape-inference copy (shape tensors, scalars)
SMALL_CONSTANT = 4096

#: contrib ops replaced by a standard op of the same output shape, for shape inference only
SHAPE_PROXIES: dict[tuple[str, str], tuple[str, tuple[int, ...]]] = {
    ("com.microsoft", "FusedConv"): ("Conv", (0, 1, 2)),
    ("com.microsoft", "FusedGemm"): ("Gemm", (0, 1, 2)),
    ("com.microsoft", "FusedMatMul"): ("MatMul", (0, 1)),
    ("com.microsoft", "Gelu"): ("Erf", (0,)),
    ("com.microsoft", "FastGelu"): ("Erf", (0,)),
    ("com.microsoft", "BiasGelu"): ("Add", (0, 1)),
    ("com.microsoft", "SkipLayerNormalization"): ("LayerNormalization", (0, 2, 3)),
    ("com.microsoft", "SkipSimplifiedLayerNormalization"): ("Identity", (0,)),
    ("", "SimplifiedLayerNormalization"): ("Identity", (0,)),
    ("com.microsoft", "QuickGelu"): ("Identity", (0,)),
    ("com.microsoft", "BiasSplitGelu"): ("Identity", (0,)),
    ("com.microsoft", "BiasAdd"): ("Add", (0, 1)),
    ("com.microsoft", "RotaryEmbedding"): ("Identity", (0,)),
    ("com.microsoft", "MultiHeadAttention"): ("Identity", (0,)),
    ("com.microsoft", "Attention"): ("Identity", (0,)),
    ("com.microsoft", "QLinearAdd"): ("Add", (0, 3)),
    ("com.microsoft", "QLinearMul"): ("Mul", (0, 3)),
    ("com.microsoft", "QLinearGlobalAveragePool"): ("GlobalAveragePool", (0,)),
    ("com.microsoft", "QLinearAveragePool"): ("AveragePool", (0,)),
    ("com.microsoft", "QLinearSigmoid"): ("Sigmoid", (0,)),
    ("com.microsoft", "QLinearLeakyRelu"): ("Identity", (0,)),
    ("com.microsoft", "QLinearSoftmax"): ("Identity", (0,)),
    ("com.microsoft", "QGemm"): ("Gemm", (0, 3)),
    ("com.microsoft", "QLinearConcat"): ("Concat", (2, 5, 8, 11, 14, 17, 20, 23)),
    ("com.microsoft.nchwc", "Conv"): ("Conv", (0, 1, 2)),
    ("com.microsoft.nchwc", "MaxPool"): ("MaxPool", (0,)),
    ("com.microsoft.nchwc", "AveragePool"): ("AveragePool", (0,)),
    ("com.microsoft.nchwc", "GlobalAveragePool"): ("GlobalAveragePool", (0,)),
    ("com.microsoft.nchwc", "GlobalMaxPool"): ("GlobalMaxPool", (0,)),
    ("com.microsoft.nchwc", "ReorderInput"): ("Identity", (0,)),
    ("com.microsoft.nchwc", "Upsample"): ("Identity", (0,)),
}
#: attributes a proxy keeps (the rest belong to the contrib op only)
PROXY_ATTRIBUTES = frozenset(
    {
        "kernel_shape",
        "strides",
        "pads",
        "dilations",
        "group",
        "auto_pad",
        "ceil_mode",
        "transA",
        "transB",
        "alpha",
        "beta",
        "epsilon",
        "axis",
    }
)


def load_graph(
    path: str | Path, max_bytes: int = DEFAULT_MAX_MODEL_BYTES, like: Graph | None = None
) -> Graph:
    """Load an ONNX file into a neutral Graph (validated; weights referenced, not copied).

    ``like`` is the graph this one is compared with: where an input of this one has a symbolic or
    unknown dimension that ``like``'s input has fixed, shapes are inferred at ``like``'s value (the
    comparison is over the inputs both accept), and the notes say so.
    """
    path = Path(path)
    notes: list[str] = []
    model = read_onnx(path, max_bytes, notes)
    bound = _bound_dimensions(model, like) if like is not None else {}
    try:
        graph = graph_from_model(model, path, bound)
    except ValueError as exc:
        raise BadInput(f"cannot read the graph: {exc}", path) from None
    if bound:
        said = ", ".join(
            f"{name}[{axis}]={size}" for name, dims in bound.items() for axis, size in sorted(dims.items())
        )
        notes.append(f"symbolic input dimensions taken at the other model's sizes: {said}")
    graph.notes = notes
    return graph


def _bound_dimensions(model: onnx.ModelProto, like: Graph) -> dict[str, dict[int, int]]:
    """Per input, the axes symbolic here and fixed in ``like``'s matching input, with ``like``'s size.

    Inputs match by name, else by position among the inputs (a tool may rename them).
    """
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    bound: dict[str, dict[int, int]] = {}
    for index, value in enumerate(inputs):
        other = value.name if value.name in like.inputs else None
        if other is None and len(inputs) == len(like.inputs):
            other = like.inputs[index]
        shape = like.values.get(other, ValueInfo()).shape if other is not None else None
        dims = value.type.tensor_type.shape.dim if value.type.HasField("tensor_type") else []
        if shape is None or len(shape) != len(dims) or not value.type.tensor_type.HasField("shape"):
            continue
        fixed = {
            axis: size
            for axis, (dim, size) in enumerate(zip(dims, shape, strict=True))
            if dim.WhichOneof("value") != "dim_value" and isinstance(size, int) and size > 0
        }
        if fixed:
            bound[value.name] = fixed
    return bound


def graph_from_model(
    model: onnx.ModelProto, path: Path | None = None, bound: dict[str, dict[int, int]] | None = None
) -> Graph:
    """Convert a validated ModelProto (``bound``: input axes whose sizes shape inference takes as given)."""
    opsets = {entry.domain or "": entry.version for entry in model.opset_import}
    base_dir = path.parent if path is not None else None
    params: dict[str, Param] = {}
    for tensor in model.graph.initializer:
        params[tensor.name] = _param(tensor, base_dir)
    for node in model.graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            tensor = _constant_tensor(node)
            if tensor is not None:
                params[node.output[0]] = _param(tensor, base_dir, name=node.output[0])
    values = _infer_values(model, bound or {})
    small: dict[str, np.ndarray | None] = {}

    def constant(name: str) -> np.ndarray | None:
        param = params.get(name)
        if param is None or int(np.prod(param.shape, dtype=np.int64)) > SMALL_CONSTANT:
            return None
        if name not in small:
            small[name] = param.values()
        return small[name]

    nodes: dict[str, Node] = {}
    for index, proto in enumerate(model.graph.node):
        if proto.op_type == "Constant" and proto.output[0] in params:
            continue
        name = proto.name or f"{proto.op_type}_{index}"
        while name in nodes:
            name = f"{name}_{index}"
        opset = opsets.get(proto.domain or "", opsets.get("", 1))
        attrs, inputs = semantic_attrs(proto, opset, constant)
        if proto.op_type in ("Conv", "ConvTranspose") and "kernel_shape" not in attrs and len(inputs) > 1:
            weight = params.get(inputs[1])
            if weight is not None:
                attrs["kernel_shape"] = tuple(weight.shape[2:])
                normalise_spatial(proto.op_type, attrs)
        op = proto.op_type if proto.domain in ("", "ai.onnx") else f"{proto.domain}.{proto.op_type}"
        nodes[name] = Node(
            name=name, op=op, inputs=inputs, outputs=list(proto.output), attrs=attrs, captures=captures(proto)
        )
    graph = Graph(
        name=model.graph.name,
        nodes=nodes,
        inputs=[value.name for value in model.graph.input if value.name not in params],
        outputs=[value.name for value in model.graph.output],
        values=values,
        params=params,
        opsets=opsets,
        path=None if path is None else str(path),
    )
    for _ in graph.topological():  # raises ValueError on a cycle
        pass
    graph.source = SourceNames(
        inputs=tuple(graph.inputs),
        outputs=tuple(graph.outputs),
        writers={value: node.name for node in nodes.values() for value in node.outputs if value},
        reads={node.name: tuple(v for v in node.inputs if v) for node in nodes.values()},
        ops={node.name: node.op for node in nodes.values()},
    )
    return graph


def _constant_tensor(node: onnx.NodeProto) -> onnx.TensorProto | None:
    for attribute in node.attribute:
        if attribute.name == "value":
            return attribute.t
        if attribute.name in ("value_float", "value_int", "value_floats", "value_ints"):
            value = onnx.helper.get_attribute_value(attribute)
            dtype = np.float32 if "float" in attribute.name else np.int64
            return numpy_helper.from_array(np.array(value, dtype=dtype), node.output[0])
    return None


def _param(tensor: onnx.TensorProto, base_dir: Path | None, name: str | None = None) -> Param:
    dtype = onnx.TensorProto.DataType.Name(tensor.data_type)
    shape = tuple(int(d) for d in tensor.dims)
    if tensor.data_location == onnx.TensorProto.EXTERNAL and base_dir is not None:
        loader = _external_loader(tensor, base_dir, shape)
    else:
        loader = _embedded_loader(tensor)
    return Param(name=name or tensor.name, dtype=dtype, shape=shape, load=loader)


def _embedded_loader(tensor: onnx.TensorProto):
    def load() -> np.ndarray:
        return numpy_helper.to_array(tensor)

    return load


def _external_loader(tensor: onnx.TensorProto, base_dir: Path, shape: tuple[int, ...]):
    info = {entry.key: entry.value for entry in tensor.external_data}
    location = base_dir / info["location"]
    offset = int(info.get("offset", 0) or 0)
    np_dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)

    def load() -> np.ndarray:
        count = int(np.prod(shape, dtype=np.int64))
        return np.memmap(location, dtype=np_dtype, mode="r", offset=offset, shape=(count,)).reshape(shape)

    return load


def _infer_values(model: onnx.ModelProto, bound: dict[str, dict[int, int]]) -> dict[str, ValueInfo]:
    """Shapes and dtypes of every value, inferred on a copy without large weights (``bound`` axes fixed)."""
    light = onnx.ModelProto()
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    light.functions.extend(model.functions)
    graph = light.graph
    graph.name = model.graph.name
    graph.input.extend(model.graph.input)
    for value in graph.input:
        for axis, size in bound.get(value.name, {}).items():
            value.type.tensor_type.shape.dim[axis].dim_value = size
    graph.output.extend(model.graph.output)
    graph.value_info.extend(model.graph.value_info)
    declared = {value.name for value in model.graph.input}
    for tensor in model.graph.initializer:
        if (
            int(np.prod(tensor.dims, dtype=np.int64)) <= SMALL_CONSTANT
            and tensor.data_location != onnx.TensorProto.EXTERNAL
        ):
            graph.initializer.append(tensor)
        elif tensor.name not in declared:
            graph.input.append(
                onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, list(tensor.dims))
            )
    for node in model.graph.node:
        if (node.domain, node.op_type) == ("com.microsoft.nchwc", "ReorderOutput"):
            _reorder_output_proxy(graph, node)
            continue
        if (node.domain, node.op_type) == ("com.microsoft.nchwc", "Upsample"):
            _upsample_proxy(graph, node)
            continue
        proxy = SHAPE_PROXIES.get((node.domain, node.op_type))
        if proxy is None:
            graph.node.append(node)
            continue
        copy = graph.node.add()
        copy.name, copy.op_type, copy.domain = node.name, proxy[0], ""
        picked = [node.input[i] if i < len(node.input) else "" for i in proxy[1]]
        if proxy[0] == "Concat":
            picked = [value for value in picked if value]
        copy.input.extend(picked)
        copy.output.extend(node.output[:1])
        keep = PROXY_ATTRIBUTES if proxy[0] not in ("Identity", "Erf", "Add", "MatMul") else frozenset()
        if proxy[0] == "LayerNormalization":
            keep = frozenset({"epsilon"})
        copy.attribute.extend(a for a in node.attribute if a.name in keep)
    try:
        inferred = infer_shapes(light)
    except Exception:  # inference is best effort: shapes it cannot infer stay unknown
        inferred = light
    values: dict[str, ValueInfo] = {}
    for value in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        values[value.name] = value_info_of(value)
    return values


#: the longest one-dimensional value onnx may propagate data through (shape tensors have a few entries;
#: onnx's data propagation allocates per declared entry: a declared [2**31] took 8 GB)
MAX_PROPAGATED = 1 << 22


def infer_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Shape inference by onnx, with data propagation only where no 1-D value is declared too long for it."""
    declared = [*model.graph.input, *model.graph.value_info, *model.graph.output]
    long_vector = any(
        len(value.type.tensor_type.shape.dim) == 1
        and value.type.tensor_type.shape.dim[0].dim_value > MAX_PROPAGATED
        for value in declared
    ) or any(len(t.dims) == 1 and t.dims[0] > MAX_PROPAGATED for t in model.graph.initializer)
    return onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=not long_vector)


def _reorder_output_proxy(graph: onnx.GraphProto, node: onnx.NodeProto) -> None:
    """ReorderOutput(channels=C[, channels_last]) for shape inference: the first C channels, maybe NHWC.

    NCHWc tensors may hold more channels than the model (padding to the block size); ReorderOutput cuts
    them off, so an Identity in its place would give every later tensor the padded count.
    """
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    source, out = node.input[0], node.output[0]
    if "channels" in attrs:
        bounds = f"{out}#channels"
        graph.initializer.extend(
            numpy_helper.from_array(np.array(v, dtype=np.int64), f"{bounds}.{k}")
            for k, v in (("starts", [0]), ("ends", [int(attrs["channels"])]), ("axes", [1]))
        )
        sliced = f"{out}#sliced"
        graph.node.append(
            onnx.helper.make_node(
                "Slice", [source, f"{bounds}.starts", f"{bounds}.ends", f"{bounds}.axes"], [sliced]
            )
        )
        source = sliced
    if attrs.get("channels_last"):
        graph.node.append(onnx.helper.make_node("Transpose", [source], [out], perm=[0, 2, 3, 1]))
    else:
        graph.node.append(onnx.helper.make_node("Identity", [source], [out]))


def _upsample_proxy(graph: onnx.GraphProto, node: onnx.NodeProto) -> None:
    """NCHWc Upsample(scales=ints) for shape inference: a nearest Resize by those scales."""
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    scales = f"{node.output[0]}#scales"
    graph.initializer.append(
        numpy_helper.from_array(np.array(attrs.get("scales", [1, 1, 1, 1]), dtype=np.float32), scales)
    )
    graph.node.append(onnx.helper.make_node("Resize", [node.input[0], "", scales], [node.output[0]]))


def value_info_of(value: onnx.ValueInfoProto) -> ValueInfo:
    """Element type and shape of an ONNX value (symbolic dimensions as their names)."""
    kind = value.type.WhichOneof("value")
    if kind != "tensor_type":
        return ValueInfo()
    tensor = value.type.tensor_type
    dtype = onnx.TensorProto.DataType.Name(tensor.elem_type) if tensor.elem_type else None
    if not tensor.HasField("shape"):
        return ValueInfo(dtype, None)
    dims: list[Any] = []
    for dim in tensor.shape.dim:
        which = dim.WhichOneof("value")
        dims.append(dim.dim_value if which == "dim_value" else (dim.dim_param or None))
    return ValueInfo(dtype, tuple(dims))
