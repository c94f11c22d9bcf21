"""Pictures of where two graphs differ: each differing region drawn for both sides, matched parts collapsed.

A region is drawn as two lanes (reference above, candidate below). Each lane holds the region's own nodes
and the matched nodes right before and after it, laid out by depth (networkx topological generations),
so a reader sees what was replaced by what and where, without the thousands of nodes that agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx

from parity.ir.graph import Graph
from parity.observations.kinds import OP_ADDED, OP_CHANGED, OP_REMOVED

BOX_WIDTH, BOX_HEIGHT, COLUMN, ROW = 170, 30, 200, 40
MAX_NODES = 30
REGION_KINDS = frozenset({OP_REMOVED, OP_ADDED, OP_CHANGED})


@dataclass
class Box:
    """One node of a lane: where it is drawn, what it says, whether it is matched (shared) or not."""

    x: int
    y: int
    op: str
    name: str
    shared: bool


@dataclass
class Lane:
    """One side of a region."""

    side: str
    top: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    edges: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden: int = 0


@dataclass
class RegionPicture:
    """Everything the template needs to draw one region."""

    kind: str
    summary: str
    width: int
    height: int
    lanes: list[Lane]


def _lane(graph: Graph, members: tuple[str, ...], anchors: set[str], side: str, top: int) -> Lane:
    """Members and their matched neighbours; a side with no members shows the anchors it joins directly."""
    inside = set(members)
    before = {graph.producer[v] for n in members for v in graph.nodes[n].inputs if v in graph.producer}
    after = {c for n in members for v in graph.nodes[n].outputs for c in graph.consumers.get(v, ())}
    shown = (inside | before | after) if inside else {a for a in anchors if a in graph.nodes}
    dag = nx.DiGraph()
    dag.add_nodes_from(shown)
    for name in shown:
        for value in graph.nodes[name].outputs:
            dag.add_edges_from((name, c) for c in graph.consumers.get(value, ()) if c in shown)
    labels = {n: (graph.nodes[n].op, graph.nodes[n].origin[0] if graph.nodes[n].origin else n) for n in shown}
    return _layout(dag, labels, inside, side, top)


def _source_lane(graph: Graph, names: list[str], side: str, top: int) -> Lane:
    """Nodes named by a finding, as written in the model file, joined where one reads what another writes."""
    source = graph.source
    if source is None:
        return Lane(side, top, 0)
    shown = [name for name in dict.fromkeys(names) if name in source.reads]
    dag = nx.DiGraph()
    dag.add_nodes_from(shown)
    for name in shown:
        dag.add_edges_from(
            (source.writers[v], name) for v in source.reads[name] if source.writers.get(v) in dag
        )
    labels = {name: (source.ops.get(name, ""), name) for name in shown}
    return _layout(dag, labels, set(shown), side, top)


def _layout(
    dag: nx.DiGraph, labels: dict[str, tuple[str, str]], inside: set[str], side: str, top: int
) -> Lane:
    """Boxes by depth (topological generations), at most MAX_NODES, and the edges between drawn boxes."""
    layers, rank = [], {}
    for generation in nx.topological_generations(dag):
        # barycentre ordering: a node goes where its inputs are, so edges rarely cross
        layer = sorted(
            generation,
            key=lambda n: (min((rank[p] for p in dag.predecessors(n)), default=0), _natural(n)),
        )
        rank.update((name, position) for position, name in enumerate(layer))
        layers.append(layer)
    order = [name for layer in layers for name in layer]
    kept = set(order[:MAX_NODES])
    lane = Lane(side, top, 0, hidden=len(order) - len(kept))
    where: dict[str, tuple[int, int]] = {}
    for column, layer in enumerate(layers):
        for row, name in enumerate(n for n in layer if n in kept):
            x, y = 10 + column * COLUMN, top + 24 + row * ROW
            where[name] = (x, y)
            lane.boxes.append(Box(x, y, *labels[name], name not in inside))
    for source, target in dag.edges:
        if source in where and target in where:
            (x1, y1), (x2, y2) = where[source], where[target]
            lane.edges.append((x1 + BOX_WIDTH, y1 + BOX_HEIGHT // 2, x2, y2 + BOX_HEIGHT // 2))
    lane.height = 24 + max((box.y - top for box in lane.boxes), default=0) + BOX_HEIGHT + 16
    return lane


def _natural(name: str) -> tuple:
    """conv_2 before conv_11."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def _picture(kind: str, summary: str, lanes: list[Lane]) -> RegionPicture:
    width = max((box.x for lane in lanes for box in lane.boxes), default=0) + BOX_WIDTH + 20
    return RegionPicture(kind, summary, width, sum(lane.height for lane in lanes), lanes)


def explained_pictures(comparison, findings: list, limit: int = 20) -> list[RegionPicture]:
    """Changes a rewrite explained (folded, fused, removed): the nodes each side has, as in the files."""
    pictures = []
    for finding in findings:
        if not finding.kind.startswith("graph.") or finding.kind in REGION_KINDS:
            continue
        nodes = [loc for loc in finding.evidence.locations if loc.where == "node"]
        if not nodes:
            continue
        reference = _source_lane(
            comparison.reference, [loc.name for loc in nodes if loc.side == "reference"], "reference", 0
        )
        candidate = _source_lane(
            comparison.candidate,
            [loc.name for loc in nodes if loc.side == "candidate"],
            "candidate",
            reference.height,
        )
        pictures.append(_picture(finding.kind, finding.summary, [reference, candidate]))
    return pictures[:limit]


def region_pictures(comparison, limit: int = 20) -> list[RegionPicture]:
    """The first `limit` differing regions, drawn."""
    pictures = []
    for region, summary in comparison.differing_regions(limit):
        anchors = set(region.anchors)
        counterparts = {
            comparison.correspondence.nodes[a] for a in anchors if a in comparison.correspondence.nodes
        }
        reference = _lane(comparison.reference, region.reference, anchors, "reference", 0)
        candidate = _lane(comparison.candidate, region.candidate, counterparts, "candidate", reference.height)
        pictures.append(_picture(region.kind, summary, [reference, candidate]))
    return pictures
