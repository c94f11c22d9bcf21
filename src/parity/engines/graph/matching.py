"""Node correspondence between two canonical graphs, in time linear in their size.

Each node gets a forward hash (its label and, recursively, the hashes of what it reads: a Merkle hash of
its whole upstream cone, with commutative inputs sorted) and a backward hash (the same, downstream, down
to the graph outputs). These are Weisfeiler–Lehman refinements that converge in one pass because the
graphs are DAGs with ordered inputs. Nodes are paired by equal forward hash (identical upstream), then by
equal backward hash (identical downstream); ties are split by the other hash, then by order. Finally the
matching grows from every matched pair to neighbours with the same label in the same input or output slot,
which anchors the regions between two differences.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity.ir import Graph, Node

COMMUTATIVE = frozenset({"Add", "Mul", "Max", "Min", "Sum", "Mean", "And", "Or", "Xor", "Equal"})


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def label(node: Node) -> int:
    """Hash of what the node computes, independent of names: op type and semantic attributes."""
    if node.op == "Reshape" and len(node.inputs) == 1:
        return hash(("Reshape", _freeze(node.attrs.get("shape"))))  # a static target makes allowzero moot
    return hash((node.op, _freeze(node.attrs)))


def _param_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Broadcast-equivalent shape: leading 1s dropped (a scalar equals a [1] tensor)."""
    index = 0
    while index < len(shape) and shape[index] == 1:
        index += 1
    return tuple(shape[index:])


@dataclass
class Hashes:
    """Forward and backward hashes and topological positions of one graph's nodes."""

    order: list[str]
    forward: dict[str, int] = field(default_factory=dict)
    backward: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)


def hash_graph(graph: Graph, seeds: dict[str, int] | None = None) -> Hashes:
    """Compute both hashes for every node.

    ``seeds`` gives some tensors a fixed hash, the same in both graphs: the outputs of regions already
    shown to compute the same function, so that what follows them pairs up again.
    """
    order = [node.name for node in graph.topological()]
    hashes = Hashes(order)
    inputs = {name: index for index, name in enumerate(graph.inputs)}
    seeds = seeds or {}

    def source(value: str) -> int:
        if not value:
            return 0
        if value in seeds:
            return seeds[value]
        producer = graph.producer.get(value)
        if producer is not None:
            return hash((hashes.forward[producer], graph.nodes[producer].outputs.index(value)))
        if value in graph.params:
            return hash(("param", _param_shape(graph.params[value].shape)))
        return hash(("input", inputs.get(value, -1)))

    for name in order:
        node = graph.nodes[name]
        hashes.labels[name] = label(node)
        keys = [source(value) for value in node.inputs]
        if node.op in COMMUTATIVE:
            keys.sort()
        hashes.forward[name] = hash((hashes.labels[name], tuple(keys)))
    outputs = defaultdict(list)
    for index, value in enumerate(graph.outputs):
        outputs[value].append(index)
    for name in reversed(order):
        node = graph.nodes[name]
        uses = []
        for slot, value in enumerate(node.outputs):
            readers = []
            for reader in graph.consumers.get(value, ()):
                consumer = graph.nodes[reader]
                positions = [i for i, v in enumerate(consumer.inputs) if v == value]
                for position in positions:
                    where = -1 if consumer.op in COMMUTATIVE else position
                    readers.append(hash((hashes.backward[reader], where)))
            readers.extend(hash(("output", index)) for index in outputs.get(value, ()))
            uses.append((slot, tuple(sorted(readers))))
        hashes.backward[name] = hash((hashes.labels[name], tuple(uses)))
    return hashes


@dataclass
class Correspondence:
    """Reference node ↔ candidate node, and reference value ↔ candidate value."""

    nodes: dict[str, str]
    values: dict[str, str]
    unmatched_reference: list[str]
    unmatched_candidate: list[str]
    how: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when every node of both graphs has a partner."""
        return not self.unmatched_reference and not self.unmatched_candidate


def match(
    reference: Graph,
    candidate: Graph,
    anchors: dict[str, str] | None = None,
    apart: set[str] | None = None,
) -> Correspondence:
    """Pair the nodes of two canonical graphs (see the module docstring).

    ``anchors`` pairs tensors known to be equal (reference → candidate) although what computes them
    differs; they hash alike and count as matched tensors. Nodes named in ``apart`` (of either graph)
    stay unpaired: a residual region needs them to have a boundary.
    """
    anchors = anchors or {}
    apart = apart or set()
    seeds = {left: hash(("anchor", index)) for index, left in enumerate(sorted(anchors))}
    ref = hash_graph(reference, seeds)
    cand = hash_graph(candidate, {anchors[left]: seed for left, seed in seeds.items()})
    pairs: dict[str, str] = {}
    how: dict[str, str] = {}
    taken: set[str] = set()

    def pair_by(key_ref, key_cand, tie_ref, tie_cand, reason: str) -> None:
        left, right = defaultdict(list), defaultdict(list)
        for name in ref.order:
            if name not in pairs:
                left[key_ref[name]].append(name)
        for name in cand.order:
            if name not in taken:
                right[key_cand[name]].append(name)
        for key, names in left.items():
            others = right.get(key)
            if not others:
                continue
            if len(names) == 1 and len(others) == 1:
                _pair(names[0], others[0], reason)
                continue
            by_tie = defaultdict(list)
            for other in others:
                by_tie[tie_cand[other]].append(other)
            unpaired = []
            for name in names:
                bucket = by_tie.get(tie_ref[name])
                if bucket:
                    _pair(name, bucket.pop(0), reason)
                else:
                    unpaired.append(name)
            left_over = [other for bucket in by_tie.values() for other in bucket]
            if unpaired and left_over:
                _pair_by_weights(reference, candidate, unpaired, left_over, _pair, reason)

    def _pair(left: str, right: str, reason: str) -> None:
        pairs[left] = right
        taken.add(right)
        how[left] = reason

    pair_by(ref.forward, cand.forward, ref.backward, cand.backward, "upstream")
    pair_by(ref.backward, cand.backward, ref.forward, cand.forward, "downstream")
    _grow(reference, candidate, ref, cand, pairs, taken, how)
    while True:  # a pair reading other inputs than its partner is no pair: its nodes go to a region
        values = _values(reference, candidate, pairs)
        for left, right in anchors.items():
            values.setdefault(left, right)
        matched = set(values.values())
        inconsistent = [
            left
            for left, right in pairs.items()
            if not _consistent(
                reference, candidate, values, matched, reference.nodes[left], candidate.nodes[right]
            )
        ]
        if not inconsistent:
            break
        for left in inconsistent:
            taken.discard(pairs.pop(left))
            how.pop(left, None)
    return Correspondence(
        nodes=pairs,
        values=values,
        unmatched_reference=[name for name in ref.order if name not in pairs],
        unmatched_candidate=[name for name in cand.order if name not in taken],
        how=how,
    )


def _consistent(
    reference: Graph, candidate: Graph, values: dict[str, str], matched: set[str], a: Node, b: Node
) -> bool:
    """Whether a matched pair reads corresponding inputs: partners of each other, or constants in one slot.

    Growth pairs same-looking neighbours, which can pair x·(a·½) with (x·a)·½ node by node, and a
    Concat of a residual with a Concat of zeros. Inputs computed inside a region (no partner yet) do
    not count against the pair.
    """

    def expected(value: str) -> str | None:
        if not value:
            return ""
        if value in reference.params:
            return values.get(value, "<constant>")
        return values.get(value)

    def actual(value: str) -> str | None:
        if not value:
            return ""
        if value in candidate.params:
            return value if value in matched else "<constant>"
        return value if value in matched else None

    wanted = [expected(v) for v in a.inputs]
    got = [actual(v) for v in b.inputs]
    while wanted and wanted[-1] == "":
        wanted.pop()
    while got and got[-1] == "":
        got.pop()
    if len(wanted) != len(got):
        return False  # another number of inputs (a bias missing)
    if a.op in COMMUTATIVE:
        known = [w for w in wanted if w is not None]
        present = [g for g in got if g is not None]
        return all(known.count(v) <= present.count(v) + got.count(None) for v in set(known))
    return all(w is None or g is None or w == g for w, g in zip(wanted, got, strict=True))


def weight_digest(graph: Graph, node: Node) -> tuple:
    """The node's stored constants by content (slot, digest); derived parameters count by shape only."""
    found = []
    for slot, value in enumerate(node.inputs):
        param = graph.params.get(value)
        if param is None:
            continue
        if param.transform:
            found.append((slot, "derived", param.shape))
            continue
        array = np.ascontiguousarray(param.values())
        found.append((slot, hashlib.blake2b(array.tobytes(), digest_size=16).hexdigest()))
    return tuple(found)


def _pair_by_weights(
    reference: Graph, candidate: Graph, names: list[str], others: list[str], pair, reason: str
) -> None:
    """Split a tie between same-looking nodes by the content of their weights (q, k, v projections)."""
    by_digest = defaultdict(list)
    for other in others:
        digest = weight_digest(candidate, candidate.nodes[other])
        if digest:
            by_digest[digest].append(other)
    for name in names:
        digest = weight_digest(reference, reference.nodes[name])
        bucket = by_digest.get(digest) if digest else None
        if bucket and len(bucket) == 1:
            pair(name, bucket.pop(), f"{reason}, same weights")


def _grow(
    reference: Graph,
    candidate: Graph,
    ref: Hashes,
    cand: Hashes,
    pairs: dict[str, str],
    taken: set[str],
    how: dict[str, str],
) -> None:
    """Extend the matching from matched pairs to same-label neighbours in the same slots.

    Inputs of a commutative op have no slots: its producers pair by label when each label is unique.
    """
    queue = list(pairs.items())
    while queue:
        left, right = queue.pop()
        a, b = reference.nodes[left], candidate.nodes[right]
        slots = list(zip(a.inputs, b.inputs, strict=False))
        if a.op in COMMUTATIVE and len(a.inputs) == len(b.inputs):
            slots = _by_label(reference, candidate, ref, cand, a.inputs, b.inputs) or slots
        for value_a, value_b in slots:
            pa, pb = reference.producer.get(value_a), candidate.producer.get(value_b)
            if pa and pb and pa not in pairs and pb not in taken and ref.labels[pa] == cand.labels[pb]:
                pairs[pa], how[pa] = pb, "neighbour"
                taken.add(pb)
                queue.append((pa, pb))
        for value_a, value_b in zip(a.outputs, b.outputs, strict=False):
            readers_a = [r for r in reference.consumers.get(value_a, ()) if r not in pairs]
            readers_b = [r for r in candidate.consumers.get(value_b, ()) if r not in taken]
            for ra in readers_a:
                slots = [i for i, v in enumerate(reference.nodes[ra].inputs) if v == value_a]
                fits = [
                    rb
                    for rb in readers_b
                    if rb not in taken
                    and cand.labels[rb] == ref.labels[ra]
                    and (
                        candidate.nodes[rb].op in COMMUTATIVE
                        or [i for i, v in enumerate(candidate.nodes[rb].inputs) if v == value_b] == slots
                    )
                ]
                if len(fits) > 1:  # same-looking readers: the weights tell them apart, if anything does
                    digest = weight_digest(reference, reference.nodes[ra])
                    fits = [
                        rb
                        for rb in fits
                        if digest and weight_digest(candidate, candidate.nodes[rb]) == digest
                    ]
                if len(fits) == 1:
                    pairs[ra], how[ra] = fits[0], "neighbour"
                    taken.add(fits[0])
                    queue.append((ra, fits[0]))


def _by_label(
    reference: Graph, candidate: Graph, ref: Hashes, cand: Hashes, left: list[str], right: list[str]
) -> list[tuple[str, str]]:
    """Inputs of two commutative nodes paired by their producers' labels (constants with constants)."""

    def key(graph: Graph, hashes: Hashes, value: str):
        producer = graph.producer.get(value)
        return ("constant",) if value in graph.params else hashes.labels.get(producer, ("input", value))

    keys_a = [key(reference, ref, v) for v in left]
    keys_b = [key(candidate, cand, v) for v in right]
    if len(set(keys_a)) != len(keys_a) or sorted(map(str, keys_a)) != sorted(map(str, keys_b)):
        return []
    index = {str(k): v for k, v in zip(keys_b, right, strict=True)}
    return [(v, index[str(k)]) for k, v in zip(keys_a, left, strict=True)]


def _values(reference: Graph, candidate: Graph, pairs: dict[str, str]) -> dict[str, str]:
    values = dict(zip(reference.inputs, candidate.inputs, strict=False))
    values.update(zip(reference.outputs, candidate.outputs, strict=False))
    for left, right in pairs.items():
        for value_a, value_b in zip(
            reference.nodes[left].outputs, candidate.nodes[right].outputs, strict=False
        ):
            if value_a and value_b:
                values.setdefault(value_a, value_b)
    return values
