"""Provenance of one candidate parameter: how it derives from the reference parameter it stands for.

Both values are canonical (the graph engine's derived parameters: folds, transposes, dequantization are
already applied, in float64), so the question is only *how close, and why*: bit-identical, equal up to
the declared transform (rearranged, folded), equal to the reference rounded to a narrower format
(precision reduced) or within half a quantization step (quantized); otherwise pruned, replaced or
modified, each with the numbers that show it.

Tensors are streamed in chunks (two passes: the scale, then the comparison), so a stored tensor is never
held twice in memory and a model larger than memory can be compared through its memory map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity.engines.weights.semantics import FP16_CLAMPS, NCHWC_PADDING, ToolSemantics, fp16_clamped
from parity.engines.weights.tolerance import FOLD_UNITS, MANTISSA, TINY
from parity.ir import Param
from parity.ir.layouts import nchwc_candidates, unblock
from parity.observations.kinds import (
    WEIGHTS_FOLDED,
    WEIGHTS_IDENTICAL,
    WEIGHTS_MODIFIED,
    WEIGHTS_PRECISION_REDUCED,
    WEIGHTS_PRUNED,
    WEIGHTS_QUANTIZED,
    WEIGHTS_REARRANGED,
    WEIGHTS_RECOMPUTED,
    WEIGHTS_REPLACED,
    WEIGHTS_UNFOLDED,
)

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
        "nchwc_padding",
    }
)
QUANTIZED = frozenset({"dequantize", "dequantize_bias"})
NARROW_FLOATS = {
    "FLOAT16": "fp16",
    "BFLOAT16": "bf16",
    "FLOAT8E4M3FN": "float8e4m3fn",
    "FLOAT8E5M2": "float8e5m2",
}
#: below this Pearson correlation a tensor is a replacement, not an edit of the reference
REPLACED_BELOW = 0.5
#: elements per chunk (2 MiB of float64 per operand, so a comparison's working set stays small)
CHUNK = 1 << 18


@dataclass
class TensorVerdict:
    """What one (reference, candidate) parameter pair turned out to be, with the numbers."""

    kind: str
    reference: tuple[str, ...]
    candidate: tuple[str, ...]
    transforms: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Expectation:
    """What the candidate must be to pass, and what it is then."""

    kind: str
    rounding_bits: int | None = None  # half an ulp of this many mantissa bits, relative
    rounding_tiny: float = 0.0
    fold_units: float = 0.0  # this many fp32 ulps of |r| plus one of max|r|
    step: Any = None  # callable (start, stop) -> half-step bound for quantized tensors
    #: converters' documented clampings, each accepted as an alternative to plain rounding
    clamps: tuple[ToolSemantics, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


def _names(param: Param) -> tuple[str, ...]:
    return param.sources or (param.name,)


def classify(reference: Param, candidate: Param) -> TensorVerdict:
    """Classify the candidate parameter against the reference parameter it is matched with."""
    transforms = tuple(dict.fromkeys([*reference.transform, *candidate.transform]))
    verdict = TensorVerdict(WEIGHTS_IDENTICAL, _names(reference), _names(candidate), transforms)
    if tuple(reference.shape) != tuple(candidate.shape):
        if _fewer_rows(reference, candidate):
            return _rows_removed(reference, candidate, verdict)
        verdict.kind = WEIGHTS_MODIFIED
        verdict.details["problem"] = f"shape {list(candidate.shape)} vs {list(reference.shape)}"
        return verdict
    r, c = reference.values(), candidate.values()
    expect = _expectation(reference, candidate, r.shape)
    verdict.details.update(expect.details)
    if "nchwc_blocked" in candidate.transform:
        c = _unblocked(np.asarray(r, dtype=np.float64), candidate, np.asarray(c, dtype=np.float64), verdict)
        if verdict.metrics.get("padding_nonzero"):
            verdict.kind = WEIGHTS_MODIFIED
            verdict.details["problem"] = (
                f"{verdict.metrics['padding_nonzero']:.0f} non-zero entries in the NCHWc channel padding"
            )
            return verdict
    with np.errstate(all="ignore"):  # non-finite values are observed below, not printed as warnings
        stats = _compare(r.reshape(-1), c.reshape(-1), expect)
    verdict.metrics.update(stats.metrics())
    if stats.non_finite or stats.non_finite_reference:
        sides = [
            name
            for name, count in (
                ("the reference", stats.non_finite_reference),
                ("the candidate", stats.non_finite),
            )
            if count
        ]
        verdict.kind = WEIGHTS_MODIFIED
        verdict.details["problem"] = f"non-finite values in {' and '.join(sides)}"
        return verdict
    if stats.equal and not transforms:
        return verdict
    if stats.bad == 0:
        verdict.kind = expect.kind
        used = [item for item in expect.clamps if stats.clamped_by.get(item.name)]
        if stats.clamped and used:
            verdict.details["semantics"] = ", ".join(item.name for item in used)
            verdict.details["documented"] = "; ".join(item.documented for item in used)
            verdict.details["clamped"] = stats.clamped
        return verdict
    verdict.kind = stats.failure()
    if verdict.kind == WEIGHTS_PRUNED:
        verdict.metrics["pruned"] = float(stats.zeroed)
        verdict.metrics["pruned_fraction"] = stats.zeroed / max(stats.nonzero, 1)
    else:
        verdict.metrics["correlation"] = stats.correlation()
    return verdict


def _fewer_rows(reference: Param, candidate: Param) -> bool:
    """Whether the candidate is the reference table with rows cut (same row width, fewer rows)."""
    ref, cand = tuple(reference.shape), tuple(candidate.shape)
    return len(ref) == len(cand) >= 1 and ref[1:] == cand[1:] and 0 < cand[0] < ref[0]


def _rows_removed(reference: Param, candidate: Param, verdict: TensorVerdict) -> TensorVerdict:
    """A table with fewer rows (rows pruned away, or a hashed table whose indices are taken modulo).

    The rows the candidate keeps are compared with the reference's first rows under the usual expectation:
    equal, the rest of the table was pruned (the removed rows counted); otherwise the smaller table is a
    replacement of the reference's (a hashed table trained or drawn anew), the rows counted too.
    """
    rows, kept = int(reference.shape[0]), int(candidate.shape[0])
    r = np.asarray(reference.values()).reshape(rows, -1)[:kept].reshape(-1)
    c = np.asarray(candidate.values()).reshape(-1)
    expect = _expectation(reference, candidate, tuple(candidate.shape))
    with np.errstate(all="ignore"):
        stats = _compare(r, c, expect)
    removed = np.asarray(reference.values()).reshape(rows, -1)[kept:]
    verdict.metrics.update(stats.metrics())
    verdict.metrics.update(
        {
            "rows": float(rows),
            "rows_kept": float(kept),
            "rows_removed": float(rows - kept),
            "pruned": float(np.count_nonzero(removed)),
            "pruned_fraction": (rows - kept) / rows,
        }
    )
    if stats.bad == 0 and not stats.non_finite:
        verdict.kind = WEIGHTS_PRUNED
        verdict.details["problem"] = (
            f"{rows - kept} of {rows} rows removed (the first {kept} kept as they were)"
        )
    else:
        verdict.kind = WEIGHTS_REPLACED
        verdict.metrics["correlation"] = stats.correlation() if stats.bad else 1.0
        verdict.details["problem"] = (
            f"a table of {kept} rows for the reference's {rows} ({rows - kept} rows fewer); "
            f"{stats.bad} of {stats.elements} entries of the rows kept differ"
        )
    return verdict


def _expectation(reference: Param, candidate: Param, shape: tuple[int, ...]) -> _Expectation:
    if QUANTIZED & set(candidate.transform):
        info = candidate.info
        scale = np.asarray(info["scale"].values(), dtype=np.float64).reshape(-1)
        scheme = "per-channel" if scale.size > 1 else "per-tensor"
        # an int32 bias is quantized with a scale that is itself a rounded product (x_scale · w_scale):
        # its rounding may land one step away, which is still 2^-31 of the range
        steps = 2.0 if "dequantize_bias" in candidate.transform else 1.0
        folded = FOLDS & set(reference.transform)
        return _Expectation(
            # quantized after a fold (a quantizer's pre-processing folds batch norms and scales first):
            # the fold is the change training forbids, the quantization's step the tolerance
            WEIGHTS_FOLDED if folded and not FOLDS & set(candidate.transform) else WEIGHTS_QUANTIZED,
            step=_half_steps(scale * steps, shape, int(info.get("axis", 1))),
            details={
                "format": info.get("format") or info.get("stored_format"),
                "scheme": scheme,
                **({"transform": sorted(folded), "quantized": True} if folded else {}),
            },
        )
    stored = candidate.info.get("stored_format") or NARROW_FLOATS.get(candidate.dtype)
    if stored in ("fp16", "bf16", "float8e4m3fn", "float8e5m2"):
        return _Expectation(
            WEIGHTS_PRECISION_REDUCED,
            rounding_bits=MANTISSA[stored],
            rounding_tiny=TINY[stored],
            fold_units=FOLD_UNITS,
            clamps=FP16_CLAMPS if stored == "fp16" else (),
            details={"format": stored},
        )
    folded = FOLDS & {*reference.transform, *candidate.transform}
    if folded and folded <= MOVED_AS_IS and _single_source(candidate) and _single_source(reference):
        return _Expectation(WEIGHTS_REARRANGED, fold_units=FOLD_UNITS)  # a bias moved, not combined
    if folded and not FOLDS & set(reference.transform):  # only the candidate's side needed the fold
        return _Expectation(WEIGHTS_UNFOLDED, fold_units=FOLD_UNITS, details={"transform": sorted(folded)})
    if folded:
        return _Expectation(WEIGHTS_FOLDED, fold_units=FOLD_UNITS, details={"transform": sorted(folded)})
    if REARRANGEMENTS & {*candidate.transform, *reference.transform}:
        return _Expectation(WEIGHTS_REARRANGED, fold_units=FOLD_UNITS)
    return _Expectation(WEIGHTS_RECOMPUTED, fold_units=FOLD_UNITS)


#: folds that only move a tensor when nothing is added to it (a bias Add into a Conv that had none)
MOVED_AS_IS = frozenset({"fuse_bias", "gemm_c"})


def _single_source(param: Param) -> bool:
    """Whether every step of the parameter's derivation reads one stored tensor (nothing combined)."""
    return len(param.sources or (param.name,)) <= 1


def _half_steps(scale: np.ndarray, shape: tuple[int, ...], axis: int):
    """Half a quantization step per flat index range (per tensor, or per channel along ``axis``)."""
    if scale.size <= 1:
        value = float(scale[0]) if scale.size else 0.0
        return lambda start, stop: np.full(stop - start, value * 0.5 * (1 + 1e-5) + 1e-12)
    axis = axis % len(shape)
    inner = int(np.prod(shape[axis + 1 :], dtype=np.int64))

    def bound(start: int, stop: int) -> np.ndarray:
        channel = (np.arange(start, stop) // inner) % shape[axis]
        return np.abs(scale[channel]) * 0.5 * (1 + 1e-5) + 1e-12

    return bound


@dataclass
class _Stats:
    """Streaming comparison of two flat tensors."""

    elements: int = 0
    scale: float = 0.0
    max_error: float = 0.0
    bad: int = 0
    zeroed: int = 0
    nonzero: int = 0
    non_finite: int = 0
    non_finite_reference: int = 0  # a NaN folded from a negative variance is no weight either
    clamped: int = 0  # entries only a converter's documented clamping explains
    clamped_by: dict[str, int] = field(default_factory=dict)  # per documented clamping
    equal: bool = True
    sums: list[float] = field(default_factory=lambda: [0.0] * 5)

    def metrics(self) -> dict[str, float]:
        found = {
            "elements": float(self.elements),
            "max_abs_error": self.max_error,
            "scaled_error": self.max_error / self.scale if self.scale else self.max_error,
        }
        if self.bad:
            found.update(
                {"differing": float(self.bad), "differing_fraction": self.bad / max(self.elements, 1)}
            )
        if self.non_finite:
            found["non_finite"] = float(self.non_finite)
        if self.clamped:
            found["clamped"] = float(self.clamped)
        return found

    def correlation(self) -> float:
        n = self.elements
        sr, sc, srr, scc, src = self.sums
        var_r, var_c = srr - sr * sr / n, scc - sc * sc / n
        if n < 2 or var_r <= 0 or var_c <= 0:
            return 1.0 if self.bad == 0 else 0.0
        return float((src - sr * sc / n) / np.sqrt(var_r * var_c))

    def failure(self) -> str:
        if self.zeroed and self.zeroed >= 0.5 * self.bad:
            return WEIGHTS_PRUNED
        return WEIGHTS_REPLACED if self.correlation() < REPLACED_BELOW else WEIGHTS_MODIFIED


def _compare(r_flat: np.ndarray, c_flat: np.ndarray, expect: _Expectation) -> _Stats:
    stats = _Stats(elements=int(r_flat.size))
    if expect.fold_units:  # the bound depends on the tensor's scale: one cheap pass first
        for start in range(0, r_flat.size, CHUNK):
            chunk = np.abs(r_flat[start : start + CHUNK])
            stats.scale = max(stats.scale, float(chunk.max()) if chunk.size else 0.0)
    same_storage = r_flat.dtype == c_flat.dtype
    for start in range(0, r_flat.size, CHUNK):
        stop = min(start + CHUNK, r_flat.size)
        if same_storage and np.array_equal(r_flat[start:stop], c_flat[start:stop]):
            if not expect.fold_units and stop > start:  # bit-identical chunk: only the scale is still unknown
                stats.scale = max(stats.scale, float(np.abs(r_flat[start:stop]).max()))
            continue
        r = np.asarray(r_flat[start:stop], dtype=np.float64)
        c = np.asarray(c_flat[start:stop], dtype=np.float64)
        if not expect.fold_units:
            stats.scale = max(stats.scale, float(np.abs(r).max()) if r.size else 0.0)
        finite = np.isfinite(c)
        stats.non_finite += int((~finite).sum())
        c = np.where(finite, c, 0.0)
        finite_reference = np.isfinite(r)
        stats.non_finite_reference += int((~finite_reference).sum())
        r = np.where(finite_reference, r, 0.0)
        difference = np.abs(c - r)
        stats.equal = stats.equal and not difference.any()
        stats.max_error = max(stats.max_error, float(difference.max()) if difference.size else 0.0)
        bad = difference > _bound(r, expect, stats.scale, start, stop)
        for clamp in expect.clamps:
            if not bad.any():
                break
            clamped = fp16_clamped(r[bad], clamp)
            explained = np.abs(c[bad] - clamped) <= _bound(clamped, expect, stats.scale, 0, clamped.size)
            stats.clamped += int(explained.sum())
            if explained.any():
                stats.clamped_by[clamp.name] = stats.clamped_by.get(clamp.name, 0) + int(explained.sum())
            bad[np.flatnonzero(bad)[explained]] = False
        stats.bad += int(bad.sum())
        stats.zeroed += int((bad & (c == 0) & (r != 0)).sum())
    if stats.bad:
        _moments(r_flat, c_flat, stats)
    return stats


def _moments(r_flat: np.ndarray, c_flat: np.ndarray, stats: _Stats) -> None:
    """Non-zero count and the sums behind the correlation: only needed once a tensor fails."""
    for start in range(0, r_flat.size, CHUNK):
        r = np.asarray(r_flat[start : start + CHUNK], dtype=np.float64)
        c = np.nan_to_num(np.asarray(c_flat[start : start + CHUNK], dtype=np.float64))
        stats.nonzero += int(np.count_nonzero(r))
        sums = (r.sum(), c.sum(), r @ r, c @ c, r @ c)
        stats.sums = [total + float(part) for total, part in zip(stats.sums, sums, strict=True)]


def _bound(r: np.ndarray, expect: _Expectation, scale: float, start: int, stop: int) -> np.ndarray | float:
    if expect.step is not None:
        return expect.step(start, stop)
    bound = np.zeros_like(r)
    if expect.rounding_bits is not None:
        bound += np.abs(r) * 2.0 ** -(expect.rounding_bits + 1) * 1.0001 + expect.rounding_tiny
    if expect.fold_units:
        bound += np.abs(r) * expect.fold_units * 2.0**-23 + scale * 2.0**-23
    return bound


def _unblocked(r: np.ndarray, candidate: Param, c: np.ndarray, verdict: TensorVerdict) -> np.ndarray:
    """The candidate filter in OIHW order, for the block layout that reproduces the reference best.

    The graph engine read the filter in the layout its block-size inference preferred; when several
    block sizes fit the model, the others are tried here too. The padding rows onnxruntime added (see
    semantics.NCHWC_PADDING) must be zero; their count is reported.
    """
    info = candidate.info
    stored = next((p for p in candidate.parents if p.transform == ()), None)
    layouts = info.get("layouts") or []
    if stored is None or not layouts or candidate.transform[-1] != "nchwc_blocked":
        best, best_error = c, np.inf  # a filter derived further after unblocking: try every layout
        for name, option in nchwc_candidates(c):
            error = float(np.max(np.abs(option - r))) if r.size else 0.0
            if error < best_error:
                best, best_error, verdict.details["layout"] = option, error, name
        return best
    raw = np.asarray(stored.values(), dtype=np.float64)
    rows, columns = r.shape[:2]
    best, best_error = c, np.inf
    for layout in layouts:
        plain = unblock(raw, layout)
        option = plain[:rows, :columns]
        error = float(np.max(np.abs(option - r))) if r.size else 0.0
        if error < best_error:
            best, best_error = option, error
            verdict.details["layout"] = layout
            padding = plain.copy()
            padding[:rows, :columns] = 0.0
            verdict.metrics["padding_entries"] = float(plain.size - option.size)
            verdict.metrics["padding_nonzero"] = float(np.count_nonzero(padding))
    if verdict.metrics.get("padding_entries"):
        verdict.details["semantics"] = NCHWC_PADDING.name
    return best
