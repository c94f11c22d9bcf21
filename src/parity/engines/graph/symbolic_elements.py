"""Symbolic proofs over every element, for small regions that both move data and compute on it.

A mask built from ``Gather`` on one side and ``GatherND`` on the other, And-ed with a constant causal
pattern, is neither purely elementwise (symbolic.py) nor pure data movement (index maps). For regions
whose tensors are small, each input element becomes its own symbol and the region is evaluated on
numpy arrays of sympy expressions: data movement moves the expressions, elementwise operations combine
them, constants enter as their values. Equal arrays of expressions (element by element, after
expansion or boolean simplification) prove the two regions equal on every input.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np

from parity.engines.graph.evaluate import _slice
from parity.engines.graph.symbolic import BINARY, FLOAT_CASTS, UNARY, NotProvable, _elementwise, snap
from parity.ir import Graph, Node

#: elements any tensor of the region may have (a 128-token attention mask has 16384)
MAX_ELEMENTS = 1 << 16
#: multiply-adds a matrix product in the region may need
MAX_PRODUCTS = 2048
#: seconds one region's proof may take before the method gives up (sympy is exact, not fast)
BUDGET_S = 2.0
MOVES = frozenset(
    {
        "Reshape",
        "Transpose",
        "Gather",
        "GatherND",
        "GatherElements",
        "Slice",
        "Split",
        "Concat",
        "Squeeze",
        "Unsqueeze",
        "Flatten",
        "Expand",
        "Tile",
        "Identity",
    }
)
REDUCE = frozenset({"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"})
#: what symbolic.py computes on one element, here on each (its casts and reductions are handled apart)
ELEMENTWISE = (UNARY | BINARY | {"Where"}) - {"Cast", "Identity"}
SUPPORTED = MOVES | REDUCE | ELEMENTWISE | {"Cast", "MatMul", "Softmax"}


def provable(graph: Graph, nodes: tuple[str, ...]) -> bool:
    """Whether every node is an operation this method knows and every tensor is small."""
    for name in nodes:
        node = graph.nodes[name]
        if node.op not in SUPPORTED:
            return False
        for value in node.outputs:
            shape = graph.value_info(value).shape
            if shape is None or not all(isinstance(d, int) for d in shape):
                return False
            if int(np.prod(shape, dtype=np.int64)) > MAX_ELEMENTS:
                return False
    return True


def element_forms(
    graph: Graph, nodes: tuple[str, ...], inputs: list[str], prefixes: list[str], outputs: list[str]
) -> list[np.ndarray]:
    """Each output as an array of sympy expressions of the inputs' elements (named ``<prefix>_<index>``).

    Raises:
        NotProvable: an operation, shape or size outside the method.
    """
    import sympy

    env: dict[str, np.ndarray] = {}
    for value, prefix in zip(inputs, prefixes, strict=True):
        info = graph.value_info(value)
        shape = info.shape
        if shape is None or not all(isinstance(d, int) for d in shape):
            raise NotProvable(f"input {value} has no static shape")
        count = int(np.prod(shape, dtype=np.int64))
        if count > MAX_ELEMENTS:
            raise NotProvable(f"input {value} has {count} elements")
        boolean = info.dtype == "BOOL"
        symbols = [sympy.Symbol(f"{prefix}_{i}", **({} if boolean else {"real": True})) for i in range(count)]
        env[value] = np.array(symbols, dtype=object).reshape(shape)
    region = set(nodes)
    deadline = time.perf_counter() + BUDGET_S
    for node in graph.topological():
        if node.name not in region:
            continue
        if time.perf_counter() > deadline:
            raise NotProvable("the per-element proof ran out of time")
        args = [_read(graph, env, value) for value in node.inputs]
        results = _apply(graph, node, args)
        for value, result in zip(node.outputs, results, strict=False):
            if value:
                env[value] = result
    return [env[value] for value in outputs]


def arrays_equal(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two arrays of expressions are equal element by element."""
    import sympy

    if first.shape != second.shape:
        return False
    deadline = time.perf_counter() + BUDGET_S
    for a, b in zip(first.reshape(-1), second.reshape(-1), strict=True):
        if time.perf_counter() > deadline:
            raise NotProvable("the per-element comparison ran out of time")
        if a is b or (type(a) is type(b) and not isinstance(a, sympy.Basic) and a == b):
            continue
        a, b = sympy.sympify(a), sympy.sympify(b)
        if a == b:
            continue
        if isinstance(a, sympy.logic.boolalg.Boolean) or isinstance(b, sympy.logic.boolalg.Boolean):
            if sympy.simplify_logic(sympy.Xor(a, b)) is not sympy.false:
                return False
        elif sympy.expand(a - b) != 0:
            return False
    return True


def _read(graph: Graph, env: dict[str, np.ndarray], value: str) -> np.ndarray | None:
    if not value:
        return None
    if value in env:
        return env[value]
    if value in graph.params:
        param = graph.params[value]
        if int(np.prod(param.shape, dtype=np.int64)) > MAX_ELEMENTS:
            raise NotProvable(f"constant {value} is too large")
        array = np.asarray(param.values())
        if array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer):
            converted = array.astype(object)
        else:
            cache: dict[float, Any] = {}
            converted = np.array(
                [cache.setdefault(float(x), snap(float(x), param.dtype)) for x in array.reshape(-1)],
                dtype=object,
            ).reshape(array.shape)
        env[value] = converted
        return converted
    raise NotProvable(f"{value} is neither a region input nor a constant")


def _ints(array: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(array, dtype=np.int64)
    except (TypeError, ValueError):
        raise NotProvable("indices that are not constants") from None


def _apply(graph: Graph, node: Node, args: list[np.ndarray | None]) -> list[np.ndarray]:
    import sympy

    op, attrs = node.op, node.attrs
    x = args[0]
    if op in MOVES:
        return _move(node, args)
    if op == "Cast":
        target = int(attrs.get("to", 1))
        source_bool = graph.value_info(node.inputs[0]).dtype == "BOOL"
        if target == 9:  # to bool
            if source_bool:
                return [x]
            return [_map(lambda v: sympy.Ne(v, 0) if isinstance(v, sympy.Basic) else bool(v), x)]
        if target in FLOAT_CASTS or target in (6, 7):
            if source_bool:
                return [
                    _map(
                        lambda v: (
                            sympy.Piecewise((1, v), (0, True)) if isinstance(v, sympy.Basic) else int(bool(v))
                        ),
                        x,
                    )
                ]
            if target in (6, 7) and graph.value_info(node.inputs[0]).dtype not in ("INT64", "INT32"):
                raise NotProvable("a float-to-integer cast")
            return [x]
        raise NotProvable(f"a cast to type {target}")
    if op == "MatMul":
        a, b = args[0], args[1]
        products = int(np.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) if a.ndim > 2 else (1,))) * (
            a.shape[-2] * a.shape[-1] * b.shape[-1]
        )
        if products > MAX_PRODUCTS:
            raise NotProvable("a matrix product too large to expand")
        return [np.matmul(a, b)]
    if op in REDUCE:
        return [_reduce(node, x)]
    if op == "Softmax":
        axis = int(attrs.get("axis", -1))
        exps = _map(sympy.exp, x)
        total = np.sum(exps, axis=axis, keepdims=True)
        return [exps / total]
    arrays = [a for a in args if a is not None]
    broadcast = np.broadcast_arrays(*arrays)
    deadline = time.perf_counter() + BUDGET_S
    calls = [0]

    def element(*values):
        calls[0] += 1
        if calls[0] % 512 == 0 and time.perf_counter() > deadline:
            raise NotProvable("the per-element proof ran out of time")
        return _scalar(op, attrs, values)

    function = np.frompyfunc(element, len(broadcast), 1)
    return [np.asarray(function(*broadcast), dtype=object)]


def _scalar(op: str, attrs: dict, values: tuple) -> Any:
    import sympy

    if op == "Where":
        condition, yes, no = values
        if isinstance(condition, bool | np.bool_) or condition in (sympy.true, sympy.false):
            return yes if bool(condition) else no
        return sympy.Piecewise((yes, condition), (no, True))
    if op in ("And", "Or", "Not"):
        concrete = [v for v in values if isinstance(v, bool | np.bool_)]
        if op == "Not" and concrete:
            return not bool(concrete[0])
        if op != "Not" and concrete:  # the constant decides, or leaves the other operand as it is
            others = [v for v in values if not isinstance(v, bool | np.bool_)]
            absorbing = op == "Or"
            if any(bool(v) is absorbing for v in concrete):
                return absorbing
            return others[0] if others else (not absorbing)
        converted = [sympy.true if v is True else sympy.false if v is False else v for v in values]
        return {"And": sympy.And, "Or": sympy.Or, "Not": sympy.Not}[op](*converted)
    return _elementwise(op, attrs, [sympy.sympify(v) for v in values])


def _map(function, array: np.ndarray) -> np.ndarray:
    return np.asarray(np.frompyfunc(function, 1, 1)(array), dtype=object)


def _reduce(node: Node, x: np.ndarray) -> np.ndarray:
    import sympy

    axes = node.attrs.get("axes")
    axes = (
        tuple(range(x.ndim))
        if axes in (None, ())
        else tuple(int(a) % x.ndim for a in (axes if isinstance(axes, tuple) else (axes,)))
    )
    keep = bool(node.attrs.get("keepdims", 1))
    if node.op in ("ReduceSum", "ReduceMean"):
        found = np.sum(x, axis=axes, keepdims=keep)
        if node.op == "ReduceMean":
            found = found / int(np.prod([x.shape[a] for a in axes]))
        return np.asarray(found, dtype=object)
    pick = sympy.Max if node.op == "ReduceMax" else sympy.Min
    moved = np.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
    flat = moved.reshape(*moved.shape[: x.ndim - len(axes)], -1)
    reduced = np.empty(flat.shape[:-1], dtype=object)
    for index in np.ndindex(reduced.shape):
        reduced[index] = functools.reduce(pick, flat[index])
    if keep:
        reduced = np.expand_dims(reduced, axes)
    return reduced


def _move(node: Node, args: list[np.ndarray | None]) -> list[np.ndarray]:
    op, attrs = node.op, node.attrs
    x = args[0]
    if op == "Identity":
        return [x]
    if op == "Reshape":
        shape = [int(d) for d in attrs["shape"]]
        if not attrs.get("allowzero", 0):
            shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
        return [x.reshape(shape)]
    if op == "Transpose":
        perm = attrs.get("perm")
        return [np.transpose(x, perm)]
    if op == "Flatten":
        axis = int(attrs.get("axis", 1)) % max(x.ndim, 1)
        return [x.reshape(int(np.prod(x.shape[:axis])), -1)]
    if op == "Squeeze":
        axes = attrs.get("axes")
        return [np.squeeze(x, tuple(int(a) for a in axes)) if axes else np.squeeze(x)]
    if op == "Unsqueeze":
        axes = attrs["axes"]
        found = x
        for axis in sorted(int(a) % (x.ndim + len(axes)) for a in axes):
            found = np.expand_dims(found, axis)
        return [found]
    if op == "Slice":
        return [_slice(x, attrs)]
    if op == "Concat":
        return [np.concatenate([a for a in args if a is not None], axis=int(attrs.get("axis", 0)))]
    if op == "Expand":
        shape = tuple(int(d) for d in attrs["shape"])
        target = np.broadcast_shapes(x.shape, shape)
        return [np.broadcast_to(x, target).copy()]
    if op == "Tile":
        return [np.tile(x, tuple(int(r) for r in attrs["repeats"]))]
    if op == "Gather":
        return [np.take(x, _ints(args[1]), axis=int(attrs.get("axis", 0)))]
    if op == "GatherElements":
        return [np.take_along_axis(x, _ints(args[1]), axis=int(attrs.get("axis", 0)))]
    if op == "GatherND":
        return [_gather_nd(x, _ints(args[1]), int(attrs.get("batch_dims", 0)))]
    if op == "Split":
        axis = int(attrs.get("axis", 0))
        sizes = attrs.get("split")
        count = len(node.outputs)
        if sizes is None:
            return list(np.array_split(x, count, axis=axis))
        bounds = np.cumsum([int(s) for s in sizes])[:-1]
        return list(np.split(x, bounds, axis=axis))
    raise NotProvable(f"operation {op}")


def _gather_nd(data: np.ndarray, indices: np.ndarray, batch_dims: int) -> np.ndarray:
    if batch_dims:
        raise NotProvable("GatherND with batch dimensions")
    depth = indices.shape[-1]
    flat = indices.reshape(-1, depth)
    picked = [data[tuple(int(i) for i in row)] for row in flat]
    if depth == data.ndim:
        return np.array(picked, dtype=object).reshape(indices.shape[:-1])
    return np.stack(picked).reshape(*indices.shape[:-1], *data.shape[depth:])
