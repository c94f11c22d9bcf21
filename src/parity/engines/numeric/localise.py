"""Where two implementations start to disagree: matched tensors in topological order, first failure.

Cut points are the tensors the graph correspondence pairs that exist under those names in both files,
so the models run unchanged except for the extra outputs (never "mark all"). The comparison itself runs in
the sandboxed child (runner.py); this module chooses the cut points and explains the first failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from parity.engines.graph import GraphComparison


@dataclass(frozen=True)
class CutPoint:
    """A reference tensor and its candidate counterpart, with the nodes that write them."""

    reference: str
    candidate: str
    reference_node: str
    candidate_node: str


def cut_points(comparison: GraphComparison) -> list[CutPoint]:
    """Matched tensors present in both files, in the reference's topological order."""
    ref_source, cand_source = comparison.reference.source, comparison.candidate.source
    if ref_source is None or cand_source is None:
        return []
    outputs = set(ref_source.outputs)
    order = {
        value: index
        for index, node in enumerate(comparison.reference.topological())
        for value in node.outputs
    }
    pairs = [
        CutPoint(left, right, ref_source.writers[left], cand_source.writers[right])
        for left, right in comparison.correspondence.values.items()
        if left in ref_source.writers and right in cand_source.writers and left not in outputs
    ]
    return sorted(pairs, key=lambda cut: order.get(cut.reference, len(order)))


def nodes_between(comparison: GraphComparison, diverging: str, agreed: set[str]) -> list[str]:
    """Reference nodes from the diverging tensor back to tensors that still agreed (or the inputs)."""
    source = comparison.reference.source
    if source is None:
        return []
    found, stack, seen = [], [diverging], set()
    while stack:
        value = stack.pop()
        node = source.writers.get(value)
        if node is None or value in seen or (value in agreed and value != diverging):
            continue
        seen.add(value)
        found.append(node)
        stack.extend(source.reads.get(node, ()))
    return found
