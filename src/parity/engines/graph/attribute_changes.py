"""Attribute changes: a residual region whose nodes pair one to one but for their semantic attributes.

The matcher's labels include every semantic attribute (schema defaults filled in, constant inputs lifted:
ir/attributes.py), so a LayerNormalization whose epsilon changed, or a Gelu whose ``approximate`` did, is
left unpaired and ends in a residual region of one node on each side. Numeric verification may find the
two sides close (an epsilon of 1e-5 or 1e-6 hardly moves an output), but the computation is another one:
the attribute is its own witness. Here such a region is recognised: every node of one side has exactly
one partner of the same op on the other side reading the corresponding tensors (the region's boundary
inputs, or the partner's outputs, or a stored parameter in the same slot), and the pairs' attributes are
compared value by value. Defaults are already resolved when the graphs are read, and canonicalising
rewrites (an epsilon moved into a fused SkipLayerNormalization and back) run before matching, so what is
compared is the effective value.

A region proved equivalent by a method that is a proof (symbolic, exact index maps, constants) keeps that
proof: the attributes then only restate the same function (an axis written -1 and 3 on a rank-4 tensor).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from parity.engines.graph.matching import label
from parity.engines.graph.residual import Region
from parity.ir import Graph

#: attributes that only tune how a function is approximated numerically (a variance floor, a closed
#: form replaced by its tanh approximation): within an accuracy target, inference allows changing them
APPROXIMATION_ATTRIBUTES = frozenset({"epsilon", "approximate"})
#: the value of ``effect`` in the evidence: what the changed attributes do to the computation
APPROXIMATION, FUNCTION = "approximation", "function"


def attribute_changes(
    reference: Graph, candidate: Graph, region: Region, inputs: tuple[tuple[str, str], ...]
) -> list[dict[str, Any]]:
    """The attribute differences of a region whose nodes pair one to one, or [] if they do not.

    ``inputs`` pairs the tensors the region reads (reference, candidate): its boundary inputs.
    """
    if not region.reference or len(region.reference) != len(region.candidate):
        return []
    pairs = _pair(reference, candidate, region, dict(inputs))
    if pairs is None:
        return []
    changes = []
    for left, right in pairs:
        a, b = reference.nodes[left], candidate.nodes[right]
        if label(a) == label(b):
            continue
        for name in sorted(set(a.attrs) | set(b.attrs)):
            before, after = a.attrs.get(name), b.attrs.get(name)
            if _subgraph(before) or _subgraph(after):
                continue  # a Loop's or If's body is structure, not a parameter: the region stays structural
            if before != after and not _same_axes(reference, a, candidate, b, name, before, after):
                changes.append(
                    {
                        "op": a.op,
                        "attribute": name,
                        "reference_value": _shown(before),
                        "candidate_value": _shown(after),
                        "reference": list(a.origin),
                        "candidate": list(b.origin),
                    }
                )
    return changes


def _subgraph(value: Any) -> bool:
    """A graph-valued attribute (as ir/attributes.py writes it): a body, compared as structure."""
    return isinstance(value, tuple) and bool(value) and value[0] == "graph"


def effect(changes: list[dict[str, Any]]) -> str:
    """``approximation`` if every changed attribute tunes a numerical approximation, else ``function``."""
    return APPROXIMATION if all(c["attribute"] in APPROXIMATION_ATTRIBUTES for c in changes) else FUNCTION


def describe(change: dict[str, Any]) -> str:
    """One change in a few words: ``LayerNormalization /ln epsilon 1e-05 → 1e-06``."""
    where = ", ".join(change["candidate"][:1]) or "?"
    if change.get("written_as"):
        where = f"(written as {change['written_as']}) near {where}"
    return (
        f"{change['op']} {where} {change['attribute']} "
        f"{_text(change['reference_value'])} → {_text(change['candidate_value'])}"
    )


def _pair(
    reference: Graph, candidate: Graph, region: Region, values: dict[str, str]
) -> list[tuple[str, str]] | None:
    """Each reference node of the region with its one same-op candidate node reading the same tensors."""
    members = set(region.reference)
    order = [node.name for node in reference.topological() if node.name in members]
    free = set(region.candidate)
    pairs = []
    for left in order:
        a = reference.nodes[left]
        fits = [
            right
            for right in sorted(free)
            if _same_reads(reference, candidate, a.inputs, candidate.nodes[right], values)
            and candidate.nodes[right].op == a.op
            and len(candidate.nodes[right].outputs) == len(a.outputs)
        ]
        if len(fits) != 1:
            return None
        right = fits[0]
        free.discard(right)
        pairs.append((left, right))
        for value_a, value_b in zip(a.outputs, candidate.nodes[right].outputs, strict=True):
            if value_a and value_b:
                values[value_a] = value_b
    return pairs if not free else None


def _same_reads(reference: Graph, candidate: Graph, inputs: list[str], node, values: dict[str, str]) -> bool:
    if len(inputs) != len(node.inputs):
        return False
    for value_a, value_b in zip(inputs, node.inputs, strict=True):
        if not value_a and not value_b:
            continue
        if value_a in reference.params and value_b in candidate.params:
            continue  # stored parameters: the weights engine compares their values
        if values.get(value_a) != value_b:
            return False
    return True


def _same_axes(reference: Graph, a, candidate: Graph, b, name: str, before: Any, after: Any) -> bool:
    """Whether two axis attributes name the same axes once negative ones count from the rank.

    The rank is the first input's or the output's (Unsqueeze counts in its output): -1 and 3 are the same
    axis of a rank-4 tensor.
    """
    if name not in ("axis", "axes") or before is None or after is None:
        return False
    for value_a, value_b in ((a.inputs[:1], b.inputs[:1]), (a.outputs[:1], b.outputs[:1])):
        if not value_a or not value_b:
            continue
        rank = _rank(reference, value_a[0])
        same_rank = rank is not None and rank == _rank(candidate, value_b[0])
        if same_rank and _positive(before, rank) == _positive(after, rank):
            return True
    return False


def _rank(graph: Graph, value: str) -> int | None:
    shape = graph.value_info(value).shape if value else None
    return None if shape is None else len(shape)


def _positive(value: Any, rank: int) -> Any:
    if isinstance(value, int):
        return value + rank if value < 0 else value
    if isinstance(value, tuple | list) and all(isinstance(item, int) for item in value):
        return tuple(sorted(item + rank if item < 0 else item for item in value))
    return value


def _shown(value: Any) -> Any:
    """A JSON-ready form of an attribute value (tuples as lists)."""
    if isinstance(value, tuple):
        return [_shown(item) for item in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "(absent)"
    return str(value)


def epsilon_constants(reference: Graph, candidate: Graph, pairs: dict[str, str]) -> list[dict[str, Any]]:
    """Normalisation epsilons written as constants that differ between two matched nodes.

    Before opset 17 (LayerNormalization) exporters write a normalisation as arithmetic, its epsilon as a
    one-element constant added to a mean (the variance, or the mean square of RMSNorm) just before a
    square root. That constant is the normalisation's epsilon attribute, not a weight: a changed value is
    reported as the attribute (``params`` names the two constants, which the weights engine then leaves).
    """
    found = []
    for left, right in {**_epsilon_adds_by_name(reference, candidate, pairs), **pairs}.items():
        a, b = reference.nodes[left], candidate.nodes[right]
        first, second = _epsilon(reference, a), _epsilon(candidate, b)
        if first is None or second is None:
            continue
        before, after = (float(param.values().reshape(-1)[0]) for param in (first, second))
        if _rounded(before, first, second) == _rounded(after, first, second):
            continue  # the same epsilon, perhaps stored in fp16 by a precision converter
        found.append(
            {
                "op": "normalisation",
                "attribute": "epsilon",
                "reference_value": float(np.float32(before)),
                "candidate_value": float(np.float32(after)),
                "reference": list(a.origin),
                "candidate": list(b.origin),
                "written_as": "arithmetic",
                "params": [first.name, second.name],
            }
        )
    return found


def _epsilon_adds_by_name(reference: Graph, candidate: Graph, pairs: dict[str, str]) -> dict[str, str]:
    """Epsilon additions the matching left unpaired (their constants differ), paired by their node name.

    Matching pairs nodes by what they compute, and two epsilons make two computations; the exporter's
    name (``/layers.1/post_attention_layernorm/Add``) still says which normalisation each belongs to.
    """
    paired = set(pairs.values())
    by_name = {
        name: node.name
        for node in candidate.nodes.values()
        if node.name not in paired and _epsilon(candidate, node) is not None
        for name in node.origin
    }
    found = {}
    for node in reference.nodes.values():
        if node.name in pairs or _epsilon(reference, node) is None:
            continue
        partner = next((by_name[name] for name in node.origin if name in by_name), None)
        if partner is not None:
            found[node.name] = partner
    return found


def _rounded(value: float, *params) -> float:
    """The value in the coarsest float format either constant is stored in (fp16 rounds 1e-5)."""
    kinds = {param.dtype.upper() for param in params}
    if "FLOAT16" in kinds:
        return float(np.float16(value))
    if "BFLOAT16" in kinds:  # bfloat16 keeps float32's exponent and 8 bits of mantissa
        bits = np.array(value, dtype=np.float32).view(np.uint32)
        return float(((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32))
    return float(np.float32(value))


def _epsilon(graph: Graph, node) -> Any:
    """The one-element float constant of an ``Add(ReduceMean(...), ε)`` read by a Sqrt, if it is one."""
    if node.op != "Add" or len(node.inputs) != 2:
        return None
    constants = [graph.params[v] for v in node.inputs if v in graph.params]
    others = [v for v in node.inputs if v not in graph.params]
    if len(constants) != 1 or len(others) != 1 or math.prod(constants[0].shape) != 1:
        return None
    if not any(word in constants[0].dtype.lower() for word in ("float", "double")):
        return None
    producer = graph.producer.get(others[0])
    # a mean over the last axis, or the GlobalAveragePool a rewrite made of it (spatial-reduce rewrite)
    if producer is None or graph.nodes[producer].op not in ("ReduceMean", "GlobalAveragePool"):
        return None
    readers = graph.consumers.get(node.outputs[0], ())
    if not any(graph.nodes[reader].op == "Sqrt" for reader in readers):
        return None
    return constants[0]
