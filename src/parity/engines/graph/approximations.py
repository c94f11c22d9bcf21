"""Known approximations recognised in two normal forms that differ: the function, and which form is which.

When a region's normal forms differ (equivalence.py refutes it), the difference may be a well-known
approximation written out as arithmetic rather than a changed operation: GELU's exact form
0.5·x·(1 + erf(x/√2)) against its tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), which
exporters write as a dozen Mul/Add/Pow nodes when the opset has no Gelu (before 20). Recognised, the
region is the attribute ``approximate`` of a Gelu ("none" against "tanh"), as a Gelu node at opset 20
says it, not a changed operation and not a replaced constant.

Recognition is by evaluation of both normal forms of one variable on a grid, against the exact and
approximate GELU and the partial forms a region may cover (the matcher may pair the outer Mul/Add nodes
of both spellings, leaving only erf(x/√2) against tanh(...) in the region).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

#: evaluation points: both tails and the curved middle, where exact and tanh GELU differ most
GRID = np.linspace(-5.0, 5.0, 81)
#: the rational constants of normal forms stand for float32 constants
RTOL, ATOL = 1e-5, 1e-6


def _erf_gelu_inner(x: float) -> float:
    return math.erf(x / math.sqrt(2.0))


def _tanh_gelu_inner(x: float) -> float:
    return math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))


#: how much of GELU a region may cover, as a function of x and its inner function g(x)
LIFTS: tuple[Callable[[float, float], float], ...] = (
    lambda x, g: g,
    lambda x, g: 1.0 + g,
    lambda x, g: 0.5 * (1.0 + g),
    lambda x, g: x * (1.0 + g),
    lambda x, g: 0.5 * x * (1.0 + g),
    lambda x, g: 0.5 * x * g,
    lambda x, g: x * g,
)
#: (op, attribute, {attribute value: inner function}) of each recognised approximation
KNOWN = (("Gelu", "approximate", {"none": _erf_gelu_inner, "tanh": _tanh_gelu_inner}),)


def recognise(first: Any, second: Any) -> dict[str, Any] | None:
    """The approximation two differing normal forms (sympy, one variable each) stand for, or None."""
    try:
        left, right = _values(first), _values(second)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError, NameError, AttributeError):
        return None  # not a function of one real variable that math can evaluate
    if left is None or right is None:
        return None
    for op, attribute, forms in KNOWN:
        for lift in LIFTS:
            shapes = {
                value: np.array([lift(x, inner(x)) for x in GRID], dtype=np.float64)
                for value, inner in forms.items()
            }
            found = [_which(shapes, left), _which(shapes, right)]
            if None not in found and found[0] != found[1]:
                return {
                    "op": op,
                    "attribute": attribute,
                    "reference_value": found[0],
                    "candidate_value": found[1],
                }
    return None


def _which(shapes: dict[str, np.ndarray], values: np.ndarray) -> str | None:
    for name, expected in shapes.items():
        if np.allclose(values, expected, rtol=RTOL, atol=ATOL):
            return name
    return None


def _values(form: Any) -> np.ndarray | None:
    """The form evaluated on the grid, if it is a real function of one variable."""
    import sympy

    symbols = sorted(form.free_symbols, key=str)
    if len(symbols) != 1 or form.atoms(sympy.core.function.AppliedUndef):
        return None  # several variables, or an operation symbolic.py keeps opaque (Softmax)
    function = sympy.lambdify(symbols[0], form, modules=["math"])
    values = np.array([float(function(float(x))) for x in GRID], dtype=np.float64)
    return values if np.all(np.isfinite(values)) else None
