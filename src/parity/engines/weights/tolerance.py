"""Tolerances derived from number formats, never one global constant.

A value stored in a format with p mantissa bits is within half a unit in the last place of the exact
value: |error| ≤ 2^-(p+1)·|x| (plus the smallest subnormal step near zero). Folded weights are computed
in float64 from the reference and compared with the candidate's fp32 tensor, so they get a few fp32 units.
"""

from __future__ import annotations

#: explicit mantissa bits of each floating format
MANTISSA = {"fp64": 52, "fp32": 23, "tf32": 10, "fp16": 10, "bf16": 7, "float8e4m3fn": 3, "float8e5m2": 2}
#: smallest positive subnormal of each format (the absolute floor near zero)
TINY = {
    "fp64": 5e-324,
    "fp32": 1.4e-45,
    "fp16": 6e-8,
    "bf16": 9.2e-41,
    "float8e4m3fn": 2e-3,
    "float8e5m2": 1.5e-5,
}
#: fp32 units allowed for a fold computed in a different order than the candidate's tool did
FOLD_UNITS = 16
