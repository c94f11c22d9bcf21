"""Reading an untrusted .safetensors file through a memory map, trusting nothing in its header.

Layout: 8 bytes little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
then the data. Every entry is checked before any byte is read: a known dtype, non-negative integer
shape, offsets inside the data, a size equal to shape × itemsize, and no two tensors overlapping.
"""

from __future__ import annotations

import itertools
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parity import untrusted
from parity.errors import BadInput
from parity.untrusted import echo

#: the largest header read (the safetensors library allows 100 MB; a shard of a 405B model needs under 1 MB,
#: and a 100 MB header of small entries costs over a gigabyte to parse)
MAX_HEADER_BYTES = 16 * 1024 * 1024
#: safetensors dtype → (numpy dtype of the stored bytes, ONNX element type name)
DTYPES = {
    "F64": (np.float64, "DOUBLE"),
    "F32": (np.float32, "FLOAT"),
    "F16": (np.float16, "FLOAT16"),
    "BF16": (np.uint16, "BFLOAT16"),
    "I64": (np.int64, "INT64"),
    "I32": (np.int32, "INT32"),
    "I16": (np.int16, "INT16"),
    "I8": (np.int8, "INT8"),
    "U8": (np.uint8, "UINT8"),
    "U16": (np.uint16, "UINT16"),
    "U32": (np.uint32, "UINT32"),
    "U64": (np.uint64, "UINT64"),
    "BOOL": (np.bool_, "BOOL"),
}


@dataclass(frozen=True)
class StoredTensor:
    """Where one tensor's bytes are, validated; ``load()`` maps them without copying."""

    path: Path
    name: str
    dtype: str
    onnx_type: str
    shape: tuple[int, ...]
    offset: int

    def load(self) -> np.ndarray:
        """The tensor (bfloat16 widened to float32, the only conversion that copies)."""
        stored, _ = DTYPES[self.dtype]
        count = int(np.prod(self.shape, dtype=np.int64))
        array = np.memmap(self.path, dtype=stored, mode="r", offset=self.offset, shape=(count,)).reshape(
            self.shape
        )
        if self.dtype == "BF16":
            return (array.astype(np.uint32) << 16).view(np.float32)
        return array


def read_safetensors(path: str | Path) -> dict[str, StoredTensor]:
    """Validate the header of ``path`` and return its tensors by name.

    Raises:
        BadInput: missing file, malformed or lying header, unknown dtype, overlapping or out-of-file data.
    """
    path = untrusted.regular_file(path, "weights file")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise BadInput("not a safetensors file (shorter than its 8-byte header length)", path)
            (length,) = struct.unpack("<Q", prefix)
            if 8 + length > size:
                raise BadInput(f"header length {length} does not fit the {size}-byte file", path)
            if length > MAX_HEADER_BYTES:
                raise BadInput(f"header of {length} bytes, over the {MAX_HEADER_BYTES}-byte limit", path)
            raw = handle.read(length)
    except OSError as exc:
        raise BadInput(f"cannot read weights ({exc.strerror})", path) from None
    try:
        header = untrusted.loads(raw)
    except untrusted.TooComplex as exc:
        raise BadInput(f"safetensors header is too complex: {exc}", path) from None
    except ValueError:  # not JSON, or not UTF-8
        raise BadInput("safetensors header is not valid JSON", path) from None
    if not isinstance(header, dict):
        raise BadInput("safetensors header is not a JSON object", path)
    data_start, data_size = 8 + length, size - 8 - length
    tensors, spans = {}, []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        tensor = _entry(path, name, entry, data_start, data_size)
        tensors[name] = tensor
        spans.append((tensor.offset, tensor.offset + _nbytes(tensor), name))
    spans.sort()
    for (_, end, first), (start, _, second) in itertools.pairwise(spans):
        if start < end:
            raise BadInput(f"tensors {first!r} and {second!r} overlap", path)
    return tensors


def _nbytes(tensor: StoredTensor) -> int:
    return math.prod(tensor.shape) * np.dtype(DTYPES[tensor.dtype][0]).itemsize


def _entry(path: Path, name: str, entry: object, data_start: int, data_size: int) -> StoredTensor:
    if not isinstance(entry, dict):
        raise BadInput(f"tensor {echo(name)}: header entry is not an object", path)
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise BadInput(f"tensor {echo(name)}: unsupported dtype {echo(dtype)}", path)
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise BadInput(f"tensor {echo(name)}: shape must be a list of non-negative integers", path)
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        raise BadInput(f"tensor {echo(name)}: data_offsets must be two integers", path)
    begin, end = offsets
    expected = math.prod(shape) * np.dtype(DTYPES[dtype][0]).itemsize  # Python integers: no wrap-round
    if not 0 <= begin <= end <= data_size:
        raise BadInput(
            f"tensor {echo(name)}: data_offsets {echo(offsets)} lie outside the {data_size}-byte data", path
        )
    if end - begin != expected:
        raise BadInput(
            f"tensor {echo(name)}: {end - begin} bytes stored for shape {echo(shape)} of {dtype}"
            f" ({expected} bytes)",
            path,
        )
    return StoredTensor(path, name, dtype, DTYPES[dtype][1], tuple(shape), data_start + begin)
