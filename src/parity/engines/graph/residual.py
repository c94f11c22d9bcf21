"""What is left when canonical graphs do not match: connected regions of unmatched nodes, classified.

A region groups unmatched nodes that touch each other or the same matched neighbour, on either side.
Reference-only regions are removed operations, candidate-only regions added ones, and regions with
nodes on both sides changed ones. Matched nodes whose constant operands or outputs have other shapes are
shape changes; matched nodes that compute in another float format are precision changes.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from parity.engines.graph.matching import Correspondence, _param_shape
from parity.engines.graph.params import FLOAT_TYPES, precision_name
from parity.ir import Graph
from parity.observations.kinds import OP_ADDED, OP_CHANGED, OP_REMOVED, PRECISION_CHANGED, SHAPE_CHANGED


@dataclass(frozen=True)
class Region:
    """Unmatched nodes on each side and the matched nodes around them (by reference name)."""

    reference: tuple[str, ...]
    candidate: tuple[str, ...]
    anchors: tuple[str, ...]

    @property
    def kind(self) -> str:
        """graph.op_removed, graph.op_added or graph.op_changed."""
        if not self.candidate:
            return OP_REMOVED
        if not self.reference:
            return OP_ADDED
        return OP_CHANGED


def _neighbours(graph: Graph, name: str, captured_by: dict[str, list[str]]) -> set[str]:
    """Producers and readers of a node's tensors, a Loop's or If's body reads (captures) included."""
    node = graph.nodes[name]
    found = {graph.producer[v] for v in (*node.inputs, *node.captures) if v in graph.producer}
    found |= {reader for v in node.outputs for reader in graph.consumers.get(v, ())}
    found |= {reader for v in node.outputs for reader in captured_by.get(v, ())}
    return found


def _capture_readers(graph: Graph) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for node in graph.nodes.values():
        for value in node.captures:
            found[value].append(node.name)
    return found


def regions(reference: Graph, candidate: Graph, correspondence: Correspondence) -> list[Region]:
    """Connected regions of unmatched nodes (networkx components over adjacency and shared anchors)."""
    inverse = {right: left for left, right in correspondence.nodes.items()}
    links = nx.Graph()
    by_anchor: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for side, graph, names, to_ref in (
        ("r", reference, correspondence.unmatched_reference, lambda n: n),
        ("c", candidate, correspondence.unmatched_candidate, inverse.get),
    ):
        unmatched = set(names)
        captured_by = _capture_readers(graph)
        for name in names:
            links.add_node((side, name))
            for other in _neighbours(graph, name, captured_by):
                if other in unmatched:
                    links.add_edge((side, name), (side, other))
                else:
                    anchor = to_ref(other)
                    if anchor is not None:
                        by_anchor[anchor].append((side, name))
    for members in by_anchor.values():
        for first, second in itertools.pairwise(members):
            links.add_edge(first, second)
    found = []
    for component in nx.connected_components(links):
        ref_nodes = tuple(sorted(n for s, n in component if s == "r"))
        cand_nodes = tuple(sorted(n for s, n in component if s == "c"))
        anchors = tuple(sorted(a for a, members in by_anchor.items() if set(members) & component))
        found.append(Region(ref_nodes, cand_nodes, anchors))
    found.sort(key=lambda region: (region.reference, region.candidate))
    return found


@dataclass(frozen=True)
class PairDifference:
    """A difference between two matched nodes: kind and what differs."""

    kind: str
    reference: str
    candidate: str
    detail: dict


def pair_differences(
    reference: Graph, candidate: Graph, correspondence: Correspondence
) -> list[PairDifference]:
    """Shape and precision differences between matched nodes (their inputs are consistent: matching.py)."""
    found = []
    for left, right in correspondence.nodes.items():
        a, b = reference.nodes[left], candidate.nodes[right]
        for slot, (value_a, value_b) in enumerate(zip(a.inputs, b.inputs, strict=False)):
            if value_a in reference.params and value_b in candidate.params:
                shape_a = _param_shape(reference.params[value_a].shape)
                shape_b = _param_shape(candidate.params[value_b].shape)
                if shape_a != shape_b:
                    found.append(
                        PairDifference(
                            SHAPE_CHANGED,
                            left,
                            right,
                            {
                                "input": slot,
                                "reference_shape": list(shape_a),
                                "candidate_shape": list(shape_b),
                            },
                        )
                    )
        for value_a, value_b in zip(a.outputs, b.outputs, strict=False):
            info_a, info_b = reference.value_info(value_a), candidate.value_info(value_b)
            if (
                info_a.shape
                and info_b.shape
                and _static(info_a.shape)
                and _static(info_b.shape)
                and tuple(info_a.shape) != tuple(info_b.shape)
            ):
                found.append(
                    PairDifference(
                        SHAPE_CHANGED,
                        left,
                        right,
                        {"reference_shape": list(info_a.shape), "candidate_shape": list(info_b.shape)},
                    )
                )
            if info_a.dtype in FLOAT_TYPES and info_b.dtype in FLOAT_TYPES and info_a.dtype != info_b.dtype:
                found.append(
                    PairDifference(
                        PRECISION_CHANGED,
                        left,
                        right,
                        {
                            "format": precision_name(info_b.dtype),
                            "reference_format": precision_name(info_a.dtype),
                        },
                    )
                )
                break
    return found


def _static(shape) -> bool:
    return all(isinstance(d, int) for d in shape)
