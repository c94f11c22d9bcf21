"""Numeric verification of the regions no proof settled: both sides run on the same boundary tensors.

Each region the graph engine could not prove is written out twice as a small ONNX model (its boundary
inputs as model inputs, computing in fp32), and one sandboxed child runs them: first on the boundary
activations of the real inputs (captured by running the reference model with those tensors exposed),
then on adversarial inputs (wide magnitudes, both signs, zeros; of the real activations' shapes). A region
whose outputs agree within the precision's tolerance on all of them is ``verified_numerically``; the
rulebooks decide what that is worth. A region whose outputs differ on one of them keeps that input as its
witness (``details["witness"]``: which input, which output, the error and where). Regions that cannot be
run on both sides stay unsettled, with the reason (the graph engine's witness rule decides what they
become).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import onnx

from parity.engines.graph import GraphComparison
from parity.engines.graph.equivalence import RegionCheck, subgraph
from parity.engines.numeric import sandbox
from parity.engines.numeric.compare import Tolerance
from parity.engines.numeric.inputs import write_for
from parity.ir.to_onnx import graph_to_model

#: real samples and adversarial draws each region is run on
REAL_SAMPLES = 4
ADVERSARIAL = 3
THREADS = 2


#: operators that compute on quantized integers (onnxruntime's and the standard ones)
QUANTIZED_OPS = ("QLinear", "Quantize", "Integer", "QAttention", "QGemm", "QOrdered")
#: derivations that stand for a narrower format (a dequantized weight or bias)
QUANTIZED_TRANSFORMS = frozenset({"dequantize", "dequantize_bias"})
#: formats narrower than fp32 a weight may be stored in
NARROW_FORMATS = frozenset({"fp16", "bf16", "int8", "uint8", "int4", "uint4", "float8e4m3fn", "float8e5m2"})
#: rewrites that removed a narrower format's round trip (a quantizer's clamp, a precision cast)
NARROW_REWRITES = frozenset({"remove-qdq", "remove-float-cast"})


def narrow_region(graph, nodes) -> bool:
    """Whether the candidate's region computes in a narrower format than fp32 (quantized or fp16/bf16).

    Its error then comes from the format and its calibration, which the weights and numeric engines
    judge: the region is verified on its real activations only (with the format's tolerance), since
    adversarial draws six decades wide push a rounded weight or a calibrated range where the format was
    never meant to hold (softmax turns fp16 rounding into a different winner): they witness nothing.
    """
    for name in nodes:
        node = graph.nodes[name]
        if any(tag in node.op for tag in QUANTIZED_OPS) or NARROW_REWRITES & set(node.history):
            return True
        for value in node.inputs:
            param = graph.params.get(value)
            if param is None:
                continue
            stored = param.info.get("stored_format")
            if QUANTIZED_TRANSFORMS & set(param.transform) or stored in NARROW_FORMATS:
                return True
            if param.dtype in ("FLOAT16", "BFLOAT16"):
                return True
    return False


def verify_regions(
    comparison: GraphComparison,
    samples: dict,
    tolerance: Tolerance,
    reference_model: Path,
    time_limit: float = sandbox.DEFAULT_TIME_LIMIT_S,
    memory_limit: int = sandbox.DEFAULT_MEMORY_LIMIT_BYTES,
) -> list[RegionCheck]:
    """Run every unproved region with a boundary on both sides; settle those that agree. Returns them."""
    pending = [
        check
        for check, _ in comparison.regions
        if not check.equivalent and check.boundary and not check.refuted
    ]
    if not pending:
        return []
    reference, candidate = comparison.reference, comparison.candidate
    source = reference.source
    in_file = set(source.writers) | set(source.inputs) if source else set()
    with tempfile.TemporaryDirectory(prefix="parity-regions-") as folder:
        work = Path(folder)
        jobs, checks = [], []
        for index, check in enumerate(pending):
            boundary = check.boundary
            ref_inputs, ref_outputs = boundary.side(0)
            cand_inputs, cand_outputs = boundary.side(1)
            paths = (work / f"region{index}.reference.onnx", work / f"region{index}.candidate.onnx")
            try:
                for graph, nodes, inputs, outputs, path in (
                    (reference, check.region.reference, ref_inputs, ref_outputs, paths[0]),
                    (candidate, check.region.candidate, cand_inputs, cand_outputs, paths[1]),
                ):
                    model = graph_to_model(subgraph(graph, nodes, inputs, outputs), float_type="FLOAT")
                    onnx.save(model, str(path))
            except Exception as exc:  # a region the exporter cannot write stays changed, with the reason
                check.reason = (
                    f"{check.reason}; the region could not be written to run ({type(exc).__name__})"
                )
                continue
            jobs.append(
                {
                    "narrow": narrow_region(candidate, check.region.candidate),
                    "models": [str(paths[0]), str(paths[1])],
                    "inputs": [
                        [left if left in in_file else None, left, right]
                        for left, right in zip(ref_inputs, cand_inputs, strict=True)
                    ],
                    "outputs": [[a, b] for a, b in zip(ref_outputs, cand_outputs, strict=True)],
                }
            )
            checks.append(check)
        if not jobs:
            return []
        ref_inputs = list(source.inputs if source else reference.inputs)
        write_for(reference, samples, ref_inputs, work / "reference.npz")
        count = min(next(iter(samples.values())).shape[0] if samples else 1, REAL_SAMPLES)
        job = {
            "mode": "regions",
            "models": [str(reference_model)],
            "inputs": [str(work / "reference.npz")],
            "samples": count,
            "capture": sorted({name for item in jobs for name, _, _ in item["inputs"] if name}),
            "graph_outputs": list(source.outputs if source else reference.outputs),
            "regions": jobs,
            "adversarial": ADVERSARIAL,
            "threads": THREADS,
            "tolerance": tolerance.as_job(),
        }
        ran = sandbox.run_job(job, time_limit, memory_limit)
    if isinstance(ran, sandbox.RunFailure):
        for check in checks:
            check.reason = f"{check.reason}; numeric verification did not run ({ran.reason})"
        return []
    settled = []
    for check, found in zip(checks, ran.get("regions", []), strict=False):
        if found.get("within"):
            check.method = "verified_numerically"
            check.details = {
                "real_samples": found.get("real", 0),
                "adversarial_samples": found.get("adversarial", 0),
                "worst_scaled_error": found.get("scaled_error"),
                "tolerance": tolerance.reason,
            }
            comparison.settle(check)
            settled.append(check)
        else:
            check.reason = "; ".join(
                part
                for part in (check.reason, f"numerically: {found.get('problem', 'outputs differ')}")
                if part
            )
            if found.get("witness"):  # an input on which the two regions differ: the difference's witness
                check.details = {
                    **check.details,
                    "witness": {
                        "scope": "region",
                        "found_by": "numeric verification of the region",
                        "tolerance": tolerance.reason,
                        **found["witness"],
                    },
                }
            comparison.settle(check)
    return settled
