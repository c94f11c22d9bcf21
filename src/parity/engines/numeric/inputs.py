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

DEFAULT_SAMPLES = 4
DEFAULT_SEED = 0


def _numpy_type(dtype: str | None) -> np.dtype:
    if dtype is None:
        return np.dtype(np.float32)
    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(onnx.TensorProto.DataType.Value(dtype)))


def _static(shape) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d > 0 else 1 for d in (shape or ()))


def random_inputs(graph: Graph, samples: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded inputs matching each graph input's type and shape (unknown dimensions become 1)."""
    rng = np.random.default_rng(seed)
    found = {}
    for name in graph.inputs:
        info = graph.value_info(name)
        dtype = _numpy_type(info.dtype)
        shape = (samples, *_static(info.shape)[1:]) if info.shape else (samples,)
        if np.issubdtype(dtype, np.floating):
            found[name] = rng.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            found[name] = rng.integers(0, 2, shape).astype(np.bool_)
        else:
            found[name] = rng.integers(0, 10, shape).astype(dtype)
    return found


def load_inputs(path: Path, graph: Graph) -> dict[str, np.ndarray]:
    """Read and validate the user's samples for ``graph``.

    Raises:
        BadInput: not an .npz of arrays, a missing input, or a wrong element type or shape.
    """
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError) as exc:
        raise BadInput(f"not a readable .npz of arrays ({type(exc).__name__})", path) from None
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
        if declared and (
            array.ndim != len(declared)
            or any(
                isinstance(d, int) and d > 0 and d != a
                for d, a in zip(declared[1:], array.shape[1:], strict=False)
            )
        ):
            raise BadInput(
                f"input {name!r} has shape {list(array.shape)}, the model expects "
                f"{[d if isinstance(d, int) else '?' for d in declared]} (first axis = samples)",
                path,
            )
    counts = {arrays[name].shape[0] for name in graph.inputs}
    if len(counts) != 1:
        raise BadInput("inputs have different numbers of samples on their first axis", path)
    return {name: arrays[name] for name in graph.inputs}


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
