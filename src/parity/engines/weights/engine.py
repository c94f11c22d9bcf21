"""The weights engine: every matched pair of parameters, classified by provenance or by distribution.

Pairs come from the graph engine's correspondence (same node, same input slot). When both sides were
derived by the same transform (a batch norm folded on both sides, say), the transform's inputs are
paired instead, so each stored tensor is compared with the stored tensor it stands for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from parity.engines.graph import GraphComparison
from parity.engines.weights.classify import TensorVerdict, classify
from parity.engines.weights.distribution import compare_distributions
from parity.ir import Param
from parity.observations import Evidence, Location, Observation
from parity.observations.kinds import (
    WEIGHTS_DISTRIBUTION_CHANGED,
    WEIGHTS_FOLDED,
    WEIGHTS_IDENTICAL,
    WEIGHTS_MODIFIED,
    WEIGHTS_PRECISION_REDUCED,
    WEIGHTS_PRUNED,
    WEIGHTS_QUANTIZED,
    WEIGHTS_REARRANGED,
    WEIGHTS_REINIT_SAME,
    WEIGHTS_REPLACED,
    WEIGHTS_UNFOLDED,
)

ENGINE = "weights"
#: kinds reported once per kind (with every tensor listed); the others once per tensor
GROUPED = frozenset(
    {
        WEIGHTS_IDENTICAL,
        WEIGHTS_REARRANGED,
        WEIGHTS_FOLDED,
        WEIGHTS_UNFOLDED,
        WEIGHTS_PRECISION_REDUCED,
        WEIGHTS_QUANTIZED,
        WEIGHTS_REINIT_SAME,
    }
)
MODES = ("provenance", "distribution")


def parameter_pairs(comparison: GraphComparison) -> Iterator[tuple[Param, Param]]:
    """Matched (reference, candidate) parameters, each pair once, transform inputs paired recursively.

    A node with a subgraph also consumes the parameters its body reads from the outer scope (the table
    of an EmbeddingBag's Loop): those pair in the order the bodies first read them.
    """
    seen: set[tuple[str, str]] = set()
    reference, candidate = comparison.reference, comparison.candidate
    for left, right in comparison.correspondence.nodes.items():
        node_a, node_b = reference.nodes[left], candidate.nodes[right]
        for value_a, value_b in [
            *zip(node_a.inputs, node_b.inputs, strict=False),
            *_captured_pairs(reference, candidate, node_a, node_b),
        ]:
            if value_a in reference.params and value_b in candidate.params:
                for pair in _unfold(reference.params[value_a], candidate.params[value_b]):
                    key = (pair[0].name, pair[1].name)
                    if key not in seen and key not in comparison.attribute_constants:
                        seen.add(key)
                        yield pair
    for value_a, value_b in _unmatched_captures(comparison):
        for pair in _unfold(reference.params[value_a], candidate.params[value_b]):
            key = (pair[0].name, pair[1].name)
            if key not in seen and not any(pair[0].name == a or pair[1].name == b for a, b in seen):
                seen.add(key)
                yield pair


def _unmatched_captures(comparison: GraphComparison) -> Iterator[tuple[str, str]]:
    """Tables read by subgraphs of Loops (or Ifs) the matching left unpaired, paired by name or shape.

    A tool that rewrites a Loop's body (onnxruntime fuses inside it) leaves the Loop unmatched, yet its
    body still reads the reference's tables from the outer scope: those are weights all the same, so a
    table pruned or hashed there is seen. Nodes pair only op by op when each side has as many; a captured
    parameter pairs with the one of the same name, else with the only unused one of the same shape.
    """
    reference, candidate = comparison.reference, comparison.candidate
    correspondence = comparison.correspondence

    def capturing(graph, names) -> dict[str, list]:
        found: dict[str, list] = defaultdict(list)
        for name in names:
            node = graph.nodes.get(name)
            if node is not None and any(value in graph.params for value in node.captures):
                found[node.op].append(node)
        return found

    left = capturing(reference, correspondence.unmatched_reference)
    right = capturing(candidate, correspondence.unmatched_candidate)
    for op, nodes_a in left.items():
        nodes_b = right.get(op, [])
        if len(nodes_a) != len(nodes_b):
            continue
        for node_a, node_b in zip(nodes_a, nodes_b, strict=True):
            yield from _captured_pairs(reference, candidate, node_a, node_b)


def _captured_pairs(reference, candidate, node_a, node_b) -> Iterator[tuple[str, str]]:
    """Parameters two subgraph-holding nodes read from the outer scope, paired by name, else by shape.

    Tools reorder and rename what a body reads (onnxsim renames constants ``_v_150``): pairing them by
    the order of first reading would set a table against a shape constant.
    """
    captured_b = [value for value in node_b.captures if value in candidate.params]
    used: set[str] = set()
    for value_a in (value for value in node_a.captures if value in reference.params):
        shape = tuple(reference.params[value_a].shape)
        same_shape = [
            value
            for value in captured_b
            if value not in used and tuple(candidate.params[value].shape) == shape
        ]
        if value_a in captured_b and value_a not in used:
            partner = value_a
        elif len(same_shape) == 1:
            partner = same_shape[0]
        else:
            continue
        used.add(partner)
        yield value_a, partner


def _unfold(a: Param, b: Param) -> Iterator[tuple[Param, Param]]:
    same_step = a.transform and b.transform and a.transform[-1] == b.transform[-1]
    if same_step and len(a.parents) == len(b.parents) and a.parents:
        for pa, pb in zip(a.parents, b.parents, strict=True):
            yield from _unfold(pa, pb)
    else:
        yield a, b


def compare_weights(
    comparison: GraphComparison, mode: str = "provenance"
) -> tuple[list[Observation], list[TensorVerdict]]:
    """Observations about the parameters, and the per-tensor verdicts behind them."""
    if mode not in MODES:
        raise ValueError(f"unknown weights mode {mode!r}")
    judge = classify if mode == "provenance" else compare_distributions
    pairs = list(parameter_pairs(comparison))
    verdicts = [judge(a, b) for a, b in pairs]
    verdicts = _repaired(pairs, verdicts, judge)
    return _observations(verdicts, mode, _readers(comparison)), verdicts


#: verdicts that say a candidate tensor is not its partner's: possibly a mispairing, not a change
UNEXPLAINED = frozenset({WEIGHTS_REPLACED, WEIGHTS_MODIFIED, WEIGHTS_DISTRIBUTION_CHANGED})


def _repaired(pairs: list[tuple[Param, Param]], verdicts: list[TensorVerdict], judge) -> list[TensorVerdict]:
    """Verdicts with mispaired tensors judged against the reference tensor they are a copy of.

    Graph matching pairs symmetric structures (two relations of a GNN, two heads built alike) by
    position, and may cross them. A candidate tensor the pairing calls replaced or modified, yet equal
    value for value to another reference tensor of its shape, is that tensor moved: judged against it,
    so a crossed pairing is no false violation. An edited tensor equals no reference tensor and keeps
    its verdict.
    """
    if not any(verdict.kind in UNEXPLAINED for verdict in verdicts):
        return verdicts
    by_content: dict[tuple, Param] = {}
    for reference, _ in pairs:
        if not reference.transform:
            by_content.setdefault(_content_key(reference), reference)
    found = []
    for (reference, candidate), verdict in zip(pairs, verdicts, strict=True):
        if verdict.kind in UNEXPLAINED and not candidate.transform:
            twin = by_content.get(_content_key(candidate))
            if twin is not None and twin is not reference:
                verdict = judge(twin, candidate)
                verdict.details["paired_by"] = "content (the graph's pairing crossed symmetric branches)"
        found.append(verdict)
    return found


def _content_key(param: Param) -> tuple:
    import hashlib

    values = np.ascontiguousarray(param.values())
    return (tuple(param.shape), str(values.dtype), hashlib.sha256(values.tobytes()).hexdigest())


def _readers(comparison: GraphComparison) -> dict[str, tuple[str, ...]]:
    """The reference's nodes (as in its file) that read each stored tensor.

    Exporters name transposed weights ``onnx::MatMul_533``: the node reading one says where it is.
    """
    source = comparison.reference.source
    found: dict[str, list[str]] = defaultdict(list)
    for node, reads in (source.reads if source else {}).items():
        for value in reads:
            found[value].append(node)
    return {value: tuple(nodes) for value, nodes in found.items()}


def _observations(
    verdicts: list[TensorVerdict], mode: str, readers: dict[str, tuple[str, ...]] | None = None
) -> list[Observation]:
    readers = readers or {}
    grouped: dict[tuple[str, str | None], list[TensorVerdict]] = defaultdict(list)
    found = []
    for verdict in verdicts:
        if verdict.kind in GROUPED:
            grouped[(verdict.kind, verdict.details.get("format"))].append(verdict)
            continue
        found.append(
            Observation(
                kind=verdict.kind,
                engine=ENGINE,
                summary=f"{verdict.candidate[0]}: {_describe(verdict)}",
                evidence=Evidence(
                    locations=_locations(verdict, readers),
                    metrics=verdict.metrics,
                    details={
                        "mode": mode,
                        "reference": list(verdict.reference),
                        "candidate": list(verdict.candidate),
                        "transforms": list(verdict.transforms),
                        **verdict.details,
                    },
                ),
            )
        )
    for (kind, fmt), items in sorted(grouped.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        details = {
            "mode": mode,
            "tensors": [
                {
                    "reference": list(v.reference),
                    "candidate": list(v.candidate),
                    "transforms": list(v.transforms),
                    **v.details,
                }
                for v in items[:100]
            ],
        }
        if fmt:
            details["format"] = fmt
        worst = max(v.metrics.get("scaled_error", 0.0) for v in items)
        metrics = {"count": float(len(items)), "worst_scaled_error": worst}
        clamped = sum(v.metrics.get("clamped", 0.0) for v in items)
        said = ""
        if clamped:  # entries a converter's documented clamping explains, not rounding: counted, named
            metrics["clamped"] = clamped
            how = sorted({v.details["semantics"] for v in items if v.details.get("semantics")})
            said = f"; {clamped:.0f} entr{'y' if clamped == 1 else 'ies'} clamped ({', '.join(how)})"
        found.insert(
            0,
            Observation(
                kind=kind,
                engine=ENGINE,
                summary=f"{len(items)} tensor(s) {kind.split('.')[1].replace('_', ' ')}"
                f"{f' ({fmt})' if fmt else ''}; worst scaled error {worst:.2g}{said}",
                evidence=Evidence(
                    locations=tuple(loc for v in items[:20] for loc in _locations(v)),
                    metrics=metrics,
                    details=details,
                ),
            ),
        )
    return found


def _describe(verdict: TensorVerdict) -> str:
    m = verdict.metrics
    if "rows_removed" in m:  # a table with fewer rows: pruned or replaced, the rows counted
        return verdict.details["problem"]
    if verdict.kind == WEIGHTS_PRUNED:
        return f"{m['pruned']:.0f} non-zero entries set to zero ({m['pruned_fraction']:.1%})"
    if verdict.kind == WEIGHTS_REPLACED:
        return f"unrelated to the reference (correlation {m.get('correlation', 0):.2f})"
    if verdict.kind == WEIGHTS_DISTRIBUTION_CHANGED and m.get("zero_atom_pvalue", 1.0) < m.get(
        "ks_pvalue", 1.0
    ):
        return (
            f"initial distribution differs: {m['candidate_zeros']:.0f} exact zeros, which a draw from the "
            f"reference's distribution gives with probability {m['zero_atom_pvalue']:.2g}"
        )
    if verdict.kind == WEIGHTS_DISTRIBUTION_CHANGED:
        return f"initial distribution differs (KS p = {m.get('ks_pvalue', 0):.2g})"
    if "problem" in verdict.details:
        return verdict.details["problem"]
    return (
        f"{m.get('differing', 0):.0f} of {m.get('elements', 0):.0f} entries differ, max scaled error "
        f"{m.get('scaled_error', 0):.2g}"
    )


def _locations(
    verdict: TensorVerdict, readers: dict[str, tuple[str, ...]] | None = None
) -> tuple[Location, ...]:
    read_by = dict.fromkeys(node for n in verdict.reference[:3] for node in (readers or {}).get(n, ())[:2])
    return (
        *(Location(where="tensor", name=n, side="reference") for n in verdict.reference[:3]),
        *(Location(where="tensor", name=n, side="candidate") for n in verdict.candidate[:3]),
        *(Location(where="node", name=node, side="reference") for node in read_by),
    )
