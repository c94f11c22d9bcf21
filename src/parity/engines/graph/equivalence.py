"""Regional equivalence: the second line behind the rewrite registry.

A registry of patterns always lags behind the tools, so matching leaves regions: unmatched nodes whose
boundary tensors are matched. Before such a region is called changed, this module decides whether both
sides compute the same function of the same boundary tensors, and records how that was established:

- ``proved_symbolic``: elementwise operations and reductions, proved equal in real arithmetic by their
  sympy normal forms (symbolic.py);
- ``proved_exact``: data movement (Gather, GatherND, Slice, Split, Reshape, Transpose, Concat, ...), proved
  equal by evaluating both index maps on tensors of distinct ids (every output element must come from
  the same input element);
- ``proved_identity``: matrix products, arithmetic and normalisations with transcendental functions
  uninterpreted, proved equal by exact evaluation at random points of prime fields (identity.py);
- ``evaluated_constant``: regions with no input but constants, evaluated on both sides (a constant folded
  by a tool against the computation it folded);
- ``verified_numerically``: both regions run on the boundary activations of the real inputs and on
  adversarial ones, within the precision's tolerance (numeric engine, in the sandbox).

The rulebooks decide what each method is worth; this module only says which one held.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity.engines.graph import approximations, identity, symbolic, symbolic_elements
from parity.engines.graph.matching import COMMUTATIVE, Correspondence
from parity.engines.graph.residual import Region
from parity.engines.graph.rewrites.precision import is_quantizer_clamp
from parity.ir import Graph

PROVED = ("proved_symbolic", "proved_exact", "evaluated_constant", "proved_identity")
METHODS = (*PROVED, "verified_numerically")
#: ops that only move or copy elements (an index map from the inputs to the output)
MOVES = symbolic_elements.MOVES | {"DepthToSpace", "SpaceToDepth"}
#: elements any tensor of an exactly evaluated region may have (ids stay exact in float32 below 2**24)
MAX_EVALUATED = 1 << 22
#: operators whose work static shapes do not bound (loops; a subgraph may hold anything)
UNBOUNDED_OPS = frozenset({"Loop", "Scan", "If", "SequenceMap"})


@dataclass(frozen=True)
class Boundary:
    """The tensors a region reads and writes, paired across the two graphs."""

    inputs: tuple[tuple[str, str], ...]
    outputs: tuple[tuple[str, str], ...]

    def side(self, index: int) -> tuple[list[str], list[str]]:
        """(inputs, outputs) of one side: 0 the reference, 1 the candidate."""
        return [pair[index] for pair in self.inputs], [pair[index] for pair in self.outputs]


@dataclass(frozen=True)
class Unbounded:
    """Why a region has no boundary to compare on, and the matched nodes that keep it open, if known.

    When a region's output is read where the candidate reads a tensor computed by a matched node, that
    node (and its partner) belong to the region: matching again without pairing them closes it.
    """

    reason: str
    apart: tuple[str, ...] = ()


class Refuted(Exception):
    """A method showed that the two sides compute different functions (with how it showed it).

    ``details`` says more when the difference is recognised (a known approximation: approximations.py).
    """

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.details = details or {}


@dataclass
class RegionCheck:
    """What is known about one region: its boundary and, if established, the method of equivalence."""

    region: Region
    boundary: Boundary | None
    method: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    #: a method showed the functions differ: numeric verification need not run
    refuted: bool = False

    @property
    def equivalent(self) -> bool:
        """True once a method has established that both sides compute the same function."""
        return self.method is not None


def boundary_of(
    reference: Graph, candidate: Graph, correspondence: Correspondence, region: Region
) -> Boundary | Unbounded:
    """The region's paired inputs and outputs, or why they cannot be paired."""
    inverse = {right: left for left, right in correspondence.values.items()}
    ref_in = _reads(reference, region.reference)
    cand_in = _reads(candidate, region.candidate)
    pairs: dict[str, str] = {}
    for value in ref_in:
        partner = correspondence.values.get(value)
        if partner is None:
            return Unbounded(f"reference tensor {value} read by the region has no counterpart")
        pairs[value] = partner
    for value in cand_in:
        partner = inverse.get(value)
        if partner is None:
            return Unbounded(f"candidate tensor {value} read by the region has no counterpart")
        if pairs.setdefault(partner, value) != value:
            return Unbounded(f"tensor {partner} stands for two candidate tensors")
    outputs = _paired_outputs(reference, candidate, correspondence, region)
    if isinstance(outputs, Unbounded):
        return outputs
    return Boundary(tuple(sorted(pairs.items())), tuple(outputs))


#: matched producers a region takes in so that its inputs are independent of each other
MAX_ABSORBED = 8


def close_region(
    reference: Graph, candidate: Graph, correspondence: Correspondence, region: Region
) -> Region:
    """The region with the matched pairs that compute one of its inputs from another of its inputs.

    A layout rewrite leaves ``Transpose(x)`` outside the region on one side while the other side reads
    ``x`` itself: read as two independent inputs, the two sides look like different functions of them.
    Taking in the matched producer (on both sides) of an input computed only from the region's other
    inputs makes the inputs independent again, so every method sees the function it really computes.
    """
    ref_nodes, cand_nodes = list(region.reference), list(region.candidate)
    for _ in range(MAX_ABSORBED):
        boundary = {*_reads(reference, tuple(ref_nodes))}
        boundary |= {
            left
            for left, right in correspondence.values.items()
            if right in _reads(candidate, tuple(cand_nodes))
        }
        taken = None
        for value in sorted(boundary):
            producer = reference.producer.get(value)
            partner = correspondence.nodes.get(producer) if producer else None
            if partner is None or producer in ref_nodes or partner in cand_nodes:
                continue
            reads = [v for v in reference.nodes[producer].inputs if v and v not in reference.params]
            if reads and all(v in boundary for v in reads):
                taken = producer, partner
                break
        if taken is None:
            break
        ref_nodes.append(taken[0])
        cand_nodes.append(taken[1])
    if len(ref_nodes) == len(region.reference):
        return region
    return Region(tuple(ref_nodes), tuple(cand_nodes), region.anchors)


#: times a region grows by the readers of outputs whose shapes differ
MAX_GROWTH = 4


def grown_to_shapes(
    reference: Graph, candidate: Graph, correspondence: Correspondence, region: Region
) -> tuple[Region, Boundary | Unbounded]:
    """The region, grown by the matched readers of its outputs until each output pair has one shape.

    A tool that moves a Reshape across the region's edge (onnxruntime reshaping Swin's windows after the
    attention instead of before) leaves outputs of other shapes on each side: the same tensor, read
    apart. Taking in the reader pair that reshapes it back gives outputs both sides agree on.
    """
    found = boundary_of(reference, candidate, correspondence, region)
    for _ in range(MAX_GROWTH):
        if not isinstance(found, Boundary):
            return region, found
        readers = []
        for left, right in found.outputs:
            a, b = reference.value_info(left).shape, candidate.value_info(right).shape
            if a is None or b is None or tuple(a) == tuple(b):
                continue
            for reader in reference.consumers.get(left, ()):
                partner = correspondence.nodes.get(reader)
                if partner is not None and reader not in region.reference:
                    readers.append((reader, partner))
        if not readers:
            return region, found
        region = Region(
            tuple(dict.fromkeys([*region.reference, *(r for r, _ in readers)])),
            tuple(dict.fromkeys([*region.candidate, *(c for _, c in readers)])),
            region.anchors,
        )
        found = boundary_of(reference, candidate, correspondence, region)
    return region, found


def _reads(graph: Graph, nodes: tuple[str, ...]) -> list[str]:
    """What the region reads from outside: its nodes' inputs and the outer names their bodies capture."""
    written = {value for name in nodes for value in graph.nodes[name].outputs}
    found = []
    for name in nodes:
        node = graph.nodes[name]
        for value in (*node.inputs, *node.captures):
            if value and value not in written and value not in graph.params and value not in found:
                found.append(value)
    return found


def _writes(graph: Graph, nodes: tuple[str, ...]) -> list[str]:
    inside = set(nodes)
    found = []
    for name in nodes:
        for value in graph.nodes[name].outputs:
            readers = [r for r in graph.consumers.get(value, ()) if r not in inside]
            if value and (readers or graph.is_output(value)):
                found.append(value)
    return found


def _paired_outputs(
    reference: Graph, candidate: Graph, correspondence: Correspondence, region: Region
) -> list[tuple[str, str]] | str:
    """Pair what each side writes by where it is read: the same slot of matched readers, or an output."""
    ref_out, cand_out = _writes(reference, region.reference), _writes(candidate, region.candidate)
    written_ref, written_cand = set(ref_out), set(cand_out)
    pairs: dict[str, str] = {}

    inverse = {right: left for left, right in correspondence.nodes.items()}

    def pair(left: str, right: str) -> Unbounded | None:
        # a constant the candidate stores where the reference computes it from constants (a tool's
        # constant folding) pairs with the computation: evaluating the region says whether it is that fold
        folded = right in candidate.params and not _reads(reference, region.reference)
        if right not in written_cand and not folded:
            producer = candidate.producer.get(right)
            apart = (producer, inverse[producer]) if producer in inverse else ()
            return Unbounded(
                f"reference tensor {left} is read where the candidate reads {right}, from outside the region",
                apart,
            )
        if pairs.setdefault(left, right) != right:
            return Unbounded(f"reference tensor {left} stands for two candidate tensors")
        return None

    for index, value in enumerate(reference.outputs):
        if value in written_ref and index < len(candidate.outputs):
            problem = pair(value, candidate.outputs[index])
            if problem:
                return problem
    inside = set(region.reference)
    for value in ref_out:
        for reader in reference.consumers.get(value, ()):
            if reader in inside or reader not in correspondence.nodes:
                continue
            a, b = reference.nodes[reader], candidate.nodes[correspondence.nodes[reader]]
            if a.op in COMMUTATIVE and len(a.inputs) == len(b.inputs) == 2:
                other = next((v for v in a.inputs if v != value), value)
                expected = "<constant>" if other in reference.params else correspondence.values.get(other)
                keys = ["<constant>" if v in candidate.params else v for v in b.inputs]
                remaining = [v for v, key in zip(b.inputs, keys, strict=True) if key != expected]
                right = remaining[0] if len(remaining) == 1 else None
                if right is None:
                    return Unbounded(f"cannot tell which input of {b.name} stands for {value}")
                problem = pair(value, right)
            else:
                problem = None
                for slot in (i for i, v in enumerate(a.inputs) if v == value and i < len(b.inputs)):
                    problem = problem or pair(value, b.inputs[slot])
            if problem:
                return problem
    if set(pairs) != written_ref or {v for v in pairs.values() if v not in candidate.params} != written_cand:
        missing = sorted(written_ref - set(pairs)) + sorted(written_cand - set(pairs.values()))
        return Unbounded(f"region outputs without a counterpart: {', '.join(missing[:4])}")
    return sorted(pairs.items())


def check_region(reference: Graph, candidate: Graph, region: Region, boundary: Boundary) -> RegionCheck:
    """Try the in-process methods (symbolic, exact index maps, constant evaluation) on one region.

    A candidate region holding clamps at zero that quantize/dequantize round trips stand for is tried
    once more with the clamps read as identities: equal then, the region differs only by the
    quantizer's calibrated range, which is quantization (``clamped`` in the details), not a change.
    """
    check = _check(reference, candidate, region, boundary)
    clamps = [candidate.nodes[n] for n in region.candidate if is_quantizer_clamp(candidate.nodes[n])]
    if check.equivalent or not clamps:
        return check
    for node in clamps:
        node.op = "Identity"
    try:
        unclamped = _check(reference, candidate, region, boundary)
    finally:
        for node in clamps:
            node.op = "Relu"
    if unclamped.equivalent:
        unclamped.details["clamped"] = [name for node in clamps for name in node.origin]
        return unclamped
    return check


def _check(reference: Graph, candidate: Graph, region: Region, boundary: Boundary) -> RegionCheck:
    check = RegionCheck(region, boundary)
    reasons = []
    for method in (_symbolic, _constant, _index_maps, _elements, _identity):
        try:
            details = method(reference, candidate, region, boundary)
        except symbolic.NotProvable as exc:
            reasons.append(str(exc))
            continue
        except Refuted as exc:  # the region computes another function: no other method can say otherwise
            check.reason, check.refuted, check.details = str(exc), True, dict(exc.details)
            return check
        except (TypeError, ValueError, ArithmeticError, IndexError, KeyError) as exc:
            # a method that cannot handle this region (sympy refusing a mixed expression, an index map
            # of an unexpected shape) proves nothing about it; the next method and the numerics decide
            reasons.append(f"{method.__name__.strip('_')} could not be applied ({type(exc).__name__})")
            continue
        if details is not None:
            check.method, check.details = details.pop("method"), details
            return check
    check.reason = "; ".join(dict.fromkeys(r for r in reasons if r)) or "no method applies"
    return check


def _symbolic(reference: Graph, candidate: Graph, region: Region, boundary: Boundary) -> dict | None:
    if not (
        symbolic.provable(reference, list(region.reference))
        and symbolic.provable(candidate, list(region.candidate))
    ):
        raise symbolic.NotProvable("")
    for left, right in boundary.inputs:
        a, b = reference.value_info(left).shape, candidate.value_info(right).shape
        if a is not None and b is not None and tuple(a) != tuple(b):
            raise symbolic.NotProvable(
                f"input {left} has shape {list(a)} in the reference, {list(b)} in the candidate"
            )
    symbols = [f"in{i}" for i in range(len(boundary.inputs))]
    ref_forms = symbolic.normal_forms(
        reference,
        list(region.reference),
        boundary.side(0)[0],
        symbols,
        boundary.side(0)[1],
    )
    cand_forms = symbolic.normal_forms(
        candidate,
        list(region.candidate),
        boundary.side(1)[0],
        symbols,
        boundary.side(1)[1],
    )
    for (left, right), first, second in zip(boundary.outputs, ref_forms, cand_forms, strict=True):
        a, b = reference.value_info(left).shape, candidate.value_info(right).shape
        if a is not None and b is not None and tuple(a) != tuple(b):
            return None
        if not symbolic.equal(first, second):
            known = approximations.recognise(first, second)
            raise Refuted(
                f"the normal forms differ at a random point ({_shown(first)} against {_shown(second)})",
                {"approximation": known} if known else None,
            )
    return {
        "method": "proved_symbolic",
        "normal_forms": [
            {"reference": _shown(first), "candidate": _shown(second)}
            for first, second in zip(ref_forms, cand_forms, strict=True)
        ],
    }


def _elements(reference: Graph, candidate: Graph, region: Region, boundary: Boundary) -> dict | None:
    if not (
        symbolic_elements.provable(reference, region.reference)
        and symbolic_elements.provable(candidate, region.candidate)
    ):
        raise symbolic.NotProvable("")
    prefixes = [f"x{i}" for i in range(len(boundary.inputs))]
    first = symbolic_elements.element_forms(
        reference,
        region.reference,
        boundary.side(0)[0],
        prefixes,
        boundary.side(0)[1],
    )
    second = symbolic_elements.element_forms(
        candidate,
        region.candidate,
        boundary.side(1)[0],
        prefixes,
        boundary.side(1)[1],
    )
    if not all(symbolic_elements.arrays_equal(a, b) for a, b in zip(first, second, strict=True)):
        return None
    shown = [
        {"reference": _shown(a.reshape(-1)[0]), "candidate": _shown(b.reshape(-1)[0])}
        for a, b in zip(first, second, strict=True)
        if a.size
    ]
    return {"method": "proved_symbolic", "per_element": True, "normal_forms": shown}


def _identity(reference: Graph, candidate: Graph, region: Region, boundary: Boundary) -> dict | None:
    if not (
        identity.provable(reference, region.reference) and identity.provable(candidate, region.candidate)
    ):
        raise symbolic.NotProvable("")
    return identity.prove(
        reference,
        candidate,
        (
            (region.reference, *boundary.side(0)),
            (region.candidate, *boundary.side(1)),
        ),
    )


def _shown(expr: Any) -> str:
    text = str(expr)
    return text if len(text) <= 400 else text[:397] + "..."


def _constant(reference: Graph, candidate: Graph, region: Region, boundary: Boundary) -> dict | None:
    if boundary.inputs:
        raise symbolic.NotProvable("")
    ref_values = _evaluate(reference, region.reference, [], boundary.side(0)[1], {})
    cand_values = _evaluate(candidate, region.candidate, [], boundary.side(1)[1], {})
    worst = 0.0
    for a, b in zip(ref_values, cand_values, strict=True):
        if a.shape != b.shape:
            return None
        if np.issubdtype(a.dtype, np.floating) or np.issubdtype(b.dtype, np.floating):
            a64, b64 = a.astype(np.float64), b.astype(np.float64)
            scale = float(np.abs(a64).max()) if a64.size else 0.0
            error = float(np.abs(a64 - b64).max()) if a64.size else 0.0
            if not np.allclose(b64, a64, rtol=2.0**-18, atol=scale * 2.0**-20, equal_nan=True):
                return None
            worst = max(worst, error / scale if scale else error)
        elif not np.array_equal(a, b):
            return None
    return {"method": "evaluated_constant", "worst_scaled_error": worst}


def _index_maps(reference: Graph, candidate: Graph, region: Region, boundary: Boundary) -> dict | None:
    for graph, nodes in ((reference, region.reference), (candidate, region.candidate)):
        for name in nodes:
            node = graph.nodes[name]
            if node.op not in MOVES and not (node.op == "Cast" and int(node.attrs.get("to", 1)) in (1, 11)):
                raise symbolic.NotProvable(f"{node.op} is not data movement")
    feeds_ref, feeds_cand, offset = {}, {}, 1 << 20
    for left, right in boundary.inputs:
        shape = reference.value_info(left).shape
        if shape is None or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise symbolic.NotProvable(f"input {left} has no static shape")
        count = int(np.prod(shape, dtype=np.int64))
        if offset + count >= 1 << 24:
            raise symbolic.NotProvable("too many elements to evaluate exactly")
        ids = (offset + np.arange(count, dtype=np.float64)).reshape(shape).astype(np.float32)
        feeds_ref[left], feeds_cand[right] = ids, ids
        offset += count
    ref_values = _evaluate(
        reference,
        region.reference,
        boundary.side(0)[0],
        boundary.side(0)[1],
        feeds_ref,
    )
    cand_values = _evaluate(
        candidate,
        region.candidate,
        boundary.side(1)[0],
        boundary.side(1)[1],
        feeds_cand,
    )
    for a, b in zip(ref_values, cand_values, strict=True):
        if a.shape != b.shape or not np.array_equal(a, b):
            return None
    return {"method": "proved_exact", "elements": int(offset - (1 << 20))}


def subgraph(graph: Graph, nodes: tuple[str, ...], inputs: list[str], outputs: list[str]) -> Graph:
    """The region as a graph of its own (boundary inputs as graph inputs), sharing nodes and parameters."""
    return Graph(
        name=f"{graph.name}-region",
        nodes={name: graph.nodes[name] for name in nodes},
        inputs=list(inputs),
        outputs=list(outputs),
        values=graph.values,
        params=graph.params,
        opsets=graph.opsets,
    )


def _evaluate(
    graph: Graph, nodes: tuple[str, ...], inputs: list[str], outputs: list[str], feeds: dict[str, np.ndarray]
) -> list[np.ndarray]:
    """The region's outputs, computed by onnx's reference implementation (bounded, standard ops only)."""
    from onnx.reference import ReferenceEvaluator

    from parity.ir.to_onnx import graph_to_model

    for name in nodes:
        node = graph.nodes[name]
        if "." in node.op:
            raise symbolic.NotProvable(f"{node.op} has no reference implementation")
        if node.op in UNBOUNDED_OPS:  # a trip count no static shape bounds: never run in this process
            raise symbolic.NotProvable(f"{node.op} is not evaluated in the main process")
        for value in [*node.outputs, *(v for v in node.inputs if v in graph.params)]:
            shape = graph.value_info(value).shape
            if shape is None or not all(isinstance(d, int) and d >= 0 for d in shape):
                raise symbolic.NotProvable(f"{value} has no static shape")
            if math.prod(shape) > MAX_EVALUATED:
                raise symbolic.NotProvable(f"{value} is too large to evaluate exactly")
    model = graph_to_model(subgraph(graph, nodes, inputs, outputs))
    try:
        found = ReferenceEvaluator(model).run(None, feeds)
    except Exception as exc:  # the reference implementation's refusal: the method does not apply
        raise symbolic.NotProvable(f"reference evaluation failed ({type(exc).__name__})") from None
    return [np.asarray(value) for value in found]
