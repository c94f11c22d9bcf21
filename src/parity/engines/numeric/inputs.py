"""Sample inputs: the user's .npz (one array per graph input, first axis = samples) or seeded random.

Inputs are checked against both models' declared inputs (name, element type, shape) before anything
runs, and written once per model under that model's input names (inputs are paired by position).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from parity.errors import BadInput
from parity.ir import Graph
from parity.ir.npz_file import read_npz

DEFAULT_SAMPLES = 4
DEFAULT_SEED = 0


def _numpy_type(dtype: str | None) -> np.dtype:
    if dtype is None:
        return np.dtype(np.float32)
    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(onnx.TensorProto.DataType.Value(dtype)))


def _static(shape) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d > 0 else 1 for d in (shape or ()))


#: how the user's arrays lay out samples, as the report states it
CONVENTIONS = {
    "batch_axis": "one sample per row of the model's batch axis ([N, *input_shape[1:]])",
    "feeds": "one full model feed per sample ([N, *input_shape], as Polygraphy's data loaders write)",
}


def random_inputs(graph: Graph, samples: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded feeds for every graph input: [samples, *input shape] (unknown dimensions become 1).

    Floats are standard normal. Integer inputs get values a model of that input's name expects: masks
    all ones, token-type ids zeros, position ids counting up the last axis, other ids small and
    non-negative (in any vocabulary); booleans are random.
    """
    rng = np.random.default_rng(seed)
    found = {}
    for name in graph.inputs:
        info = graph.value_info(name)
        dtype = _numpy_type(info.dtype)
        shape = (samples, *_static(info.shape)) if info.shape else (samples,)
        lowered = name.lower()
        if np.issubdtype(dtype, np.floating):
            found[name] = rng.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            found[name] = rng.integers(0, 2, shape).astype(np.bool_)
        elif "mask" in lowered:
            found[name] = np.ones(shape, dtype=dtype)
        elif "type" in lowered and "id" in lowered:
            found[name] = np.zeros(shape, dtype=dtype)
        elif "position" in lowered:
            found[name] = np.broadcast_to(np.arange(shape[-1], dtype=dtype), shape).copy()
        else:
            found[name] = rng.integers(0, 10, shape).astype(dtype)
    return found


def load_inputs(path: Path, graph: Graph) -> tuple[dict[str, np.ndarray], str]:
    """Read and validate the user's samples for ``graph``: feeds [N, *input shape] and the layout read.

    Two layouts are read (``CONVENTIONS``): samples on the model's batch axis ([N, *input_shape[1:]],
    the model's batch dimension 1 or dynamic), or one full feed per sample ([N, *input_shape]).

    Raises:
        BadInput: not an .npz of arrays, a missing input, or a wrong element type or shape.
    """
    arrays = read_npz(path)
    feeds, conventions = {}, set()
    for name in graph.inputs:
        if name not in arrays:
            raise BadInput(
                f"no array for model input {name!r} (found: {', '.join(sorted(arrays)) or 'none'})", path
            )
        info, array = graph.value_info(name), arrays[name]
        expected = _numpy_type(info.dtype)
        if array.dtype != expected:
            raise BadInput(f"input {name!r} is {array.dtype}, the model expects {expected}", path)
        declared = tuple(info.shape or ())
        feeds[name], convention = _as_feeds(name, array, declared, path)
        conventions.add(convention)
    if len(conventions) > 1:
        raise BadInput("inputs mix the two layouts (samples on the batch axis, and full feeds)", path)
    counts = {feeds[name].shape[0] for name in graph.inputs}
    if len(counts) != 1:
        raise BadInput("inputs have different numbers of samples on their first axis", path)
    if counts == {0}:
        raise BadInput("the inputs hold no sample", path)
    return feeds, next(iter(conventions), "feeds")


def _fits(dims: tuple, declared: tuple) -> bool:
    return len(dims) == len(declared) and all(
        not (isinstance(d, int) and d > 0) or d == a for d, a in zip(declared, dims, strict=True)
    )


def _as_feeds(name: str, array: np.ndarray, declared: tuple, path: Path) -> tuple[np.ndarray, str]:
    shown = [d if isinstance(d, int) else "?" for d in declared]
    if not declared:
        return array, "feeds"
    if array.ndim == len(declared) + 1 and _fits(array.shape[1:], declared):
        return array, "feeds"
    batch = declared[0]
    if array.ndim == len(declared) and _fits(array.shape[1:], declared[1:]):
        if isinstance(batch, int) and batch > 1:
            raise BadInput(
                f"input {name!r}: the model's batch axis is {batch}; give one full feed per sample, "
                f"shape [N, {', '.join(map(str, shown))}]",
                path,
            )
        return array.reshape(array.shape[0], 1, *array.shape[1:]), "batch_axis"
    raise BadInput(
        f"input {name!r} has shape {list(array.shape)}, the model expects {shown}: give samples on the "
        f"batch axis [N, {', '.join(map(str, shown[1:]))}] or full feeds [N, {', '.join(map(str, shown))}]",
        path,
    )


def write_for(
    graph: Graph, samples: dict[str, np.ndarray], reference_order: list[str], path: Path
) -> list[str]:
    """Write ``samples`` (keyed by the reference's input names) under ``graph``'s input names.

    A floating input the model declares in another float format (fp16 inputs after a conversion without
    ``keep_io_types``) gets the samples cast to that format, as the model's user must; the casts are
    returned, one line each, for the report.
    """
    by_position = [samples[name] for name in reference_order]
    arrays, casts = {}, []
    for name, array in zip(graph.inputs, by_position, strict=False):
        declared = _numpy_type(graph.value_info(name).dtype)
        if (
            array.dtype != declared
            and np.issubdtype(array.dtype, np.floating)
            and np.issubdtype(declared, np.floating)
        ):
            casts.append(f"{name}: {array.dtype} cast to {declared}")
            array = array.astype(declared)
        arrays[name] = array
    np.savez(path, **arrays)
    return casts
