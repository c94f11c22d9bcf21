"""A small, safe expression language for log rules, and its evaluator.

Expressions are parsed once (:mod:`parity.engines.logs.expression_syntax`, with ``ast`` and a whitelist)
into a program of plain nested lists, which ships in the compiled rules; this module turns a program
into closures. No Python ``eval``, no attribute access, no imports, no comprehensions, and no ``ast`` on
the path that checks a log (it costs start-up time).

Grammar (Python syntax, restricted): literals (numbers, strings, True/False/None, lists/tuples), names,
``and``/``or``/``not``, comparisons (``== != < <= > >= in not in is is not``), arithmetic
(``+ - * / // % **``), conditional expressions (``a if c else b``), subscripts on names
(``metadata['epoch_num']``) and calls to the functions in :data:`FUNCTIONS`. Names are looked up in the
environment the checker builds: ``value``, ``metadata``, ``timestamp`` of the line being checked, the
first logged value of any other key by its name (``global_batch_size``), and constants of the round
(``init_limit_ms``).
"""

from __future__ import annotations

import math
import operator
from functools import lru_cache

MAX_LENGTH = 2000
MAX_EXPONENT = 64
#: the longest string or list a rule may build by repetition (a logged string times a logged number)
MAX_REPEATED = 10_000


class ExpressionError(ValueError):
    """An expression that is not in the language (raised when parsing) or cannot be computed."""


def _close(a: float, b: float, rel: float = 1e-9, abs_: float = 0.0) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def _is_integer(x: object) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


def _multiply(left, right):
    """``left * right``, refusing to repeat a string or list past :data:`MAX_REPEATED` items."""
    for sequence, times in ((left, right), (right, left)):
        repeats = isinstance(sequence, str | list | tuple) and isinstance(times, int)
        if repeats and len(sequence) * max(times, 0) > MAX_REPEATED:
            kind = type(sequence).__name__
            raise ExpressionError(f"repeating a {kind} of {len(sequence)} items {times} times")
    return left * right


def _power(base: float, exponent: float) -> float:
    if abs(exponent) > MAX_EXPONENT:
        raise ExpressionError("exponent too large")
    return base**exponent


FUNCTIONS = {
    "ceil": math.ceil,
    "floor": math.floor,
    "sqrt": math.sqrt,
    "log": math.log,
    "log2": math.log2,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "int": int,
    "float": float,
    "len": len,
    "is_integer": _is_integer,
    "close": _close,
    "isnumber": lambda x: isinstance(x, int | float) and not isinstance(x, bool),
    "isstring": lambda x: isinstance(x, str),
}
BINARY = {
    "+": operator.add,
    "-": operator.sub,
    "*": _multiply,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": _power,
}
COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "is": operator.is_,
    "is not": operator.is_not,
}
UNARY = {"not": operator.not_, "neg": operator.neg, "pos": operator.pos}


def build(program: list):
    """Closures for a parsed program (``env -> value``); raises ExpressionError for an unknown node."""
    try:
        return _BUILDERS[program[0]](*program[1:])
    except ExpressionError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise ExpressionError(f"not a rule-expression program: {str(program)[:80]}") from None


def _constant(value):
    if not isinstance(value, int | float | str | bool | type(None)):
        raise ExpressionError("constants are numbers, strings, booleans or None")
    return lambda env: value


def _name(name: str):
    def lookup(env):
        if name not in env:
            raise ExpressionError(f"{name!r} is not logged")
        return env[name]

    return lookup


def _items(items: list):
    parts = [build(item) for item in items]
    return lambda env: [part(env) for part in parts]


def _and(items: list):
    parts = [build(item) for item in items]
    return lambda env: all(part(env) for part in parts)


def _or(items: list):
    parts = [build(item) for item in items]
    return lambda env: any(part(env) for part in parts)


def _unary(op_name: str):
    op = UNARY[op_name]

    def make(operand: list):
        inner = build(operand)
        return lambda env: op(inner(env))

    return make


def _binary(op_name: str, left: list, right: list):
    op, first, second = BINARY[op_name], build(left), build(right)
    return lambda env: op(first(env), second(env))


def _compare(left: list, pairs: list):
    first = build(left)
    steps = [(COMPARE[op], build(right)) for op, right in pairs]

    def compare(env) -> bool:
        current = first(env)
        for op, right in steps:
            following = right(env)
            if not op(current, following):
                return False
            current = following
        return True

    return compare


def _conditional(test: list, body: list, orelse: list):
    condition, then, otherwise = build(test), build(body), build(orelse)
    return lambda env: then(env) if condition(env) else otherwise(env)


def _subscript(name: str, key: list):
    container, index = _name(name), build(key)

    def subscript(env):
        found, at = container(env), index(env)
        try:
            return found[at]
        except (KeyError, IndexError, TypeError):
            raise ExpressionError(f"{name}[{at!r}] is not logged") from None

    return subscript


def _call(function_name: str, args: list, keywords: dict):
    function = FUNCTIONS[function_name]
    positional = [build(arg) for arg in args]
    named = {key: build(value) for key, value in keywords.items()}
    return lambda env: function(*(arg(env) for arg in positional), **{k: v(env) for k, v in named.items()})


_BUILDERS = {
    "const": _constant,
    "name": _name,
    "list": _items,
    "and": _and,
    "or": _or,
    "not": _unary("not"),
    "neg": _unary("neg"),
    "pos": _unary("pos"),
    "binary": _binary,
    "compare": _compare,
    "if": _conditional,
    "subscript": _subscript,
    "call": _call,
}


def run(compiled, env: dict):
    """Evaluate compiled closures; type errors in the log's values become ExpressionError."""
    try:
        return compiled(env)
    except ExpressionError:
        raise
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise ExpressionError(f"{type(exc).__name__}: {exc}") from None


@lru_cache(maxsize=4096)
def compile_expression(text: str):
    """Parse ``text`` once into closures; raises ExpressionError for anything outside the language."""
    from parity.engines.logs.expression_syntax import parse_expression  # ast: only when parsing

    return build(parse_expression(text))


def evaluate(text: str, env: dict):
    """Compile (cached) and evaluate ``text``."""
    return run(compile_expression(text), env)
