"""Parsing rule expressions: Python syntax, restricted to a whitelist, turned into a plain program.

This is the only place ``ast`` is used. A program is nested JSON lists (``["compare", left, [["<",
right]]]``), so compiled rules can ship as JSON and run without parsing anything (see
:mod:`parity.engines.logs.expressions` for the evaluator and the grammar).
"""

from __future__ import annotations

import ast

from parity.engines.logs.expressions import FUNCTIONS, MAX_LENGTH, ExpressionError

_BINARY = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_UNARY = {ast.Not: "not", ast.USub: "neg", ast.UAdd: "pos"}


def parse_expression(text: str) -> list:
    """The program of ``text``; raises ExpressionError for anything outside the language."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not an expression: {exc.msg}") from None
    return _program(tree.body)


def _program(node: ast.AST) -> list:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool | type(None)):
        return ["const", node.value]
    if isinstance(node, ast.Name):
        return ["name", node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return ["list", [_program(item) for item in node.elts]]
    if isinstance(node, ast.BoolOp):
        return ["and" if isinstance(node.op, ast.And) else "or", [_program(v) for v in node.values]]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return [_UNARY[type(node.op)], _program(node.operand)]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return ["binary", _BINARY[type(node.op)], _program(node.left), _program(node.right)]
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        pairs = [
            [_COMPARE[type(op)], _program(right)]
            for op, right in zip(node.ops, node.comparators, strict=True)
        ]
        return ["compare", _program(node.left), pairs]
    if isinstance(node, ast.IfExp):
        return ["if", _program(node.test), _program(node.body), _program(node.orelse)]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return ["subscript", node.value.id, _program(node.slice)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if any(kw.arg is None for kw in node.keywords):
            raise ExpressionError("** arguments are not allowed in a rule expression")
        keywords = {kw.arg: _program(kw.value) for kw in node.keywords}
        return ["call", node.func.id, [_program(arg) for arg in node.args], keywords]
    raise ExpressionError(f"{type(node).__name__} is not allowed in a rule expression")
