"""Symbolic proofs that two elementwise regions compute the same function (sympy).

A region made only of elementwise operations, float casts and reductions computes every output element
by the same formula from the elements its inputs broadcast to it. So it is enough to evaluate the
region once on a *generic element*: each boundary input becomes a symbol, each constant its value (a
scalar, a tensor whose entries are all equal) or a symbol named by its content and shape, and each
reduction an uninterpreted function of the reduced expression, tagged with its axes and the shape it
reduces. Two regions whose normal forms are equal, and whose outputs have the same shapes, compute the
same tensors in real arithmetic: what the training rules call mathematically equivalent.

Constants are stored rounded to their format, so each one is first read as the simplest real number
within half an ulp of it (``1.4142135`` is √2, ``0.70710677`` is √2/2, ``0.125`` is 1/8); float casts are
the identity in real arithmetic. Anything else (data movement, matrix products, integer arithmetic)
is outside this method and left to the others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from parity.ir import Graph, Node

#: elements of a constant tensor read into the proof (larger tensors become symbols by content)
MAX_CONSTANT_ELEMENTS = 1 << 20
#: operations per side the prover accepts (beyond this a proof is not worth its time)
MAX_NODES = 64
FLOAT_CASTS = frozenset({1, 10, 11, 16})
REDUCTIONS = frozenset({"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceSumSquare", "ReduceL2"})
UNARY = frozenset(
    {
        "Identity",
        "Neg",
        "Abs",
        "Sqrt",
        "Reciprocal",
        "Exp",
        "Log",
        "Erf",
        "Tanh",
        "Sigmoid",
        "Relu",
        "LeakyRelu",
        "HardSigmoid",
        "HardSwish",
        "Softplus",
        "Sin",
        "Cos",
        "Elu",
        "Cast",
        "Clip",
        "Not",
    }
)
BINARY = frozenset(
    {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "And", "Or", "Equal", "Less", "Greater"}
    | {"LessOrEqual", "GreaterOrEqual"}
)
SUPPORTED = UNARY | BINARY | REDUCTIONS | {"Where", "Sum", "Softmax", "LogSoftmax"}


class NotProvable(Exception):
    """The region is outside what this method can prove (with the reason)."""


@dataclass(frozen=True)
class Term:
    """A generic element: its expression and the shape of the tensor it stands for (None: unknown)."""

    expr: Any
    shape: tuple | None


def provable(graph: Graph, nodes: list[str]) -> bool:
    """Whether every node is an operation this method knows."""
    return len(nodes) <= MAX_NODES and all(graph.nodes[n].op in SUPPORTED for n in nodes)


def normal_forms(
    graph: Graph, nodes: list[str], inputs: list[str], symbols: list[str], outputs: list[str]
) -> list[Any]:
    """The normal form of each output, with ``inputs[i]`` read as the symbol named ``symbols[i]``.

    Raises:
        NotProvable: an operation, a constant or a shape the method cannot represent.
    """
    import sympy

    env: dict[str, Term] = {}
    for value, symbol in zip(inputs, symbols, strict=True):
        env[value] = Term(sympy.Symbol(symbol, real=True), _shape(graph, value))
    region = set(nodes)
    for node in graph.topological():
        if node.name in region:
            env[node.outputs[0]] = _apply(graph, node, [_read(graph, env, v) for v in node.inputs])
    found = []
    for value in outputs:
        if value not in env:
            raise NotProvable(f"output {value} is not computed by the region")
        found.append(sympy.expand(env[value].expr))
    return found


#: random points at which two normal forms are compared before any simplification is attempted
PROBES = 4
#: the largest difference (in operations) sympy is asked to simplify
MAX_SIMPLIFY_OPS = 200


def equal(first: Any, second: Any) -> bool:
    """Whether two normal forms are the same real function (expansion, then simplification).

    Forms that differ at random points differ: no simplification is tried then, which keeps a swapped
    activation (Max against a sigmoid) from costing sympy minutes. Only forms that agree numerically
    are simplified, and only when small.
    """
    import sympy

    difference = sympy.expand(first - second)
    if difference == 0:
        return True
    if _differs_somewhere(difference):
        return False
    if sympy.count_ops(difference) > MAX_SIMPLIFY_OPS:
        return False
    return sympy.simplify(difference) == 0


def _differs_somewhere(difference: Any) -> bool:
    """Whether the difference is clearly non-zero at one of a few seeded random points."""
    import sympy

    symbols = sorted(difference.free_symbols, key=str)
    rng = np.random.default_rng(0)
    for _ in range(PROBES):
        point = {symbol: sympy.Float(rng.uniform(0.3, 1.7)) for symbol in symbols}
        try:
            value = complex(difference.evalf(30, subs=point))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if np.isfinite(value) and abs(value) > 1e-12:
            return True
    return False


def _shape(graph: Graph, value: str) -> tuple | None:
    shape = graph.value_info(value).shape
    return tuple(shape) if shape is not None else None


def _read(graph: Graph, env: dict[str, Term], value: str) -> Term | None:
    if not value:
        return None
    if value in env:
        return env[value]
    if value in graph.params:
        env[value] = _constant(graph, value)
        return env[value]
    raise NotProvable(f"{value} is neither a region input nor a constant")


def _constant(graph: Graph, value: str) -> Term:
    import sympy

    param = graph.params[value]
    count = int(np.prod(param.shape, dtype=np.int64))
    if count > MAX_CONSTANT_ELEMENTS:
        raise NotProvable(f"constant {value} has {count} elements")
    array = np.asarray(param.values())
    shape = tuple(param.shape)
    if array.dtype == np.bool_:
        array = array.astype(np.int64)
    flat = array.reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return Term(snap(float(flat[0]), param.dtype), shape)
    canonical = np.asarray(array, dtype=np.float32 if param.dtype in ("FLOAT", "FLOAT16") else None)
    digest = hashlib.sha256(canonical.tobytes() + str(_trimmed(shape)).encode()).hexdigest()[:16]
    return Term(sympy.Symbol(f"c_{digest}", real=True), shape)


def snap(value: float, dtype: str = "FLOAT") -> Any:
    """The simplest real number the stored constant rounds from (within half an ulp of its format).

    Tried in order: a fraction with a small denominator (0.125 is 1/8, 1e-5 is 1/100000), the square
    root of one (1.4142135 is √2, 0.70710677 is √2/2), a small fraction of π; otherwise the stored
    binary value itself, exactly. Cheap enough to run on every entry of a small constant tensor.
    """
    import sympy

    if not np.isfinite(value):
        return sympy.oo if value > 0 else -sympy.oo if value < 0 else sympy.nan
    if value == int(value) and abs(value) < 2**53:
        return sympy.Integer(int(value))
    ulp = {"FLOAT16": 2.0**-11, "BFLOAT16": 2.0**-8, "DOUBLE": 2.0**-53}.get(dtype, 2.0**-24)
    tolerance = abs(value) * ulp
    simple = Fraction(value).limit_denominator(1_000_000)
    if abs(float(simple) - value) <= tolerance:
        return sympy.Rational(simple.numerator, simple.denominator)
    square = Fraction(value * value).limit_denominator(10_000)
    if square > 0 and abs(np.sqrt(float(square)) - abs(value)) <= tolerance:
        root = sympy.sqrt(sympy.Rational(square.numerator, square.denominator))
        return root if value > 0 else -root
    over_pi = Fraction(value / np.pi).limit_denominator(1_000)
    if abs(float(over_pi) * np.pi - value) <= tolerance:
        return sympy.pi * sympy.Rational(over_pi.numerator, over_pi.denominator)
    return sympy.Rational(value)


def _trimmed(shape: tuple | None) -> tuple | None:
    if shape is None:
        return None
    index = 0
    while index < len(shape) and shape[index] == 1:
        index += 1
    return tuple(shape[index:])


def _broadcast(*shapes: tuple | None) -> tuple | None:
    if any(shape is None for shape in shapes):
        return None
    try:
        return tuple(np.broadcast_shapes(*[tuple(d if isinstance(d, int) else 1 for d in s) for s in shapes]))
    except ValueError as exc:
        raise NotProvable(f"shapes do not broadcast: {exc}") from None


def _apply(graph: Graph, node: Node, args: list[Term | None]) -> Term:
    import sympy

    op, attrs = node.op, node.attrs
    present = [a for a in args if a is not None]
    if op in BINARY or op in ("Sum", "Where"):
        shape = _broadcast(*(a.shape for a in present))
    else:
        shape = present[0].shape if present else None
    x = present[0].expr if present else None
    if op == "Cast":
        if int(attrs.get("to", 1)) not in FLOAT_CASTS:
            raise NotProvable("a cast to an integer or boolean type")
        return Term(x, shape)
    if op in REDUCTIONS:
        return _reduce(node, present[0])
    if op in ("Softmax", "LogSoftmax"):
        axis = _axis(int(attrs.get("axis", -1)), present[0].shape)
        function = sympy.Function(f"{op}_axis{axis}_{_tag(present[0].shape)}")
        return Term(function(x), shape)
    expr = _elementwise(op, attrs, [a.expr if a is not None else None for a in args])
    return Term(expr, shape)


def _elementwise(op: str, attrs: dict, args: list) -> Any:
    import sympy

    x = args[0]
    y = args[1] if len(args) > 1 else None
    simple = {
        "Identity": lambda: x,
        "Neg": lambda: -x,
        "Abs": lambda: sympy.Abs(x),
        "Sqrt": lambda: sympy.sqrt(x),
        "Reciprocal": lambda: 1 / x,
        "Exp": lambda: sympy.exp(x),
        "Log": lambda: sympy.log(x),
        "Erf": lambda: sympy.erf(x),
        "Tanh": lambda: sympy.tanh(x),
        "Sigmoid": lambda: 1 / (1 + sympy.exp(-x)),
        "Relu": lambda: sympy.Max(x, 0),
        "Softplus": lambda: sympy.log(1 + sympy.exp(x)),
        "Sin": lambda: sympy.sin(x),
        "Cos": lambda: sympy.cos(x),
        "Add": lambda: x + y,
        "Sub": lambda: x - y,
        "Mul": lambda: x * y,
        "Div": lambda: x / y,
        "Pow": lambda: x**y,
        "Max": lambda: sympy.Max(*[a for a in args if a is not None]),
        "Min": lambda: sympy.Min(*[a for a in args if a is not None]),
        "Sum": lambda: sympy.Add(*[a for a in args if a is not None]),
        "Not": lambda: sympy.Not(x),
        "And": lambda: sympy.And(x, y),
        "Or": lambda: sympy.Or(x, y),
        "Equal": lambda: sympy.Eq(x, y),
        "Less": lambda: sympy.Lt(x, y),
        "Greater": lambda: sympy.Gt(x, y),
        "LessOrEqual": lambda: sympy.Le(x, y),
        "GreaterOrEqual": lambda: sympy.Ge(x, y),
        "Where": lambda: sympy.Piecewise((y, x), (args[2], True)),
    }
    if op in simple:
        return simple[op]()
    if op == "LeakyRelu":
        alpha = snap(float(attrs.get("alpha", 0.01)))
        return sympy.Max(x, 0) + alpha * sympy.Min(x, 0)
    if op == "Elu":
        alpha = snap(float(attrs.get("alpha", 1.0)))
        return sympy.Piecewise((x, x >= 0), (alpha * (sympy.exp(x) - 1), True))
    if op in ("HardSigmoid", "HardSwish"):
        alpha = snap(float(attrs.get("alpha", 1 / 6 if op == "HardSwish" else 0.2)))
        beta = snap(float(attrs.get("beta", 0.5)))
        gate = sympy.Max(0, sympy.Min(1, alpha * x + beta))
        return gate if op == "HardSigmoid" else x * gate
    if op == "Clip":
        low, high = attrs.get("min"), attrs.get("max")
        value = x
        if low is not None:
            value = sympy.Max(value, snap(float(low)))
        if high is not None:
            value = sympy.Min(value, snap(float(high)))
        return value
    raise NotProvable(f"operation {op}")


def _axis(axis: int, shape: tuple | None) -> int:
    if axis >= 0:
        return axis
    if shape is None:
        raise NotProvable("a negative axis on a tensor of unknown rank")
    return axis + len(shape)


def _tag(shape: tuple | None) -> str:
    if shape is None:
        raise NotProvable("a reduction over a tensor of unknown shape")
    return "x".join(str(d) for d in shape)


def _reduce(node: Node, term: Term) -> Term:
    """A reduction as an uninterpreted function of its argument, tagged with the axes and the shape."""
    import sympy

    shape = term.shape
    if shape is None or not all(isinstance(d, int) for d in shape):
        raise NotProvable("a reduction over a tensor of unknown shape")
    axes = node.attrs.get("axes")
    if axes is None or axes == ():
        if node.attrs.get("noop_with_empty_axes"):
            return term
        axes = tuple(range(len(shape)))
    axes = tuple(sorted(_axis(int(a), shape) for a in (axes if isinstance(axes, tuple) else (axes,))))
    keep = int(node.attrs.get("keepdims", 1))
    count = int(np.prod([shape[a] for a in axes]))
    out = tuple((1 if i in axes else d) for i, d in enumerate(shape) if keep or i not in axes)
    name = f"sum_{'_'.join(map(str, axes))}_{_tag(shape)}_{keep}"
    total = sympy.Function(name)
    op, x = node.op, sympy.expand(term.expr)
    if op == "ReduceSum":
        return Term(total(x), out)
    if op == "ReduceMean":
        return Term(total(x) / count, out)
    if op == "ReduceSumSquare":
        return Term(total(sympy.expand(x**2)), out)
    if op == "ReduceL2":
        return Term(sympy.sqrt(total(sympy.expand(x**2))), out)
    extreme = sympy.Function(f"{op.lower()}_{'_'.join(map(str, axes))}_{_tag(shape)}_{keep}")
    return Term(extreme(x), out)
