"""Where two implementations start to disagree: matched tensors in topological order, first failure.

Cut points are the tensors the graph correspondence pairs that exist under those names in both files,
so the models run unchanged except for the extra outputs (never "mark all"). A candidate tensor in
onnxruntime's blocked NCHWc layout is read back as NCHW before comparing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from parity.engines.graph import GraphComparison
from parity.engines.numeric.compare import Tolerance, metrics, within


@dataclass(frozen=True)
class CutPoint:
    """A reference tensor and its candidate counterpart, with the nodes that write them."""

    reference: str
    candidate: str
    reference_node: str
    candidate_node: str


def _producers(path: Path) -> dict[str, str]:
    model = onnx.load(str(path), load_external_data=False)
    return {out: node.name or node.op_type for node in model.graph.node for out in node.output if out}


def cut_points(comparison: GraphComparison, reference: Path, candidate: Path) -> list[CutPoint]:
    """Matched tensors present in both files, in the reference's topological order."""
    ref_writers, cand_writers = _producers(reference), _producers(candidate)
    outputs = set(comparison.reference.outputs)
    order = {
        value: index
        for index, node in enumerate(comparison.reference.topological())
        for value in node.outputs
    }
    pairs = [
        CutPoint(left, right, ref_writers[left], cand_writers[right])
        for left, right in comparison.correspondence.values.items()
        if left in ref_writers and right in cand_writers and left not in outputs
    ]
    return sorted(pairs, key=lambda cut: order.get(cut.reference, len(order)))


def layout_aligned(reference: np.ndarray, candidate: np.ndarray) -> np.ndarray | None:
    """The candidate tensor in the reference's layout, or None when no known layout maps one to the other."""
    if reference.shape == candidate.shape:
        return candidate
    if candidate.ndim == 5 and reference.ndim == 4:  # NCHWc: [N, C/B, H, W, B] → [N, C, H, W]
        n, blocks, h, w, block = candidate.shape
        unblocked = candidate.transpose(0, 1, 4, 2, 3).reshape(n, blocks * block, h, w)
        return unblocked[:, : reference.shape[1]] if unblocked.shape[1] >= reference.shape[1] else None
    return None


def nodes_between(path: Path, diverging: str, agreed: set[str]) -> list[str]:
    """Reference nodes from the diverging tensor back to tensors that still agreed (or the inputs)."""
    model = onnx.load(str(path), load_external_data=False)
    writers = {out: node for node in model.graph.node for out in node.output if out}
    found, stack, seen = [], [diverging], set()
    while stack:
        value = stack.pop()
        node = writers.get(value)
        if node is None or value in seen or (value in agreed and value != diverging):
            continue
        seen.add(value)
        found.append(node.name or node.op_type)
        stack.extend(v for v in node.input if v)
    return found


def first_divergence(
    cuts: list[CutPoint],
    reference: dict[str, np.ndarray],
    candidate: dict[str, np.ndarray],
    tolerance: Tolerance,
) -> tuple[CutPoint | None, dict[str, float], int, set[str]]:
    """The first cut point outside tolerance, its metrics, how many were compared, and those that agreed."""
    compared = 0
    agreed: set[str] = set()
    for cut in cuts:
        if cut.reference not in reference or cut.candidate not in candidate:
            continue
        aligned = layout_aligned(reference[cut.reference], candidate[cut.candidate])
        if aligned is None:
            continue
        compared += 1
        found = metrics(reference[cut.reference], aligned, tolerance)
        if not within(found):
            return cut, found, compared, agreed
        agreed.add(cut.reference)
    return None, {}, compared, agreed
