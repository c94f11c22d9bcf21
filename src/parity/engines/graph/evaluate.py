"""Values of constant subgraphs: numpy for the common ops, onnx's reference implementation for the rest.

Shape arithmetic, weight reshapes and transposes are numpy one-liners computed in float64. Every other
standard op (Range, Cos, Trilu, comparisons, Expand, ... as exporters write rotary tables and masks) is
computed by ``onnx.reference`` on the node rebuilt in ONNX form. Folding is bounded: a constant is only
evaluated when its inputs are small and its result stays under ``MAX_ELEMENTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnx


def _axes(value: Any) -> tuple[int, ...]:
    return tuple(int(a) for a in (value if isinstance(value, tuple | list) else (value,)))


def _reshape(x: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    shape = [int(d) for d in attrs["shape"]]
    if not attrs.get("allowzero", 0):
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def _slice(x: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    starts, ends = _axes(attrs["starts"]), _axes(attrs["ends"])
    axes = _axes(attrs.get("axes", tuple(range(len(starts)))))
    steps = _axes(attrs.get("steps", (1,) * len(starts)))
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        index[axis] = slice(start, end, step)
    return x[tuple(index)]


UNARY: dict[str, Callable[..., np.ndarray]] = {
    "Identity": lambda x, a: x,
    "Neg": lambda x, a: -x,
    "Sqrt": lambda x, a: np.sqrt(x),
    "Reciprocal": lambda x, a: 1.0 / x,
    "Transpose": lambda x, a: np.transpose(x, a.get("perm")),
    "Reshape": _reshape,
    "Flatten": lambda x, a: x.reshape(int(np.prod(x.shape[: a.get("axis", 1)])), -1),
    "Squeeze": lambda x, a: np.squeeze(x, _axes(a["axes"])) if "axes" in a else np.squeeze(x),
    "Unsqueeze": lambda x, a: np.expand_dims(x, _axes(a["axes"])),
    "Shape": lambda x, a: np.array(x.shape, dtype=np.int64),
    "Slice": _slice,
    "Cast": lambda x, a: x,
}

BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "Add": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "Div": lambda x, y: x / y if np.issubdtype(np.result_type(x, y), np.floating) else x // y,
    "Equal": np.equal,
    "Pow": np.power,
    "MatMul": np.matmul,
}


OTHER = ("Concat", "Gather", "Where", "ConstantOfShape")
EVALUABLE = frozenset(UNARY) | frozenset(BINARY) | frozenset(OTHER)
#: standard ops never folded: random, stateful, with subgraphs, or whose value is not a function of inputs
NOT_FOLDED = frozenset(
    {
        "RandomNormal",
        "RandomNormalLike",
        "RandomUniform",
        "RandomUniformLike",
        "Multinomial",
        "Bernoulli",
        "If",
        "Loop",
        "Scan",
        "SequenceMap",
        "Dropout",
        "Constant",
    }
)
#: Cast targets that keep values as they are in float64 (FLOAT, FLOAT16, DOUBLE, BFLOAT16)
FLOAT_CASTS = frozenset({1, 10, 11, 16})
#: the largest constant folding may create (elements)
MAX_ELEMENTS = 1 << 22


def can_evaluate(op: str) -> bool:
    """True if :func:`evaluate` can compute ``op`` (numpy here, or onnx's reference implementation)."""
    if op in EVALUABLE:
        return True
    return "." not in op and op not in NOT_FOLDED and _reference_op(op)


def _reference_op(op: str) -> bool:
    try:
        onnx.defs.get_schema(op)
    except onnx.defs.SchemaError:
        return False
    return True


def evaluate(op: str, attrs: dict[str, Any], inputs: list[np.ndarray]) -> np.ndarray:
    """The output of ``op`` on ``inputs`` (float64 for floating inputs)."""
    if op == "Cast" and int(attrs.get("to", 1)) not in FLOAT_CASTS:
        return _by_reference(op, attrs, inputs)  # to an integer or bool: values change
    if op in UNARY:
        return np.asarray(UNARY[op](inputs[0], attrs))
    if op in BINARY:
        return np.asarray(BINARY[op](inputs[0], inputs[1]))
    if op == "Concat":
        return np.concatenate(inputs, axis=attrs.get("axis", 0))
    if op == "Gather":
        return np.take(inputs[0], inputs[1].astype(np.int64), axis=attrs.get("axis", 0))
    if op == "Where":
        return np.where(inputs[0], inputs[1], inputs[2])
    if op == "ConstantOfShape":
        fill = attrs.get("value")
        value = fill[3][0] if isinstance(fill, tuple) and fill[3] else 0.0
        return np.full([int(d) for d in _axes(attrs["shape"])], value)
    return _by_reference(op, attrs, inputs)


def _by_reference(op: str, attrs: dict[str, Any], inputs: list[np.ndarray]) -> np.ndarray:
    """One standard op computed by onnx.reference on its ONNX form (lifted attributes as inputs again)."""
    from onnx.reference import ReferenceEvaluator

    from parity.ir.to_onnx import onnx_attribute, unlift

    names = [f"in{index}" for index in range(len(inputs))]
    data_type = inputs[0].dtype if inputs else np.float32
    node_inputs, constants, rest = unlift(op, attrs, names, data_type, "lifted")
    feeds = {**dict(zip(names, inputs, strict=True)), **constants}
    node = onnx.helper.make_node(
        op,
        node_inputs,
        ["out"],
        **{k: onnx_attribute(v) for k, v in rest.items() if onnx_attribute(v) is not None},
    )
    return np.asarray(ReferenceEvaluator(node).run(None, feeds)[0])
