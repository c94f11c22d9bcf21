"""Reading an untrusted ONNX file.

Size limit, parse, external data confined to the model's folder, known operator domains, node order, and
onnx.checker; every failure is one BadInput line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from parity.errors import BadInput

DEFAULT_MAX_MODEL_BYTES = 4 * 1024**3
KNOWN_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.microsoft.nchwc", "ai.onnx.preview.training"}
)


def read_onnx(path: str | Path, max_bytes: int = DEFAULT_MAX_MODEL_BYTES) -> onnx.ModelProto:
    """Parse and validate an ONNX model without loading its external data.

    Raises:
        BadInput: not a file, over the size limit, not ONNX, truncated, unknown operator domain, external
            data outside the model's folder or past the end of its file, or rejected by onnx.checker.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput("model file not found", path)
    size = path.stat().st_size
    if size > max_bytes:
        raise BadInput(f"model is {size} bytes, over the {max_bytes} byte limit (--max-model-bytes)", path)
    if size == 0:
        raise BadInput("model file is empty", path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError, OSError) as exc:
        raise BadInput(f"not an ONNX model or truncated ({type(exc).__name__})", path) from None
    if not model.HasField("graph") or not model.graph.node:
        raise BadInput("not an ONNX model (no graph or no nodes)", path)
    _check_domains(model, path)
    external_total = _check_external_data(model, path)
    if size + external_total > max_bytes:
        raise BadInput(f"model with external data is {size + external_total} bytes, over the limit", path)
    if not _sort_nodes(model.graph):
        raise BadInput("the graph has a cycle", path)
    try:
        checked = model if not external_total else _without_external_data(model)
        onnx.checker.check_model(_runtime_ops_in_their_domain(checked))
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInput(f"invalid ONNX model: {first}", path) from None
    return model


#: operators onnxruntime registers in the default ONNX domain although ONNX does not define them; its
#: optimisers write them (SimplifiedLayerNormalization: RMSNorm at ORT_ENABLE_EXTENDED and above)
RUNTIME_OPS_IN_DEFAULT_DOMAIN = frozenset({"SimplifiedLayerNormalization"})


def _runtime_ops_in_their_domain(model: onnx.ModelProto) -> onnx.ModelProto:
    """For onnx.checker only: onnxruntime's own ops in the default domain are checked as contrib ops."""
    if not any(
        n.op_type in RUNTIME_OPS_IN_DEFAULT_DOMAIN and n.domain in ("", "ai.onnx") for n in model.graph.node
    ):
        return model
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for node in copy.graph.node:
        if node.op_type in RUNTIME_OPS_IN_DEFAULT_DOMAIN and node.domain in ("", "ai.onnx"):
            node.domain = "com.microsoft"
    if not any(entry.domain == "com.microsoft" for entry in copy.opset_import):
        copy.opset_import.add(domain="com.microsoft", version=1)
    return copy


def _sort_nodes(graph: onnx.GraphProto) -> bool:
    """Put nodes in topological order in place; return False if the graph has a cycle.

    onnxruntime accepts unordered graphs (its float16 converter writes them), onnx.checker does not.
    """
    producers = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    waiting = [0] * len(graph.node)
    readers: dict[int, list[int]] = {}
    for i, node in enumerate(graph.node):
        deps = {producers[v] for v in node.input if v in producers}
        waiting[i] = len(deps)
        for dep in deps:
            readers.setdefault(dep, []).append(i)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    order = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for reader in readers.get(i, ()):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    if len(order) != len(graph.node):
        return False
    if order != list(range(len(graph.node))):
        nodes = [graph.node[i] for i in order]
        copies = [onnx.NodeProto() for _ in nodes]
        for copy, node in zip(copies, nodes, strict=True):
            copy.CopyFrom(node)
        del graph.node[:]
        graph.node.extend(copies)
    return True


def _without_external_data(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose external tensors become typed graph inputs.

    onnx.checker then validates the structure without reading weights; the external references themselves
    were checked by :func:`_check_external_data`.
    """
    light = onnx.ModelProto()
    light.CopyFrom(model)
    external = [t for t in light.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    declared = {value.name for value in light.graph.input}
    for tensor in external:
        if tensor.name not in declared:
            light.graph.input.append(
                onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, list(tensor.dims))
            )
    kept = [t for t in light.graph.initializer if t.data_location != onnx.TensorProto.EXTERNAL]
    del light.graph.initializer[:]
    light.graph.initializer.extend(kept)
    return light


def _check_domains(model: onnx.ModelProto, path: Path) -> None:
    local = {function.domain for function in model.functions}
    for node in model.graph.node:
        if node.domain not in KNOWN_DOMAINS and node.domain not in local:
            raise BadInput(
                f"unknown operator domain {node.domain!r} (node {node.name or node.op_type!r})", path
            )


def _check_external_data(model: onnx.ModelProto, path: Path) -> int:
    """Validate every external-data reference; return the number of external bytes."""
    folder = path.parent.resolve()
    total = 0
    for tensor in _all_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {entry.key: entry.value for entry in tensor.external_data}
        location = info.get("location", "")
        target = (folder / location).resolve()
        if not location or os.path.isabs(location) or not target.is_relative_to(folder):
            raise BadInput(
                f"external data of {tensor.name!r} points outside the model's folder: {location!r}", path
            )
        if not target.is_file():
            raise BadInput(f"external data file of {tensor.name!r} not found: {location!r}", path)
        offset, length = int(info.get("offset", 0) or 0), info.get("length")
        file_size = target.stat().st_size
        length = file_size - offset if length is None else int(length)
        if offset < 0 or length < 0 or offset + length > file_size:
            raise BadInput(f"external data of {tensor.name!r} lies past the end of {location!r}", path)
        total += length
    return total


def _all_tensors(model: onnx.ModelProto):
    yield from model.graph.initializer
    for node in model.graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                yield attribute.t
