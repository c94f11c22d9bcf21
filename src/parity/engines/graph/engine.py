"""The graph engine: canonicalise both models, match them, and report every difference as observations.

Differences come from three places: rewrites applied more often to one model than to the other (each
rewrite names its change kind), matched nodes whose shapes or precision differ, and regions of nodes the
matcher could not pair. A region is first checked for equivalence (equivalence.py: proved symbolically,
by exact index maps or constant evaluation; the numeric engine verifies the rest); only a region no
method settles is a removed, added or changed operation.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from parity.engines.graph.attribute_changes import (
    FUNCTION,
    attribute_changes,
    describe,
    effect,
    epsilon_constants,
)
from parity.engines.graph.equivalence import (
    Boundary,
    RegionCheck,
    check_region,
    close_region,
    grown_to_shapes,
)
from parity.engines.graph.matching import Correspondence, match
from parity.engines.graph.residual import Region, pair_differences, regions
from parity.engines.graph.rewrite import Application, RewriteSet, canonicalise
from parity.engines.graph.rewrites import DEFAULT_REWRITES
from parity.engines.graph.rewrites.noop import RemoveNeutralArithmetic
from parity.engines.graph.rewrites.precision import is_quantizer_clamp
from parity.ir import Graph
from parity.observations import Evidence, Location, Observation
from parity.observations.kinds import (
    ATTRIBUTE_CHANGED,
    GRAPH_QUANTIZED,
    OP_ADDED,
    OP_CHANGED,
    OP_REMOVED,
    OPSET_CHANGED,
    REGION_EQUIVALENT,
)

ENGINE = "graph"
MAX_LOCATIONS = 50
#: methods that prove a region equivalent (numeric verification only finds it close)
PROOFS = frozenset({"proved_symbolic", "proved_exact", "evaluated_constant", "proved_identity"})
#: rounds of matching again from regions shown equivalent
MAX_ROUNDS = 6


@dataclass
class GraphComparison:
    """Everything the graph engine found, and the correspondence later engines reuse."""

    observations: list[Observation]
    correspondence: Correspondence
    reference: Graph
    candidate: Graph
    applications: dict[str, list[Application]]
    timings: dict[str, float] = field(default_factory=dict)
    #: every residual region, with what is known of its equivalence, and the observation standing for it
    regions: list[tuple[RegionCheck, Observation]] = field(default_factory=list)
    #: (reference, candidate) names of constants compared as attributes (a normalisation's epsilon
    #: written as arithmetic), which the weights engine leaves out
    attribute_constants: set[tuple[str, str]] = field(default_factory=set)

    def settle(self, check: RegionCheck) -> None:
        """Replace a region's observation once a later method (numeric verification) has decided it."""
        for index, (known, observation) in enumerate(self.regions):
            if known is check:
                replacement = region_check_observation(self.reference, self.candidate, check)
                self.regions[index] = (check, replacement)
                self.observations[self.observations.index(observation)] = replacement
                return
        raise ValueError("not a region of this comparison")

    def differing_regions(self, limit: int) -> list[tuple[Region, str]]:
        """The first ``limit`` connected regions of unmatched nodes, each with its one-line summary."""
        found = regions(self.reference, self.candidate, self.correspondence)[:limit]
        return [
            (region, region_observation(self.reference, self.candidate, region).summary) for region in found
        ]

    def node_pairs(self) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """Matched nodes as (reference original names, candidate original names)."""
        return [
            (self.reference.nodes[left].origin, self.candidate.nodes[right].origin)
            for left, right in self.correspondence.nodes.items()
        ]


def compare_graphs(
    reference: Graph, candidate: Graph, rewrites: RewriteSet = DEFAULT_REWRITES, check_regions: bool = True
) -> GraphComparison:
    """Canonicalise both graphs in place, match them, and describe every difference.

    ``check_regions=False`` leaves residual regions unproved (changed): for measuring what proving costs.
    """
    timings = {}
    start = time.perf_counter()
    applied = {"reference": canonicalise(reference, rewrites), "candidate": canonicalise(candidate, rewrites)}
    timings["canonicalise_s"] = time.perf_counter() - start
    start = time.perf_counter()
    correspondence, checked = _match_and_check(reference, candidate, check_regions)
    timings["match_s"] = time.perf_counter() - start
    observations = _opset(reference, candidate)
    observations += _rewrite_observations(
        applied, rewrites, _located(reference, candidate, correspondence), (reference, candidate)
    )
    observations += _pair_observations(reference, candidate, correspondence)
    observations += [observation for _, observation in checked]
    epsilons = epsilon_constants(reference, candidate, correspondence.nodes)
    locations = _locations([n for c in epsilons for n in c["reference"]], "reference") + _locations(
        [n for c in epsilons for n in c["candidate"]], "candidate"
    )
    if epsilons:
        observations.append(_attribute_observation(epsilons, locations))
    comparison = GraphComparison(
        observations, correspondence, reference, candidate, applied, timings, checked
    )
    comparison.attribute_constants = {tuple(change["params"]) for change in epsilons}
    return comparison


def _match_and_check(
    reference: Graph, candidate: Graph, check_regions: bool = True
) -> tuple[Correspondence, list[tuple[RegionCheck, Observation]]]:
    """Match, check every residual region, and match again from the regions shown equivalent.

    A difference breaks the matcher's hashes downstream of it, so nodes between two differences may stay
    unpaired although they are the same. Once a region is shown to compute the same function, its
    output tensors are paired (anchors) and matching runs again, until no new region is settled. A
    region left without a boundary by a matched pair that belongs to it gets that pair back (apart).
    """
    anchors: dict[str, str] = {}
    apart: set[str] = set()
    known: dict[tuple, RegionCheck] = {}
    for _ in range(MAX_ROUNDS):
        correspondence = match(reference, candidate, anchors, apart)
        checked, opened = [], set()
        for region in regions(reference, candidate, correspondence):
            key = (region.reference, region.candidate)
            if key not in known:
                region = close_region(reference, candidate, correspondence, region)
                region, found = grown_to_shapes(reference, candidate, correspondence, region)
                if not isinstance(found, Boundary):
                    known[key] = RegionCheck(region, None, reason=found.reason)
                    opened.update(found.apart)
                elif check_regions:
                    known[key] = check_region(reference, candidate, region, found)
                else:
                    known[key] = RegionCheck(region, found, reason="regional checks disabled")
            checked.append(known[key])
        new = {
            left: right
            for check in checked
            if check.equivalent and check.boundary is not None
            for left, right in check.boundary.outputs
            if left not in anchors
        }
        opened -= apart
        if not new and not opened:
            break
        anchors.update(new)
        apart |= opened
    return correspondence, [
        (check, region_check_observation(reference, candidate, check)) for check in checked
    ]


def _opset(reference: Graph, candidate: Graph) -> list[Observation]:
    left, right = reference.opsets.get("", 0), candidate.opsets.get("", 0)
    if left == right:
        return []
    return [
        Observation(
            kind=OPSET_CHANGED,
            engine=ENGINE,
            summary=f"ONNX opset {left} in the reference, {right} in the candidate",
            evidence=Evidence(details={"reference_opset": left, "candidate_opset": right}),
        )
    ]


def _located(
    reference: Graph, candidate: Graph, correspondence: Correspondence
) -> dict[tuple[str, str], list[str]]:
    """Where a rewrite's count difference actually is.

    Maps (side, rewrite) to the original names of matched nodes whose history has the rewrite while their
    partner's does not; where no matched pair shows it, to the unmatched nodes (in residual regions)
    the rewrite made.
    """
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for left, right in correspondence.nodes.items():
        a, b = reference.nodes[left], candidate.nodes[right]
        for rewrite in set(a.history) - set(b.history):
            found[("reference", rewrite)].extend(a.origin)
        for rewrite in set(b.history) - set(a.history):
            found[("candidate", rewrite)].extend(b.origin)
    unmatched: dict[tuple[str, str], list[str]] = defaultdict(list)
    for side, graph, names in (
        ("reference", reference, correspondence.unmatched_reference),
        ("candidate", candidate, correspondence.unmatched_candidate),
    ):
        for name in names:
            for rewrite in dict.fromkeys(graph.nodes[name].history):
                unmatched[(side, rewrite)].extend(graph.nodes[name].origin)
    for key, origins in unmatched.items():
        found.setdefault(key, origins)
    return found


def _rewrite_observations(
    applied: dict[str, list[Application]],
    rewrites: RewriteSet,
    located: dict[tuple[str, str], list[str]],
    graphs: tuple[Graph, Graph],
) -> list[Observation]:
    kinds = rewrites.kinds()
    phrases = rewrites.phrases()
    counts: dict[tuple, dict[str, list[Application]]] = defaultdict(
        lambda: {"reference": [], "candidate": []}
    )
    for side, applications in applied.items():
        for application in applications:
            if application.rewrite in kinds and not application.details.get("consequence"):
                key = (application.rewrite, application.details.get("format"))
                counts[key][side].append(application)
    found = []
    for (rewrite, fmt), sides in sorted(counts.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        counted = {side: len(apps) for side, apps in sides.items()}
        extra = len(sides["reference"]) - len(sides["candidate"])
        if extra and rewrite == RemoveNeutralArithmetic.name:  # the surplus side's parameters still read
            surplus = "reference" if extra > 0 else "candidate"
            sides[surplus] = _removed_parameters(sides, surplus, graphs)
            sides["candidate" if surplus == "reference" else "reference"] = []
            extra = len(sides[surplus]) * (1 if surplus == "reference" else -1)
        if extra == 0:
            continue
        side = "reference" if extra > 0 else "candidate"
        kind = kinds[rewrite][0] if extra > 0 else kinds[rewrite][1]
        apps = sides[side]
        nodes = list(
            dict.fromkeys(located.get((side, rewrite)) or [name for app in apps for name in app.nodes])
        )
        details = {
            "rewrite": rewrite,
            "in_reference": counted["reference"],
            "in_candidate": counted["candidate"],
        }
        if fmt is not None:
            details["format"] = fmt
        for key in ("scheme", "layout", "fused", "activation"):
            values = sorted({str(app.details[key]) for app in apps if app.details.get(key) is not None})
            if values:
                details[key] = values[0] if len(values) == 1 else values
        said = phrases[rewrite][0 if extra > 0 else 1] or rewrite
        shown = ", ".join(nodes[:4]) + (", ..." if len(nodes) > 4 else "")
        found.append(
            Observation(
                kind=kind,
                engine=ENGINE,
                summary=f"{said}{f' ({fmt})' if fmt else ''}, {abs(extra)}×: {shown}",
                evidence=Evidence(
                    locations=_locations(nodes, side), metrics={"count": float(abs(extra))}, details=details
                ),
            )
        )
    return found


def _removed_parameters(
    sides: dict[str, list[Application]], surplus: str, graphs: tuple[Graph, Graph]
) -> list[Application]:
    """The surplus side's neutral-arithmetic removals that stand for a parameter the other side lost.

    Per parameter: as many as that side removed more than the other, and no more than the other side
    reads it fewer times. A zero bias a fused operator reads (a Gemm's C, a SkipLayerNormalization's
    bias) is no Add to remove, yet the parameter is there; exporters share one zero tensor between
    layers, so reads are counted, not merely seen.
    """
    own, other = graphs if surplus == "reference" else graphs[::-1]
    opposite = sides["candidate" if surplus == "reference" else "reference"]

    def reads(graph: Graph, name: str) -> int:
        source = graph.source
        return sum(list(values).count(name) for values in source.reads.values()) if source else 0

    by_name: dict[str, list[Application]] = defaultdict(list)
    for app in sides[surplus]:
        by_name[app.details.get("parameter")].append(app)
    kept = []
    for name, apps in by_name.items():
        more = len(apps) - sum(1 for app in opposite if app.details.get("parameter") == name)
        lost = reads(own, name) - reads(other, name) if name is not None else more
        kept += apps[: max(0, min(more, lost))]
    return kept


def _pair_observations(
    reference: Graph, candidate: Graph, correspondence: Correspondence
) -> list[Observation]:
    grouped = defaultdict(list)
    for difference in pair_differences(reference, candidate, correspondence):
        grouped[(difference.kind, difference.detail.get("format"))].append(difference)
    found = []
    for (kind, fmt), items in sorted(grouped.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        names = [name for item in items for name in candidate.nodes[item.candidate].origin]
        details = {
            "pairs": [
                {
                    "reference": list(reference.nodes[i.reference].origin),
                    "candidate": list(candidate.nodes[i.candidate].origin),
                    **i.detail,
                }
                for i in items[:MAX_LOCATIONS]
            ]
        }
        if fmt:
            details["format"] = fmt
        what = f"computed in {fmt}" if fmt else "with another shape"
        found.append(
            Observation(
                kind=kind,
                engine=ENGINE,
                summary=f"{what}, {len(items)} operation(s): {', '.join(names[:4])}"
                + (", ..." if len(names) > 4 else ""),
                evidence=Evidence(
                    locations=_locations(names, "candidate"),
                    metrics={"count": float(len(items))},
                    details=details,
                ),
            )
        )
    return found


def region_check_observation(reference: Graph, candidate: Graph, check: RegionCheck) -> Observation:
    """A region as an observation: equivalent (with the method and its evidence), or changed (and why).

    A candidate-only region of nothing but the clamps at zero that a quantize/dequantize round trip
    stands for is the quantization's calibrated range, observed as quantization, not as added ReLUs.
    """
    observation = region_observation(reference, candidate, check.region)
    clamps = [candidate.nodes[n] for n in check.region.candidate]
    if (
        not check.equivalent
        and not check.region.reference
        and clamps
        and all(is_quantizer_clamp(n) for n in clamps)
    ):
        return _clamp_observation([name for n in clamps for name in n.origin])
    if check.boundary is not None and check.method not in PROOFS:
        changes = attribute_changes(reference, candidate, check.region, check.boundary.inputs)
        known = check.details.get("approximation")
        if not changes and known:  # a known approximation written out as arithmetic (approximations.py)
            changes = [
                {
                    **known,
                    "reference": [name for n in check.region.reference for name in reference.nodes[n].origin],
                    "candidate": [name for n in check.region.candidate for name in candidate.nodes[n].origin],
                    "written_as": "arithmetic",
                }
            ]
        if changes and effect(changes) == FUNCTION and check.method == "verified_numerically":
            changes = []  # agreeing outputs: likely a restatement (ends at INT64_MAX or at the length)
        if changes:
            numerically = None
            if check.method:
                numerically = f"the outputs agree ({check.method.replace('_', ' ')})"
            elif check.reason:
                numerically = check.reason
            return _attribute_observation(changes, observation.evidence.locations, numerically)
    if not check.equivalent:
        if check.reason:
            observation.evidence.details["equivalence_not_established"] = check.reason
        return observation
    if check.details.get("clamped"):  # equal but for the quantizer's clamps: quantization
        return _clamp_observation(check.details["clamped"], check.method)
    details = dict(observation.evidence.details)
    details.update({"method": check.method, "region_kind": check.region.kind, **check.details})
    ops = ", ".join(sorted(details["reference_ops"])) or "nothing"
    cand = ", ".join(sorted(details["candidate_ops"])) or "nothing"
    return Observation(
        kind=REGION_EQUIVALENT,
        engine=ENGINE,
        summary=f"{ops} → {cand}: same function ({check.method.replace('_', ' ')}) near "
        f"{', '.join(details['neighbours'][:2]) or 'the graph boundary'}",
        evidence=Evidence(
            locations=observation.evidence.locations,
            metrics=observation.evidence.metrics,
            details=details,
        ),
    )


def _attribute_observation(
    changes: list[dict], locations: tuple[Location, ...], numerically: str | None = None
) -> Observation:
    """Node pairs that differ only by attributes: the attributes, named with both values.

    Whatever numeric verification found (``numerically``: close or not) is kept as context; the changed
    attribute is the difference.
    """
    first = changes[0]
    details = {
        "op": first["op"],
        "attribute": first["attribute"],
        "reference_value": first["reference_value"],
        "candidate_value": first["candidate_value"],
        "effect": effect(changes),
        "changes": changes[:MAX_LOCATIONS],
    }
    if numerically:
        details["numerically"] = numerically
    shown = "; ".join(describe(change) for change in changes[:3]) + ("; ..." if len(changes) > 3 else "")
    return Observation(
        kind=ATTRIBUTE_CHANGED,
        engine=ENGINE,
        summary=f"attribute changed: {shown}",
        evidence=Evidence(
            locations=locations,
            metrics={"count": float(len(changes))},
            details=details,
        ),
    )


def _clamp_observation(names: list[str], method: str | None = None) -> Observation:
    """Quantize/dequantize round trips whose zero point clamps at zero: the quantizer's calibrated range."""
    details = {"format": "uint8", "clamp": "zero point at the range's lower end"}
    if method:
        details["method"] = method
    return Observation(
        kind=GRAPH_QUANTIZED,
        engine=ENGINE,
        summary=f"activations clamped at zero by the quantizer's calibrated range, {len(names)}×: "
        + ", ".join(names[:4]),
        evidence=Evidence(
            locations=_locations(names, "candidate"), metrics={"count": float(len(names))}, details=details
        ),
    )


def region_observation(reference: Graph, candidate: Graph, region: Region) -> Observation:
    """A differing region as an observation: which ops each side has alone, and where (its anchors)."""
    ref_ops = Counter(reference.nodes[n].op for n in region.reference)
    cand_ops = Counter(candidate.nodes[n].op for n in region.candidate)
    ref_names = [name for n in region.reference for name in reference.nodes[n].origin]
    cand_names = [name for n in region.candidate for name in candidate.nodes[n].origin]
    anchors = [name for n in region.anchors for name in reference.nodes[n].origin]
    verb = {OP_REMOVED: "removed", OP_ADDED: "added", OP_CHANGED: "changed"}[region.kind]
    shown = ", ".join(f"{op}×{n}" if n > 1 else op for op, n in sorted((ref_ops or cand_ops).items()))
    if region.kind == OP_CHANGED:
        shown = ", ".join(sorted(ref_ops)) + " → " + ", ".join(sorted(cand_ops))
    return Observation(
        kind=region.kind,
        engine=ENGINE,
        summary=f"{verb}: {shown} near {', '.join(anchors[:2]) or 'the graph boundary'}",
        evidence=Evidence(
            locations=_locations(ref_names, "reference") + _locations(cand_names, "candidate"),
            metrics={"reference_nodes": float(len(ref_names)), "candidate_nodes": float(len(cand_names))},
            details={
                "reference_ops": dict(sorted(ref_ops.items())),
                "candidate_ops": dict(sorted(cand_ops.items())),
                "neighbours": anchors[:MAX_LOCATIONS],
            },
        ),
    )


def _locations(names: list[str], side: str) -> tuple[Location, ...]:
    unique = list(dict.fromkeys(names))[:MAX_LOCATIONS]
    return tuple(Location(where="node", name=name, side=side) for name in unique)
