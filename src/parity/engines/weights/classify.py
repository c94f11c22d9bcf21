"""Provenance of one candidate parameter: how it derives from the reference parameter it stands for.

Both values are canonical (the graph engine's derived parameters: folds, transposes, dequantization are
already applied, in float64), so the question is only *how close, and why*: bit-identical, equal up to
the declared transform (rearranged, folded), equal to the reference rounded to a narrower format
(precision reduced) or within half a quantization step (quantized); otherwise pruned, replaced or
modified, each with the numbers that show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity.engines.weights.layouts import nchwc_candidates
from parity.engines.weights.tolerance import fold_bound, quantization_bound, rounding_bound
from parity.ir import Param

FOLDS = frozenset({"fold_bn", "fuse_bias", "fuse_scale", "reciprocal", "gemm_c"})
REARRANGEMENTS = frozenset(
    {
        "gemm_b",
        "transpose",
        "reshape",
        "flatten",
        "squeeze",
        "unsqueeze",
        "concat",
        "slice",
        "gather",
        "attention_q",
        "attention_k",
        "attention_v",
        "nchwc_blocked",
    }
)
NARROW_FLOATS = {
    "FLOAT16": "fp16",
    "BFLOAT16": "bf16",
    "FLOAT8E4M3FN": "float8e4m3fn",
    "FLOAT8E5M2": "float8e5m2",
}
#: below this Pearson correlation a tensor is a replacement, not an edit of the reference
REPLACED_BELOW = 0.5


@dataclass
class TensorVerdict:
    """What one (reference, candidate) parameter pair turned out to be, with the numbers."""

    kind: str
    reference: tuple[str, ...]
    candidate: tuple[str, ...]
    transforms: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def _names(param: Param) -> tuple[str, ...]:
    return param.sources or (param.name,)


def classify(reference: Param, candidate: Param) -> TensorVerdict:
    """Classify the candidate parameter against the reference parameter it is matched with."""
    r = np.asarray(reference.values(), dtype=np.float64)
    c = np.asarray(candidate.values(), dtype=np.float64)
    transforms = tuple(dict.fromkeys([*reference.transform, *candidate.transform]))
    verdict = TensorVerdict("weights.identical", _names(reference), _names(candidate), transforms)
    if r.shape != c.shape:
        verdict.kind, verdict.details["problem"] = "weights.modified", f"shape {c.shape} vs {r.shape}"
        return verdict
    if not np.isfinite(c).all():
        verdict.kind = "weights.modified"
        verdict.details["problem"] = "non-finite values"
        verdict.metrics["non_finite"] = float((~np.isfinite(c)).sum())
        return verdict
    bound, kind, extra = _expectation(reference, candidate, r)
    verdict.details.update(extra)
    if "nchwc_blocked" in candidate.transform:
        c = _unblocked(r, c, bound, verdict)
    verdict.metrics.update(_errors(r, c))
    if np.array_equal(r, c) and not transforms:
        return verdict
    if np.all(np.abs(c - r) <= bound):
        verdict.kind = kind
        return verdict
    verdict.kind = _failure(r, c, bound, verdict.metrics)
    return verdict


def _expectation(reference: Param, candidate: Param, r: np.ndarray) -> tuple[np.ndarray, str, dict]:
    """The bound the candidate must meet, the kind it is if it does, and what was expected."""
    if {"dequantize", "dequantize_bias"} & set(candidate.transform):
        step = _step(candidate, r.shape)
        info = candidate.info
        scheme = "per-channel" if np.size(step) > 1 else "per-tensor"
        return (
            quantization_bound(step),
            "weights.quantized",
            {"format": info.get("stored_format"), "scheme": scheme},
        )
    stored = candidate.info.get("stored_format") or NARROW_FLOATS.get(candidate.dtype)
    if stored in ("fp16", "bf16", "float8e4m3fn", "float8e5m2"):
        return rounding_bound(r, stored) + fold_bound(r), "weights.precision_reduced", {"format": stored}
    folded = FOLDS & {*reference.transform, *candidate.transform}
    if folded:
        return fold_bound(r), "weights.folded", {"transform": sorted(folded)}
    if REARRANGEMENTS & set(candidate.transform) or REARRANGEMENTS & set(reference.transform):
        return fold_bound(r), "weights.rearranged", {}
    return np.zeros_like(r), "weights.identical", {}


def _step(candidate: Param, shape: tuple[int, ...]) -> np.ndarray:
    """The quantization step (scale) of a dequantized candidate, broadcast to the tensor."""
    scale = np.asarray(candidate.info["scale"].values(), dtype=np.float64)
    if scale.size <= 1:
        return np.full(shape, float(scale.reshape(-1)[0]) if scale.size else 0.0)
    view = [1] * len(shape)
    view[int(candidate.info.get("axis", 1))] = -1
    return np.broadcast_to(scale.reshape(view), shape)


def _unblocked(r: np.ndarray, c: np.ndarray, bound: np.ndarray, verdict: TensorVerdict) -> np.ndarray:
    """The candidate filter in OIHW order, for the block layout that reproduces the reference best."""
    best, best_error = c, np.inf
    for name, candidate in nchwc_candidates(c):
        error = float(np.max(np.abs(candidate - r) - bound)) if r.size else 0.0
        if error < best_error:
            best, best_error, verdict.details["layout"] = candidate, error, name
    return best


def _errors(r: np.ndarray, c: np.ndarray) -> dict[str, float]:
    difference = np.abs(c - r)
    scale = float(np.abs(r).max()) if r.size else 0.0
    return {
        "max_abs_error": float(difference.max()) if r.size else 0.0,
        "scaled_error": float(difference.max() / scale)
        if scale
        else float(difference.max())
        if r.size
        else 0.0,
        "elements": float(r.size),
    }


def _failure(r: np.ndarray, c: np.ndarray, bound: np.ndarray, metrics: dict[str, float]) -> str:
    """Pruned, replaced or modified, with counts."""
    bad = np.abs(c - r) > bound
    zeroed = bad & (c == 0) & (r != 0)
    metrics["differing"] = float(bad.sum())
    metrics["differing_fraction"] = float(bad.mean())
    if zeroed.any() and zeroed.sum() >= 0.5 * bad.sum():
        metrics["pruned"] = float(zeroed.sum())
        metrics["pruned_fraction"] = float(zeroed.sum() / max(int((r != 0).sum()), 1))
        return "weights.pruned"
    correlation = _correlation(r, c)
    metrics["correlation"] = correlation
    return "weights.replaced" if correlation < REPLACED_BELOW else "weights.modified"


def _correlation(r: np.ndarray, c: np.ndarray) -> float:
    if r.size < 2 or r.std() == 0 or c.std() == 0:
        return 1.0 if np.allclose(r, c) else 0.0
    return float(np.corrcoef(r.reshape(-1), c.reshape(-1))[0, 1])
