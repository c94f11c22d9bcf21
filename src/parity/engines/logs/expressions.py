"""A small, safe expression language for log rules.

Expressions are parsed once with ``ast`` and evaluated by walking a whitelist of node types: no Python
``eval``, no attribute access, no imports, no comprehensions.

Grammar (Python syntax, restricted): literals (numbers, strings, True/False/None, lists/tuples), names,
``and``/``or``/``not``, comparisons (``== != < <= > >= in not in``), arithmetic (``+ - * / // % **``),
conditional expressions (``a if c else b``), subscripts on names (``metadata['epoch_num']``) and calls to
the functions in :data:`FUNCTIONS`. Names are looked up in the environment the checker builds: ``value``,
``metadata``, ``timestamp`` of the line being checked, the first logged value of any other key by its name
(``global_batch_size``), and constants of the round (``init_limit_ms``).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

MAX_LENGTH = 2000


class ExpressionError(ValueError):
    """An expression that is not in the language (raised when parsing) or cannot be computed."""


def _close(a: float, b: float, rel: float = 1e-9, abs_: float = 0.0) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def _is_integer(x: Any) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


FUNCTIONS: dict[str, Callable[..., Any]] = {
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

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}

Compiled = Callable[[Mapping[str, Any]], Any]


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Compiled:
    """Parse ``text`` once into an evaluator; raises ExpressionError for anything outside the language."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not an expression: {exc.msg}") from None
    return _compile(tree.body)


def _compile(node: ast.AST) -> Compiled:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool | type(None)):
        value = node.value
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id

        def lookup(env: Mapping[str, Any]) -> Any:
            if name not in env:
                raise ExpressionError(f"{name!r} is not logged")
            return env[name]

        return lookup
    if isinstance(node, ast.List | ast.Tuple):
        items = [_compile(item) for item in node.elts]
        return lambda env: [item(env) for item in items]
    if isinstance(node, ast.BoolOp):
        parts = [_compile(value) for value in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(part(env) for part in parts)
        return lambda env: any(part(env) for part in parts)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        op, operand = _UNARY[type(node.op)], _compile(node.operand)
        return lambda env: op(operand(env))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        op, left, right = _BINARY[type(node.op)], _compile(node.left), _compile(node.right)
        if isinstance(node.op, ast.Pow):

            def power(env: Mapping[str, Any]) -> Any:
                base, exponent = left(env), right(env)
                if abs(exponent) > 64:
                    raise ExpressionError("exponent too large")
                return base**exponent

            return power
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _compile(node.left)
        pairs = [
            (_COMPARE[type(op)], _compile(right))
            for op, right in zip(node.ops, node.comparators, strict=True)
        ]

        def compare(env: Mapping[str, Any]) -> bool:
            current = left(env)
            for op, right in pairs:
                following = right(env)
                if not op(current, following):
                    return False
                current = following
            return True

        return compare
    if isinstance(node, ast.IfExp):
        test, body, orelse = _compile(node.test), _compile(node.body), _compile(node.orelse)
        return lambda env: body(env) if test(env) else orelse(env)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        container, key = _compile(node.value), _compile(node.slice)

        def subscript(env: Mapping[str, Any]) -> Any:
            found = container(env)
            index = key(env)
            try:
                return found[index]
            except (KeyError, IndexError, TypeError):
                raise ExpressionError(f"{node.value.id}[{index!r}] is not logged") from None

        return subscript
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        function = FUNCTIONS[node.func.id]
        args = [_compile(arg) for arg in node.args]
        keywords = {kw.arg: _compile(kw.value) for kw in node.keywords if kw.arg}
        return lambda env: function(*(arg(env) for arg in args), **{k: v(env) for k, v in keywords.items()})
    raise ExpressionError(f"{type(node).__name__} is not allowed in a rule expression")


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """Compile (cached) and evaluate; type errors in the log's values become ExpressionError."""
    try:
        return compile_expression(text)(env)
    except ExpressionError:
        raise
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise ExpressionError(f"{type(exc).__name__}: {exc}") from None
