"""Proofs by polynomial identity testing: both regions evaluated exactly at random points of prime fields.

Attention blocks, projections written with or without a Reshape around the MatMul, normalisations fused
or spelled out: regions of matrix products and arithmetic are too large for sympy element by element, yet
they compute rational functions of their inputs, with a few transcendental functions (exp, erf, sqrt,
tanh) applied along the way. Such regions are compared the way algebra systems test identities:

- every float (weights, constants, the random inputs) is a dyadic rational, mapped exactly into the field
  GF(p); addition, multiplication, division and matrix products are computed exactly in that field;
- a transcendental function is an *uninterpreted* function: the same keyed pseudo-random function of its
  argument on both sides (exp of equal arguments is equal; nothing else is assumed of it);
- shapes, indices and masks built from constants are computed as they are (concrete integers).

If the two sides are the same expression over these operations, they compute the same real function
(the uninterpreted functions stand for the same real ones on both sides). If they are different
expressions, Schwartz–Zippel bounds the chance that they agree at a random point by degree / p; the test
runs at ``TRIALS`` points, each in its own prime field, so a false proof has probability below 1e-18.
The method only proves: a disagreement may come from an identity of the real functions it does not
know (tanh written through exp), so it never refutes; numeric verification decides those regions.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from parity.engines.graph.evaluate import can_evaluate, evaluate
from parity.engines.graph.symbolic import NotProvable
from parity.engines.graph.symbolic_elements import MOVES, _move
from parity.ir import Graph, Node

#: primes below 2**26: a product of two residues stays below 2**52, a sum of 2048 such products in int64
PRIMES = (67108859, 67108837, 67108819)
TRIALS = len(PRIMES)
#: products summed before reducing modulo p (each below 2**52; the sum stays below 2**63)
CHUNK = 2048
#: elements any tensor of the region may have
MAX_ELEMENTS = 1 << 21
#: multiply-adds the region's matrix products may need in all (int64 products are not BLAS-fast)
MAX_PRODUCTS = 1 << 26
#: functions of one argument, uninterpreted (their attributes key them: LeakyRelu's alpha, Gelu's mode)
UNINTERPRETED = frozenset(
    {
        "Exp",
        "Log",
        "Erf",
        "Tanh",
        "Sigmoid",
        "Sqrt",
        "Relu",
        "Abs",
        "Sin",
        "Cos",
        "Softplus",
        "LeakyRelu",
        "Elu",
        "Selu",
        "HardSigmoid",
        "HardSwish",
        "Mish",
        "Sign",
        "Floor",
        "Ceil",
        "Round",
    }
)
#: ops that leave their input as it is at inference (Dropout's mask output is never read in a region)
PASS_THROUGH = frozenset({"Identity", "Dropout"})
FLOAT_TYPES = frozenset({"FLOAT", "FLOAT16", "BFLOAT16", "DOUBLE"})
#: onnx type numbers of floats, and their mantissa bits (a cast to fewer bits rounds: a function)
FLOAT_BITS = {1: 24, 10: 11, 11: 53, 16: 8}


class Field:
    """Arithmetic modulo one prime, vectorised on int64 arrays, with exact images of floats."""

    def __init__(self, prime: int, seed: int) -> None:
        self.p = prime
        self.seed = seed
        self.half = pow(2, prime - 2, prime)  # 1/2

    def of_floats(self, values: np.ndarray) -> np.ndarray:
        """The exact image of each float (a dyadic rational m·2^e) in the field."""
        values = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise NotProvable("a constant that is not finite")
        mantissa, exponent = np.frexp(values)  # values = mantissa · 2^exponent, 0.5 <= |mantissa| < 1
        integer = np.rint(np.ldexp(mantissa, 53)).astype(np.int64)  # exact: 53 bits
        shift = exponent.astype(np.int64) - 53
        residue = np.mod(integer, self.p)
        powers = self._powers_of_two(shift)
        return self.mul(residue, powers)

    def _powers_of_two(self, exponents: np.ndarray) -> np.ndarray:
        found = np.empty(exponents.shape, dtype=np.int64)
        for e in np.unique(exponents):
            found[exponents == e] = pow(2, int(e), self.p) if e >= 0 else pow(self.half, int(-e), self.p)
        return found

    def of_ints(self, values: np.ndarray) -> np.ndarray:
        """Integers (shapes, masks) as residues."""
        return np.mod(np.asarray(values, dtype=np.int64), self.p)

    def random(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """A random point: independent uniform residues."""
        return rng.integers(0, self.p, size=shape, dtype=np.int64)

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A + b."""
        return np.mod(a + b, self.p)

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A - b."""
        return np.mod(a - b, self.p)

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A · b (each below 2**26: the product fits int64)."""
        return np.mod(a * b, self.p)

    def inverse(self, a: np.ndarray) -> np.ndarray:
        """1 / a by Fermat (a^(p-2)); a zero at the random point makes the method give up."""
        a = np.asarray(a, dtype=np.int64)
        if np.any(a == 0):
            raise NotProvable("a division by a value that is zero at the random point")
        return self.power(a, self.p - 2)

    def power(self, a: np.ndarray, exponent: int) -> np.ndarray:
        """A ** exponent by squaring."""
        result = np.ones_like(np.asarray(a, dtype=np.int64))
        base = np.asarray(a, dtype=np.int64) % self.p
        while exponent:
            if exponent & 1:
                result = self.mul(result, base)
            base = self.mul(base, base)
            exponent >>= 1
        return result

    def sum(self, a: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
        """A sum over ``axes``, reduced modulo p every ``CHUNK`` terms."""
        count = int(np.prod([a.shape[axis] for axis in axes])) if axes else 1
        if count <= CHUNK:
            return np.mod(np.sum(a, axis=axes, keepdims=keepdims), self.p)
        moved = np.moveaxis(a, axes, tuple(range(a.ndim - len(axes), a.ndim)))
        flat = moved.reshape(*moved.shape[: a.ndim - len(axes)], -1)
        total = np.zeros(flat.shape[:-1], dtype=np.int64)
        for start in range(0, flat.shape[-1], CHUNK):
            total = np.mod(total + np.sum(flat[..., start : start + CHUNK], axis=-1), self.p)
        return np.expand_dims(total, axes) if keepdims else total

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A matrix product, its inner dimension cut into ``CHUNK``-long pieces."""
        if a.ndim == 1 or b.ndim == 1:
            raise NotProvable("a matrix product of a vector")
        depth = a.shape[-1]
        total = None
        for start in range(0, depth, CHUNK):
            part = np.mod(np.matmul(a[..., start : start + CHUNK], b[..., start : start + CHUNK, :]), self.p)
            total = part if total is None else np.mod(total + part, self.p)
        return total

    def uninterpreted(self, key: str, a: np.ndarray) -> np.ndarray:
        """A keyed pseudo-random function of each residue: the same on both sides, nothing else known."""
        salt = int.from_bytes(
            hashlib.blake2b(f"{self.seed}:{key}".encode(), digest_size=8).digest(), "little"
        )
        x = (np.asarray(a, dtype=np.uint64) ^ np.uint64(salt)) + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
        return (x % np.uint64(self.p)).astype(np.int64)


class Value:
    """A tensor of the region: residues of a float computation, or concrete values (shapes, masks)."""

    __slots__ = ("array", "exact")

    def __init__(self, array: np.ndarray, exact: bool) -> None:
        self.array = array
        self.exact = exact  # True: residues in the field; False: the values themselves


def provable(graph: Graph, nodes: tuple[str, ...]) -> bool:
    """Whether every node is an operation this method knows and no tensor is known to be too large."""
    for name in nodes:
        node = graph.nodes[name]
        if node.op not in SUPPORTED and not (can_evaluate(node.op) and node.op not in UNSUPPORTED_ON_FIELD):
            return False
        for value in (v for v in node.outputs if v):
            shape = graph.value_info(value).shape  # unknown dimensions are computed as the region runs
            known = [d for d in shape or () if isinstance(d, int)]
            if int(np.prod(known, dtype=np.int64)) > MAX_ELEMENTS:
                return False
    return True


def prove(
    reference: Graph,
    candidate: Graph,
    sides: tuple[tuple[tuple[str, ...], list[str], list[str]], tuple[tuple[str, ...], list[str], list[str]]],
) -> dict:
    """Evaluate both regions at ``TRIALS`` random points; equal outputs at all of them prove the identity.

    ``sides`` holds, per graph, (region nodes, boundary inputs, boundary outputs), inputs and outputs
    paired by position. Raises NotProvable when the method does not apply or a point disagrees.
    """
    inputs = sides[0][1]
    shapes = []
    for left, right in zip(inputs, sides[1][1], strict=True):
        a, b = reference.value_info(left), candidate.value_info(right)
        if a.dtype not in FLOAT_TYPES or b.dtype not in FLOAT_TYPES:
            raise NotProvable(f"input {left} is not a float tensor (its values are data, not variables)")
        shapes.append(_shared_shape(left, a.shape, b.shape))
    for trial, prime in enumerate(PRIMES):
        field = Field(prime, seed=trial)
        rng = np.random.default_rng(1000 + trial)
        points = [field.random(shape, rng) for shape in shapes]
        outputs = [
            _evaluate(graph, nodes, side_inputs, side_outputs, points, field)
            for graph, (nodes, side_inputs, side_outputs) in zip((reference, candidate), sides, strict=True)
        ]
        for index, (first, second) in enumerate(zip(*outputs, strict=True)):
            if first.array.shape != second.array.shape:
                raise NotProvable(
                    f"output {index} has shape {first.array.shape} against {second.array.shape}"
                )
            if first.exact != second.exact or not np.array_equal(first.array, second.array):
                raise NotProvable(f"the two sides differ at a random point of GF({prime}) (output {index})")
    return {
        "method": "proved_identity",
        "identity_test": {
            "fields": list(PRIMES),
            "points": TRIALS,
            "bound": "a false proof has probability below (degree / p)^points (Schwartz-Zippel)",
        },
    }


def _shared_shape(name: str, first, second) -> tuple[int, ...]:
    """The boundary tensor's shape, from whichever side's shape inference knows each dimension."""
    if first is None or second is None:
        known = first if second is None else second
        if known is None:
            raise NotProvable(f"input {name} has no known shape")
        first = second = known
    if len(first) != len(second):
        raise NotProvable(f"input {name} has rank {len(first)} against {len(second)}")
    shape = []
    for a, b in zip(first, second, strict=True):
        fixed = [d for d in (a, b) if isinstance(d, int)]
        if not fixed or (len(fixed) == 2 and fixed[0] != fixed[1]):
            raise NotProvable(f"input {name} has no shape both sides agree on")
        shape.append(fixed[0])
    return tuple(shape)


def _evaluate(
    graph: Graph,
    nodes: tuple[str, ...],
    inputs: list[str],
    outputs: list[str],
    points: list[np.ndarray],
    field: Field,
) -> list[Value]:
    env: dict[str, Value] = {value: Value(point, True) for value, point in zip(inputs, points, strict=True)}
    region = set(nodes)
    budget = [MAX_PRODUCTS]
    for node in graph.topological():
        if node.name not in region:
            continue
        args = [_read(graph, env, value, field) if value else None for value in node.inputs]
        results = _apply(graph, node, args, field, budget)
        for value, result in zip(node.outputs, results, strict=False):
            if value:
                env[value] = result
    missing = [value for value in outputs if value not in env]
    if missing:
        raise NotProvable(f"region outputs not computed: {', '.join(missing[:3])}")
    return [env[value] for value in outputs]


def _read(graph: Graph, env: dict[str, Value], value: str, field: Field) -> Value:
    if value in env:
        return env[value]
    param = graph.params.get(value)
    if param is None:
        raise NotProvable(f"{value} is neither a region input nor a constant")
    if int(np.prod(param.shape, dtype=np.int64)) > MAX_ELEMENTS:
        raise NotProvable(f"constant {value} is too large")
    found = Value(np.asarray(param.values()), False)
    env[value] = found
    return found


def _exact(value: Value, field: Field) -> np.ndarray:
    """The value's residues: a concrete value enters the field as the exact image of its numbers."""
    if value.exact:
        return value.array
    array = value.array
    if array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer):
        return field.of_ints(array)
    return field.of_floats(array)


SUPPORTED = (
    MOVES
    | UNINTERPRETED
    | PASS_THROUGH
    | {"Add", "Sub", "Mul", "Div", "Neg", "Reciprocal", "Pow", "MatMul", "Gemm", "Softmax", "Cast", "Where"}
    | {"ReduceSum", "ReduceMean", "LayerNormalization", "Shape", "Gelu", "LSTM", "GRU"}
)
#: ops computed on concrete values only (a float tensor reaching one makes the region unprovable here)
UNSUPPORTED_ON_FIELD = frozenset({"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Max", "Min"})


def _apply(
    graph: Graph, node: Node, args: list[Value | None], field: Field, budget: list[int]
) -> list[Value]:
    op, attrs = node.op, node.attrs
    present = [a for a in args if a is not None]
    if op == "Shape":
        shape = np.array(args[0].array.shape, dtype=np.int64)
        start, end = attrs.get("start"), attrs.get("end")
        return [Value(shape[slice(start, end)], False)]
    if op in PASS_THROUGH:
        return [args[0]]
    if op == "Concat":
        exact = any(a.exact for a in present)
        arrays = [_exact(a, field) if exact else a.array for a in present]
        return [Value(np.concatenate(arrays, axis=int(attrs.get("axis", 0))), exact)]
    if op in MOVES:
        data = args[0]
        operands = [_concrete(a) for a in args[1:]]
        moved = _move(_lifted(node, operands), [data.array, *operands])
        return [Value(array, data.exact) for array in moved]
    if not any(a.exact for a in present):  # constants, shapes and masks: computed as they are
        if not can_evaluate(op):
            raise NotProvable(f"operation {op}")
        return [Value(np.asarray(evaluate(op, attrs, [a.array for a in present])), False)]
    if op in UNSUPPORTED_ON_FIELD:
        raise NotProvable(f"{op} of a computed float")
    if op == "Cast":
        bits = FLOAT_BITS.get(int(attrs.get("to", 1)))
        if bits is None:
            raise NotProvable("a cast of a computed float to an integer type")
        source = FLOAT_BITS.get(_type_number(graph, node.inputs[0]), 53)
        if bits >= source:
            return [args[0]]
        return [Value(field.uninterpreted(f"Cast:{bits}", args[0].array), True)]
    x = [_exact(a, field) if a is not None else None for a in args]
    if op == "Add":
        return [Value(field.add(x[0], x[1]), True)]
    if op == "Sub":
        return [Value(field.sub(x[0], x[1]), True)]
    if op == "Mul":
        return [Value(field.mul(x[0], x[1]), True)]
    if op == "Div":
        return [Value(field.mul(x[0], field.inverse(x[1])), True)]
    if op == "Neg":
        return [Value(field.sub(np.zeros_like(x[0]), x[0]), True)]
    if op == "Reciprocal":
        return [Value(field.inverse(x[0]), True)]
    if op == "Pow":
        return [Value(_power(args, x, field), True)]
    if op == "MatMul":
        _spend(budget, x[0].shape, x[1].shape)
        return [Value(field.matmul(x[0], x[1]), True)]
    if op == "Gemm":
        return [Value(_gemm(attrs, args, x, field, budget), True)]
    if op in ("ReduceSum", "ReduceMean"):
        return [Value(_reduce(node, x[0], field), True)]
    if op == "Softmax":
        axis = int(attrs.get("axis", -1)) % x[0].ndim
        exps = field.uninterpreted("Exp", x[0])
        total = field.sum(exps, (axis,), keepdims=True)
        return [Value(field.mul(exps, field.inverse(total)), True)]
    if op == "LayerNormalization":
        return [Value(_layer_norm(attrs, x, field), True)]
    if op == "Gelu":
        return [Value(_gelu(attrs, x[0], field), True)]
    if op in ("LSTM", "GRU"):
        return [Value(array, True) for array in _recurrent(node, args, x, field, budget)]
    if op == "Where":
        condition = args[0]
        if condition.exact:
            raise NotProvable("a condition computed from floats")
        return [Value(np.where(condition.array.astype(bool), x[1], x[2]), True)]
    if op in UNINTERPRETED:
        key = op + "".join(f":{k}={attrs[k]}" for k in sorted(attrs))
        return [Value(field.uninterpreted(key, x[0]), True)]
    raise NotProvable(f"operation {op}")


#: the inputs that tools leave as tensors where parity's lifted attributes are expected
LIFTED = {
    "Reshape": ("shape",),
    "Expand": ("shape",),
    "Tile": ("repeats",),
    "Slice": ("starts", "ends", "axes", "steps"),
    "Squeeze": ("axes",),
    "Unsqueeze": ("axes",),
    "Split": ("split",),
}


def _lifted(node: Node, operands: list[np.ndarray | None]) -> Node:
    """The node with its shape-like inputs computed in the region given as the attributes ``_move`` reads."""
    names = LIFTED.get(node.op, ())
    missing = {
        name: tuple(int(v) for v in np.asarray(operand).reshape(-1))
        for name, operand in zip(names, operands, strict=False)
        if operand is not None and name not in node.attrs
    }
    if not missing:
        return node
    return Node(node.name, node.op, node.inputs, node.outputs, {**node.attrs, **missing})


def _concrete(value: Value | None) -> np.ndarray | None:
    if value is None:
        return None
    if value.exact:
        raise NotProvable("indices computed from floats")
    return value.array


def _type_number(graph: Graph, value: str) -> int:
    names = {"FLOAT": 1, "FLOAT16": 10, "DOUBLE": 11, "BFLOAT16": 16}
    return names.get(graph.value_info(value).dtype or "", 11)


def _spend(budget: list[int], a: tuple[int, ...], b: tuple[int, ...]) -> None:
    batch = int(np.prod(np.broadcast_shapes(a[:-2], b[:-2]))) if len(a) > 2 or len(b) > 2 else 1
    budget[0] -= batch * a[-2] * a[-1] * b[-1]
    if budget[0] < 0:
        raise NotProvable("matrix products too large to evaluate exactly")


def _power(args: list[Value | None], x: list[Any], field: Field) -> np.ndarray:
    exponent = args[1]
    if exponent.exact or exponent.array.size != 1:
        raise NotProvable("an exponent that is not one constant")
    value = float(exponent.array.reshape(-1)[0])
    if value == 0.5:
        return field.uninterpreted("Sqrt", x[0])
    if value.is_integer() and 0 <= value <= 64:
        return field.power(x[0], int(value))
    if value.is_integer() and -64 <= value < 0:
        return field.inverse(field.power(x[0], int(-value)))
    return field.uninterpreted(f"Pow:{value!r}", x[0])


def _gemm(attrs: dict, args: list[Value | None], x: list[Any], field: Field, budget: list[int]) -> np.ndarray:
    a = x[0].T if attrs.get("transA", 0) else x[0]
    b = x[1].T if attrs.get("transB", 0) else x[1]
    _spend(budget, a.shape, b.shape)
    found = field.matmul(a, b)
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    if alpha != 1.0:
        found = field.mul(found, field.of_floats(np.array(alpha)))
    if len(x) > 2 and x[2] is not None:
        bias = x[2] if beta == 1.0 else field.mul(x[2], field.of_floats(np.array(beta)))
        found = field.add(found, bias)
    return found


def _axes(node: Node, ndim: int) -> tuple[int, ...]:
    axes = node.attrs.get("axes")
    if axes in (None, ()):
        if node.attrs.get("noop_with_empty_axes", 0):
            raise NotProvable("a reduction over no axis")
        return tuple(range(ndim))
    return tuple(sorted(int(a) % ndim for a in (axes if isinstance(axes, tuple | list) else (axes,))))


def _reduce(node: Node, x: np.ndarray, field: Field) -> np.ndarray:
    axes = _axes(node, x.ndim)
    keep = bool(node.attrs.get("keepdims", 1))
    total = field.sum(x, axes, keep)
    if node.op == "ReduceMean":
        count = int(np.prod([x.shape[a] for a in axes]))
        total = field.mul(total, field.inverse(np.array(count % field.p)))
    return total


def _layer_norm(attrs: dict, x: list[Any], field: Field) -> np.ndarray:
    """(x - mean) / sqrt(var + epsilon) · scale + bias over the axes from ``axis`` on (exporters' form)."""
    data = x[0]
    axis = int(attrs.get("axis", -1)) % data.ndim
    axes = tuple(range(axis, data.ndim))
    count = int(np.prod(data.shape[axis:]))
    inverse_count = field.inverse(np.array(count % field.p))
    mean = field.mul(field.sum(data, axes, True), inverse_count)
    centred = field.sub(data, mean)
    variance = field.mul(field.sum(field.mul(centred, centred), axes, True), inverse_count)
    epsilon = field.of_floats(np.array(float(attrs.get("epsilon", 1e-5)), dtype=np.float32))
    root = field.uninterpreted("Sqrt", field.add(variance, epsilon))
    found = field.mul(field.mul(centred, field.inverse(root)), x[1])
    if len(x) > 2 and x[2] is not None:
        found = field.add(found, x[2])
    return found


def _gelu(attrs: dict, data: np.ndarray, field: Field) -> np.ndarray:
    """Gelu as exporters spell its exact form: x · 0.5 · (1 + erf(x / sqrt(2))) (the tanh form: unknown)."""
    if attrs.get("approximate", "none") != "none":
        return field.uninterpreted("Gelu:tanh", data)
    root_two = field.of_floats(np.array(1.4142135381698608, dtype=np.float32))
    erf = field.uninterpreted("Erf", field.mul(data, field.inverse(root_two)))
    one = field.of_floats(np.array(1.0))
    return field.mul(field.mul(data, field.add(erf, one)), field.of_floats(np.array(0.5)))


#: ONNX's default activations of the recurrent operators (gates, candidate, output)
RECURRENT_ACTIVATIONS = {"LSTM": ("Sigmoid", "Tanh", "Tanh"), "GRU": ("Sigmoid", "Tanh")}


def _recurrent(
    node: Node, args: list[Value | None], x: list[Any], field: Field, budget: list[int]
) -> list[np.ndarray]:
    """LSTM and GRU unrolled step by step as ONNX defines them (gates iofc and zrh), per direction.

    The activations are the uninterpreted functions Sigmoid and Tanh stand for elsewhere, so a cell
    written out with MatMul, Split, Sigmoid and Tanh nodes (as Keras-style exports do) is the same
    expression when its gates compute the same thing.
    """
    attrs = node.attrs
    if attrs.get("clip") is not None or attrs.get("input_forget", 0):
        raise NotProvable(f"{node.op} with clip or coupled input and forget gates")
    if len(args) > 4 and args[4] is not None:
        raise NotProvable(f"{node.op} with sequence lengths")
    direction = attrs.get("direction", "forward")
    directions = {"forward": ("forward",), "reverse": ("reverse",), "bidirectional": ("forward", "reverse")}
    if direction not in directions:
        raise NotProvable(f"{node.op} direction {direction}")
    count = len(directions[direction])
    activations = tuple(attrs.get("activations") or RECURRENT_ACTIVATIONS[node.op] * count)
    if any(a not in UNINTERPRETED for a in activations):
        raise NotProvable(f"{node.op} activations {activations}")
    data = x[0]
    if int(attrs.get("layout", 0)):  # [batch, seq, input] -> [seq, batch, input]
        data = np.swapaxes(data, 0, 1)
    steps, batch = data.shape[0], data.shape[1]
    hidden = int(attrs["hidden_size"]) if "hidden_size" in attrs else x[2].shape[-1]
    gates = 4 if node.op == "LSTM" else 3
    _spend(budget, (steps * batch * count, data.shape[2]), (data.shape[2], gates * hidden * 2))
    zeros = np.zeros((count, batch, hidden), dtype=np.int64)
    initial_h = x[5] if len(x) > 5 and x[5] is not None else zeros
    initial_c = x[6] if len(x) > 6 and x[6] is not None else zeros
    bias = x[3] if len(x) > 3 and x[3] is not None else np.zeros((count, 2 * gates * hidden), dtype=np.int64)
    peephole = x[7] if node.op == "LSTM" and len(x) > 7 and x[7] is not None else None
    outputs, last_h, last_c = [], [], []
    per = len(RECURRENT_ACTIVATIONS[node.op])
    for d, way in enumerate(directions[direction]):
        names = activations[d * per : (d + 1) * per]
        h, c = initial_h[d], initial_c[d]
        w, r = x[1][d], x[2][d]
        wb, rb = bias[d][: gates * hidden], bias[d][gates * hidden :]
        order = range(steps) if way == "forward" else range(steps - 1, -1, -1)
        found = [None] * steps
        for t in order:
            projected = field.add(field.matmul(data[t], w.T), wb)
            if node.op == "LSTM":
                h, c = _lstm_step(field, projected, h, c, r, rb, hidden, names, peephole, d)
            else:
                h = _gru_step(
                    field, projected, h, r, rb, hidden, names, int(attrs.get("linear_before_reset", 0))
                )
            found[t] = h
        outputs.append(np.stack(found))
        last_h.append(h)
        last_c.append(c)
    y = np.stack(outputs, axis=1)  # [seq, num_directions, batch, hidden]
    y_h, y_c = np.stack(last_h), np.stack(last_c)
    if int(attrs.get("layout", 0)):
        y = np.transpose(y, (2, 0, 1, 3))
        y_h, y_c = np.swapaxes(y_h, 0, 1), np.swapaxes(y_c, 0, 1)
    return [y, y_h, y_c][: len(node.outputs)]


def _lstm_step(field: Field, projected, h, c, r, rb, hidden, names, peephole, d):
    gate, cell, out = names
    z = field.add(projected, field.add(field.matmul(h, r.T), rb))
    i, o, f, g = (z[:, k * hidden : (k + 1) * hidden] for k in range(4))
    if peephole is not None:
        pi, po, pf = (peephole[d][k * hidden : (k + 1) * hidden] for k in range(3))
        i, f = field.add(i, field.mul(pi, c)), field.add(f, field.mul(pf, c))
    i, f = field.uninterpreted(gate, i), field.uninterpreted(gate, f)
    c = field.add(field.mul(f, c), field.mul(i, field.uninterpreted(cell, g)))
    if peephole is not None:
        o = field.add(o, field.mul(po, c))
    return field.mul(field.uninterpreted(gate, o), field.uninterpreted(out, c)), c


def _gru_step(field: Field, projected, h, r, rb, hidden, names, linear_before_reset):
    gate, cell = names
    xz, xr, xh = (projected[:, k * hidden : (k + 1) * hidden] for k in range(3))
    rz, rr, rh = (r[k * hidden : (k + 1) * hidden] for k in range(3))
    bz, br, bh = (rb[k * hidden : (k + 1) * hidden] for k in range(3))
    z = field.uninterpreted(gate, field.add(xz, field.add(field.matmul(h, rz.T), bz)))
    reset = field.uninterpreted(gate, field.add(xr, field.add(field.matmul(h, rr.T), br)))
    if linear_before_reset:
        recurrent = field.mul(reset, field.add(field.matmul(h, rh.T), bh))
    else:
        recurrent = field.add(field.matmul(field.mul(reset, h), rh.T), bh)
    candidate = field.uninterpreted(cell, field.add(xh, recurrent))
    one = np.ones_like(z)
    return field.add(field.mul(field.sub(one, z), candidate), field.mul(z, h))
