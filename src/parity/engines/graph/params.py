"""Parameters derived from other parameters by a rewrite (folds, transposes, dequantization, casts).

A derived parameter keeps its sources and the transform chain, and computes its values lazily in
float64 from the sources' values, so the weights engine can compare a candidate's stored tensor with the
value the reference implies without this engine ever touching weight buffers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from parity.ir import Graph, Param

FLOAT_TYPES = {"FLOAT": "fp32", "FLOAT16": "fp16", "BFLOAT16": "bf16", "DOUBLE": "fp64"}
#: integer and boolean parameters keep their type when derived (computed in float64 otherwise)
_EXACT_TYPES = {
    "INT64": np.int64,
    "INT32": np.int32,
    "INT16": np.int16,
    "INT8": np.int8,
    "UINT8": np.uint8,
    "BOOL": np.bool_,
}


def derive(
    graph: Graph,
    base: str,
    shape: tuple[int, ...],
    dtype: str,
    transform: str,
    sources: tuple[str, ...],
    compute: Callable[..., np.ndarray],
    info: dict | None = None,
) -> str:
    """Register a parameter computed from ``sources``; return its (new, unique) name."""
    name, index = f"{base}#{transform}", 1
    while name in graph.params or name in graph.producer:
        index += 1
        name = f"{base}#{transform}{index}"
    parents = [graph.params[source] for source in sources]
    chain = (*tuple(step for parent in parents[:1] for step in parent.transform), transform)
    origin = tuple(dict.fromkeys(s for parent in parents for s in (parent.sources or (parent.name,))))

    exact = _EXACT_TYPES.get(dtype)

    def load() -> np.ndarray:
        with np.errstate(all="ignore"):  # a fold of hostile statistics is NaN, observed as such downstream
            found = np.asarray(compute(*(parent.values().astype(np.float64) for parent in parents)))
        return _exactly(found, exact) if exact is not None else found  # shapes and indices stay integers

    merged = {**(parents[0].info if parents else {}), **(info or {})}
    graph.params[name] = Param(
        name=name,
        dtype=dtype,
        shape=tuple(shape),
        load=load,
        transform=chain,
        sources=origin,
        info=merged,
        parents=tuple(parents),
    )
    return name


def _exactly(found: np.ndarray, exact: type) -> np.ndarray:
    """Values computed in float64 back in their integer type, saturating at its limits.

    INT64_MAX (a Slice's "to the end") is 2**63 in float64, which a plain cast wraps to INT64_MIN: an
    end before the start, a dimension of zero length where the model has the whole axis.
    """
    if exact is np.bool_ or not np.issubdtype(found.dtype, np.floating):
        return found.astype(exact)
    limits = np.iinfo(exact)
    with np.errstate(invalid="ignore"):
        high, low = found >= float(limits.max), found <= float(limits.min)
        cast = np.where(high | low | np.isnan(found), 0, found).astype(exact)
    return np.where(high, limits.max, np.where(low, limits.min, cast)).astype(exact)


def constant(graph: Graph, base: str, value: np.ndarray, dtype: str = "FLOAT") -> str:
    """Register a synthetic constant (e.g. an activation's parameter made explicit by a decomposition)."""
    array = np.asarray(value)
    name, index = f"{base}#const", 1
    while name in graph.params or name in graph.producer:
        index += 1
        name = f"{base}#const{index}"
    graph.params[name] = Param(
        name=name, dtype=dtype, shape=tuple(array.shape), load=lambda: array, transform=("synthetic",)
    )
    return name


def is_param(graph: Graph, value: str) -> bool:
    """True if ``value`` is a model constant (initializer, Constant node or derived)."""
    return value in graph.params


def precision_name(dtype: str | None) -> str | None:
    """Short name of a floating or integer format: 'fp16', 'bf16', 'int8', ..."""
    if dtype is None:
        return None
    return FLOAT_TYPES.get(dtype, dtype.lower())
