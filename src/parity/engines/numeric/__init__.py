"""Numeric equivalence: sandboxed runs, comparison with derived tolerances, localisation, accuracy."""

from parity.engines.numeric.engine import NumericOptions, NumericResult, compare_numerics

__all__ = ["NumericOptions", "NumericResult", "compare_numerics"]
