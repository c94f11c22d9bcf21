"""Comparing a candidate's tensor with the reference's: metrics and a tolerance from the precision.

Semantics are numpy's: |candidate − reference| ≤ atol + rtol·|reference|, with atol proportional to the
reference tensor's scale (errors near zero are judged against the tensor, not against the element).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: per computing format: (rtol, atol as a fraction of max|reference|). fp32 allows fusions and reordered
#: accumulation; the narrower formats allow the rounding of every op along a deep network.
TOLERANCES = {
    "fp32": (1e-4, 1e-5),
    "tf32": (5e-3, 1e-3),
    "fp16": (2e-2, 5e-3),
    "bf16": (1e-1, 3e-2),
    "int8": (2e-1, 1e-1),
    "uint8": (2e-1, 1e-1),
    "int4": (4e-1, 2e-1),
}


#: integer formats: the output's direction (cosine similarity) may decide instead of every element.
#: Quantization error accumulates as a few outliers through softmax and normalisation, which an
#: elementwise bound read for one element calls a difference although the tensor is the same signal.
MIN_COSINE = {"int8": 0.98, "uint8": 0.98, "int4": 0.95}


@dataclass(frozen=True)
class Tolerance:
    """A tolerance and where it came from."""

    rtol: float
    atol_fraction: float
    reason: str
    min_cosine: float | None = None

    @staticmethod
    def for_format(fmt: str | None) -> Tolerance:
        """The tolerance for a candidate computing in ``fmt`` (fp32 if unknown)."""
        fmt = fmt or "fp32"
        rtol, atol = TOLERANCES.get(fmt, TOLERANCES["fp32"])
        cosine = MIN_COSINE.get(fmt)
        reason = f"derived from {fmt} computation" + (f" (or cosine ≥ {cosine})" if cosine else "")
        return Tolerance(rtol, atol, reason, cosine)

    def as_job(self) -> dict:
        """The tolerance as the sandboxed runner reads it (JSON)."""
        return {
            "rtol": self.rtol,
            "atol_fraction": self.atol_fraction,
            "reason": self.reason,
            "min_cosine": self.min_cosine,
        }


def metrics(reference: np.ndarray, candidate: np.ndarray, tolerance: Tolerance) -> dict[str, float]:
    """Error metrics of one tensor pair (float64), and the fraction of elements within tolerance."""
    a = np.asarray(reference, dtype=np.float64).reshape(-1)
    b = np.asarray(candidate, dtype=np.float64).reshape(-1)
    found: dict[str, float] = {"elements": float(a.size)}
    if a.size == 0:
        return found
    finite = np.isfinite(b)
    found["non_finite"] = float((~finite).sum())
    b = np.where(finite, b, np.inf)
    difference = np.abs(a - b)
    scale = float(np.abs(a).max())
    allowed = tolerance.atol_fraction * scale + tolerance.rtol * np.abs(a)
    found["max_abs_error"] = float(difference.max())
    found["scaled_error"] = float(difference.max() / scale) if scale else float(difference.max())
    found["within_tolerance"] = float((difference <= allowed).mean())
    if finite.all():
        norm = float(np.linalg.norm(a) * np.linalg.norm(b))
        found["cosine"] = float(a @ b / norm) if norm else 1.0
        if tolerance.min_cosine is not None and found["cosine"] >= tolerance.min_cosine:
            found["within_tolerance"] = 1.0  # the integer format's tolerance: the same signal
        noise = float(((a - b) ** 2).sum())
        found["sqnr_db"] = float(10 * np.log10((a @ a) / noise)) if noise else float("inf")
    return found


def exact(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    """Metrics of a boolean or integer output pair, which must be equal: the share equal, the count not."""
    equal = np.asarray(reference) == np.asarray(candidate)
    count = float(equal.size)
    return {
        "elements": count,
        "mismatched": float(count - equal.sum()),
        "within_tolerance": float(equal.mean()) if equal.size else 1.0,
    }


def quick(reference: np.ndarray, candidate: np.ndarray, tolerance: Tolerance) -> tuple[bool, float]:
    """(within tolerance, scaled error) of one intermediate tensor pair, cheaply (localisation's question).

    Computed in the tensors' own float format, without the summary statistics of :func:`metrics`.
    """
    a = np.asarray(reference)
    b = np.asarray(candidate)
    if not (np.issubdtype(a.dtype, np.floating) and a.dtype == b.dtype):
        a, b = a.astype(np.float64), b.astype(np.float64)
    difference = np.abs(a - b)
    scale = float(np.abs(a).max()) if a.size else 0.0
    if not np.isfinite(difference).all():
        return False, float("inf")
    worst = float(difference.max()) if difference.size else 0.0
    ok = bool((difference <= tolerance.atol_fraction * scale + tolerance.rtol * np.abs(a)).all())
    if not ok and tolerance.min_cosine is not None:
        ok = metrics(a, b, tolerance).get("within_tolerance", 0.0) == 1.0
    return ok, worst / scale if scale else worst


def top_k_agreement(reference: np.ndarray, candidate: np.ndarray, k: int = 1) -> dict[str, float]:
    """For classifier-like outputs [samples, classes]: top-1 agreement, top-k overlap, Wilson 95% interval."""
    if reference.ndim != 2 or reference.shape[1] < 2:
        return {}
    ref_top = np.argmax(reference, axis=1)
    agree = float((ref_top == np.argmax(candidate, axis=1)).mean())
    top_k = np.argsort(-candidate, axis=1)[:, :k]
    in_top_k = float(np.mean([ref_top[i] in top_k[i] for i in range(len(ref_top))]))
    low, high = wilson_interval(agree, len(ref_top))
    return {
        "top1_agreement": agree,
        f"top{k}_contains_reference_top1": in_top_k,
        "top1_agreement_low": low,
        "top1_agreement_high": high,
    }


def wilson_interval(rate: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (95% by default)."""
    if n == 0:
        return (0.0, 1.0)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(centre - half), float(centre + half))


def within(found: dict[str, float]) -> bool:
    """True if every element is within tolerance and finite."""
    return found.get("non_finite", 0.0) == 0 and found.get("within_tolerance", 1.0) == 1.0


def layout_aligned(reference: np.ndarray, candidate: np.ndarray) -> np.ndarray | None:
    """The candidate tensor in the reference's layout, or None when no known layout maps one to the other."""
    if reference.shape == candidate.shape:
        return candidate
    if candidate.ndim == 5 and reference.ndim == 4:  # NCHWc: [N, C/B, H, W, B] → [N, C, H, W]
        n, blocks, h, w, block = candidate.shape
        unblocked = candidate.transpose(0, 1, 4, 2, 3).reshape(n, blocks * block, h, w)
        return unblocked[:, : reference.shape[1]] if unblocked.shape[1] >= reference.shape[1] else None
    return None
