"""Reading an untrusted ONNX file.

Size limit, parse, external data confined to the model's folder, known operator domains, node order, and
onnx.checker; every failure is one BadInput line naming the file.
"""

from __future__ import annotations

import heapq
import math
import os
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from parity.errors import BadInput
from parity.untrusted import regular_file

DEFAULT_MAX_MODEL_BYTES = 4 * 1024**3
KNOWN_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.microsoft.nchwc", "ai.onnx.preview.training"}
)


def read_onnx(
    path: str | Path, max_bytes: int = DEFAULT_MAX_MODEL_BYTES, notes: list[str] | None = None
) -> onnx.ModelProto:
    """Parse and validate an ONNX model without loading its external data.

    What the reader had to do to a legal file to read it (restore node order) is appended to ``notes``.

    Raises:
        BadInput: not a file, over the size limit, not ONNX, truncated, unknown operator domain, external
            data outside the model's folder or past the end of its file, or rejected by onnx.checker.
    """
    path = Path(path)
    if not path.exists():
        raise BadInput("model file not found", path)
    size = regular_file(path, "model file").stat().st_size
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
    _check_text(model, path)
    _check_opsets(model, path)
    _check_domains(model, path)
    _check_declared_shapes(model, path)
    external_total = _check_external_data(model, path)
    if size + external_total > max_bytes:
        raise BadInput(f"model with external data is {size + external_total} bytes, over the limit", path)
    moved = _sorted_in_place(model.graph)
    if moved is None:
        raise BadInput("the graph has a cycle", path)
    if moved and notes is not None:
        notes.append(
            f"nodes not in topological order (as onnxruntime writes and accepts them): {moved} of"
            f" {len(model.graph.node)} read in dependency order"
        )
    try:
        checked = model if not external_total else _without_external_data(model)
        onnx.checker.check_model(_runtime_ops_in_their_domain(checked))
    except (
        onnx.checker.ValidationError,
        onnx.shape_inference.InferenceError,
        RuntimeError,
        ValueError,
    ) as exc:
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
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


#: the most elements a declared tensor may have (a 405B model's largest activation has about 2**27)
MAX_DECLARED_ELEMENTS = 1 << 32


def _check_declared_shapes(model: onnx.ModelProto, path: Path) -> None:
    """Refuse shapes claimed in inputs, outputs and value_info that no model computes.

    Shape inference (and anything sized from these shapes) would try to honour them in this process.
    """
    graph = model.graph
    for value in [*graph.input, *graph.output, *graph.value_info]:
        tensor = value.type.tensor_type
        if not tensor.HasField("shape"):
            continue
        count = 1
        for dim in tensor.shape.dim:
            if dim.HasField("dim_value"):
                if dim.dim_value < 0:
                    raise BadInput(f"tensor {value.name[:80]!r} declares a negative dimension", path)
                count *= dim.dim_value
        if count > MAX_DECLARED_ELEMENTS:
            raise BadInput(
                f"tensor {value.name[:80]!r} declares {count} elements,"
                f" over the {MAX_DECLARED_ELEMENTS} limit",
                path,
            )
    for tensor in graph.initializer:
        count = 1
        for dim in tensor.dims:
            count *= max(int(dim), 0)
        if count > MAX_DECLARED_ELEMENTS:
            raise BadInput(f"initializer {tensor.name[:80]!r} claims {count} elements", path)


def _sorted_in_place(graph: onnx.GraphProto) -> int | None:
    """Put nodes in topological order in place, subgraphs too: how many of ``graph``'s moved, None on a cycle.

    onnxruntime accepts unordered graphs (its float16 converter writes them), onnx.checker does not. A
    node with a subgraph (Loop, If, Scan) depends on the outer-scope names its body reads as well as on
    its inputs: EmbeddingBag's Loop reads the offsets and the table that way.
    """
    for node in graph.node:
        for body in _bodies(node):
            if _sorted_in_place(body) is None:
                return None
    producers = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    waiting = [0] * len(graph.node)
    readers: dict[int, list[int]] = {}
    for i, node in enumerate(graph.node):
        deps = {producers[v] for v in _reads(node) if v in producers} - {i}
        waiting[i] = len(deps)
        for dep in deps:
            readers.setdefault(dep, []).append(i)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)  # the lowest index first: a sorted graph keeps its order
        order.append(i)
        for reader in readers.get(i, ()):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, reader)
    if len(order) != len(graph.node):
        return None
    moved = sum(1 for position, i in enumerate(order) if position != i)
    if moved:
        nodes = [graph.node[i] for i in order]
        copies = [onnx.NodeProto() for _ in nodes]
        for copy, node in zip(copies, nodes, strict=True):
            copy.CopyFrom(node)
        del graph.node[:]
        graph.node.extend(copies)
    return moved


def _bodies(node: onnx.NodeProto) -> list[onnx.GraphProto]:
    """The node's subgraphs (an If's branches, a Loop's or Scan's body)."""
    found = []
    for attribute in node.attribute:
        if attribute.HasField("g"):
            found.append(attribute.g)
        found.extend(attribute.graphs)
    return found


def _reads(node: onnx.NodeProto) -> list[str]:
    """The names a node reads: its inputs, and the outer-scope names its subgraphs read (recursively)."""
    names = list(node.input)
    for body in _bodies(node):
        names.extend(_outer_reads(body))
    return names


def _outer_reads(graph: onnx.GraphProto) -> list[str]:
    """Names a subgraph reads that it does not define (its enclosing scopes' values), in the order read."""
    defined = {value.name for value in graph.input}
    defined.update(tensor.name for tensor in graph.initializer)
    defined.update(tensor.values.name for tensor in graph.sparse_initializer)
    defined.update(out for node in graph.node for out in node.output)
    reads = (name for node in graph.node for name in _reads(node) if name and name not in defined)
    return list(dict.fromkeys(reads))


def captures(node: onnx.NodeProto) -> tuple[str, ...]:
    """The outer-scope names a node's subgraphs read (an EmbeddingBag Loop's table and offsets)."""
    return tuple(dict.fromkeys(name for body in _bodies(node) for name in _outer_reads(body)))


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


#: the highest version parity accepts for a custom domain (onnxruntime's own domains are at 1)
MAX_CUSTOM_OPSET = 1000


def _check_opsets(model: onnx.ModelProto, path: Path) -> None:
    """Refuse opset versions onnx does not know: shape inference takes gigabytes on opset 10**6."""
    known = {"": (1, onnx.defs.onnx_opset_version()), "ai.onnx.ml": (1, onnx.defs.onnx_ml_opset_version())}
    versions = getattr(onnx.defs, "C", None)
    if versions is not None and hasattr(versions, "schema_version_map"):
        known.update(versions.schema_version_map())
    for opset in model.opset_import:
        domain = "" if opset.domain == "ai.onnx" else opset.domain
        limit = known.get(domain, (1, MAX_CUSTOM_OPSET))[1]
        if not 1 <= opset.version <= limit:
            raise BadInput(
                f"opset {opset.version} of domain {opset.domain or 'ai.onnx'!r} is not one this onnx "
                f"{onnx.__version__} knows (1 to {limit})",
                path,
            )


def _check_domains(model: onnx.ModelProto, path: Path) -> None:
    local = {function.domain for function in model.functions}
    for node in model.graph.node:
        if node.domain not in KNOWN_DOMAINS and node.domain not in local:
            raise BadInput(
                f"unknown operator domain {node.domain!r} (node {node.name or node.op_type!r})", path
            )


def _check_external_data(model: onnx.ModelProto, path: Path) -> int:
    """Validate every tensor's stored data against its dims; return the number of external bytes.

    External references stay in the model's folder and hold exactly the tensor's bytes; embedded data
    has as many bytes (``raw_data``) or values (typed fields) as the dims say. Nothing is read here.
    """
    folder = path.parent.resolve()
    total = 0
    for tensor in _all_tensors(model):
        name = tensor.name[:80]
        expected = _stored_bytes(tensor, path)
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            _check_embedded(tensor, expected, path)
            continue
        if expected is None:
            raise BadInput(f"string tensor {name!r} cannot have external data", path)
        info = {entry.key: entry.value for entry in tensor.external_data}
        location = info.get("location", "")
        if "\x00" in location:
            raise BadInput(f"external data location of {name!r} holds a NUL byte", path)
        if len(location) > 1024 or any(len(part) > 255 for part in location.split("/")):
            raise BadInput(f"external data location of {name!r} is longer than a file name can be", path)
        try:
            target = (folder / location).resolve()
            inside = bool(location) and not os.path.isabs(location) and target.is_relative_to(folder)
            found = inside and target.is_file()
        except OSError as exc:
            raise BadInput(
                f"external data location of {name!r} cannot be read ({exc.strerror})", path
            ) from None
        if not inside:
            raise BadInput(
                f"external data of {name!r} points outside the model's folder: {location[:200]!r}", path
            )
        if not found:
            raise BadInput(f"external data file of {name!r} not found: {location[:200]!r}", path)
        offset, length = info.get("offset", "0") or "0", info.get("length")
        for key, text in (("offset", offset), ("length", length)):
            if text is not None and not text.isdigit():
                raise BadInput(f"external data {key} of {name!r} is not an integer: {text[:40]!r}", path)
        offset, file_size = int(offset), target.stat().st_size
        length = file_size - offset if length is None else int(length)
        if offset + length > file_size:
            raise BadInput(f"external data of {name!r} lies past the end of {location!r}", path)
        if (
            expected is not None
            and length != expected
            and not (info.get("length") is None and length > expected)
        ):
            raise BadInput(
                f"external data length of {name!r} is {length} bytes, its dims need {expected}", path
            )
        total += length
    return total


#: element types stored two to a byte
_PACKED_4BIT = {
    getattr(onnx.TensorProto, name)
    for name in ("INT4", "UINT4", "FLOAT4E2M1")
    if hasattr(onnx.TensorProto, name)
}


def _stored_bytes(tensor: onnx.TensorProto, path: Path) -> int | None:
    """Bytes the dims and type need in raw form (None for strings and unknown types)."""
    if any(dim < 0 for dim in tensor.dims):
        raise BadInput(f"tensor {tensor.name[:80]!r} has a negative dimension", path)
    count = math.prod(tensor.dims)
    if tensor.data_type in _PACKED_4BIT:
        return (count + 1) // 2
    if tensor.data_type == onnx.TensorProto.STRING:
        return None
    if tensor.data_type == onnx.TensorProto.UNDEFINED:
        raise BadInput(f"tensor {tensor.name[:80]!r} has no element type", path)
    try:
        return count * onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (KeyError, ValueError, TypeError):
        raise BadInput(
            f"tensor {tensor.name[:80]!r} has unknown element type {tensor.data_type}", path
        ) from None


def _check_embedded(tensor: onnx.TensorProto, expected: int | None, path: Path) -> None:
    if expected is None:
        return
    name, count = tensor.name[:80], math.prod(tensor.dims)
    if tensor.HasField("raw_data"):
        if len(tensor.raw_data) != expected:
            raise BadInput(
                f"tensor {name!r} holds {len(tensor.raw_data)} bytes, its dims need {expected}", path
            )
        return
    field = onnx.helper.tensor_dtype_to_field(tensor.data_type)
    values = len(getattr(tensor, field))
    needed = {onnx.TensorProto.COMPLEX64: 2 * count, onnx.TensorProto.COMPLEX128: 2 * count}.get(
        tensor.data_type, (count + 1) // 2 if tensor.data_type in _PACKED_4BIT else count
    )
    if values != needed:
        raise BadInput(f"tensor {name!r} holds {values} values, its dims need {needed}", path)


def _graphs(model: onnx.ModelProto):
    """The main graph and every subgraph (If, Loop, Scan bodies), without recursion."""
    stack = [model.graph]
    while stack:
        graph = stack.pop()
        yield graph
        for node in graph.node:
            for attribute in node.attribute:
                stack.extend([attribute.g] if attribute.HasField("g") else [])
                stack.extend(attribute.graphs)


def _nodes(model: onnx.ModelProto):
    for graph in _graphs(model):
        yield from graph.node
    for function in model.functions:
        yield from function.node


def _all_tensors(model: onnx.ModelProto):
    """Every stored tensor: initializers of every graph, and tensor attributes of every node."""
    for graph in _graphs(model):
        yield from graph.initializer
    for node in _nodes(model):
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors


def _check_text(model: onnx.ModelProto, path: Path) -> None:
    """Refuse names and external-data entries that are not UTF-8 (protobuf then hands over bytes)."""
    for node in _nodes(model):
        for text in (node.name, node.op_type, node.domain, *node.input, *node.output):
            if not isinstance(text, str):
                raise BadInput("a node's name, operator or value name is not UTF-8 text", path)
    for tensor in _all_tensors(model):
        if not isinstance(tensor.name, str) or any(
            not isinstance(entry.key, str) or not isinstance(entry.value, str)
            for entry in tensor.external_data
        ):
            raise BadInput("a tensor's name or external-data entry is not UTF-8 text", path)
