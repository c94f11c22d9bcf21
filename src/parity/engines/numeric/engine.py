"""The numeric engine: what the differences do to the outputs.

Both models run on the same inputs in one sandboxed child (runner.py), outputs compared there with a
tolerance derived from the candidate's precision. When outputs differ, a second run exposes the matched
cut points and names the first divergence. If a run fails, each model is run alone to say which one did.
Accuracy is checked on labels when given.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from parity.engines.graph import GraphComparison
from parity.engines.numeric import sandbox
from parity.engines.numeric.compare import Tolerance
from parity.engines.numeric.inputs import (
    CONVENTIONS,
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    load_inputs,
    random_inputs,
    write_for,
)
from parity.engines.numeric.localise import cut_points, nodes_between
from parity.engines.numeric.transplant import transplant_plan, write_transplanted
from parity.errors import BadInput
from parity.ir.npz_file import read_npz
from parity.observations import Evidence, Location, Observation
from parity.observations.kinds import (
    ACCURACY_BELOW_TARGET,
    EXECUTION_FAILED,
    GRAPH_QUANTIZED,
    OUTPUTS_DIFFER,
    OUTPUTS_MATCH,
    PRECISION_CHANGED,
)

ENGINE = "numeric"
#: narrowest first: the candidate's computing format sets the tolerance
FORMAT_ORDER = ("int4", "int8", "uint8", "bf16", "fp16", "tf32")
THREADS = 2


@dataclass
class NumericOptions:
    """What to run and how."""

    inputs: Path | None = None
    samples: int = DEFAULT_SAMPLES
    seed: int = DEFAULT_SEED
    labels: Path | None = None
    time_limit: float = sandbox.DEFAULT_TIME_LIMIT_S
    memory_limit: int = sandbox.DEFAULT_MEMORY_LIMIT_BYTES
    #: "auto": expose intermediate tensors only when outputs differ (a second run); "always": in the one run
    #: (layer-wise, fastest when a difference is expected); "never": outputs only
    localise: str = "auto"
    divergence_inputs: Path | None = None
    #: under training: rerun with the reference's weights transplanted when the weights are a re-draw
    transplant: bool = False


@dataclass
class NumericResult:
    """Observations and the numbers behind them."""

    observations: list[Observation]
    outputs: list[dict] = field(default_factory=list)
    divergence: dict | None = None


def candidate_format(observations: list[Observation]) -> str | None:
    """The narrowest format the graph engine saw the candidate compute in."""
    seen = {
        o.evidence.details.get("format")
        for o in observations
        if o.kind in (PRECISION_CHANGED, GRAPH_QUANTIZED)
    }
    return next((fmt for fmt in FORMAT_ORDER if fmt in seen), None)


def samples_for(graph, options: NumericOptions) -> tuple[dict[str, np.ndarray], str]:
    """The feeds both models run on ([N, *input shape]) and how they were laid out: the user's, or random."""
    if options.inputs is not None:
        return load_inputs(options.inputs, graph)
    return random_inputs(graph, options.samples, options.seed), "random"


def compare_numerics(
    comparison: GraphComparison,
    reference: Path,
    candidate: Path,
    graph_observations: list[Observation],
    options: NumericOptions,
    weight_verdicts: list | None = None,
) -> NumericResult:
    """Run, compare, localise; every failure to run becomes an observation.

    Every observation carries the sandbox's ``isolation`` record (environment, limits, network), so the
    report says what held around the models while they ran.

    With ``options.transplant`` and weights that differ from the reference's only by a re-draw, the
    outputs judged are those of the candidate's graph run with the reference's weights (transplant.py).
    """
    result = _compare(comparison, reference, candidate, graph_observations, options, weight_verdicts)
    held = sandbox.isolation(options.memory_limit, THREADS).as_details()
    for observation in result.observations:
        observation.evidence.details.setdefault("isolation", held)
    return result


def _compare(comparison, reference, candidate, graph_observations, options, weight_verdicts):
    ref_graph, cand_graph = comparison.reference, comparison.candidate
    ref_inputs = list(ref_graph.source.inputs if ref_graph.source else ref_graph.inputs)
    samples, convention = samples_for(ref_graph, options)
    count = next(iter(samples.values())).shape[0] if samples else 1
    tolerance = Tolerance.for_format(candidate_format(graph_observations))
    outputs = list(zip(_outputs(ref_graph), _outputs(cand_graph), strict=False))
    with tempfile.TemporaryDirectory(prefix="parity-numeric-", dir=_scratch()) as folder:
        work = Path(folder)
        write_for(ref_graph, samples, ref_inputs, work / "reference.npz")
        casts = write_for(cand_graph, samples, ref_inputs, work / "candidate.npz")
        job = {
            "models": [str(reference), str(candidate)],
            "inputs": [str(work / "reference.npz"), str(work / "candidate.npz")],
            "samples": count,
            "outputs": [list(pair) for pair in outputs],
            "threads": THREADS,
            "tolerance": tolerance.as_job(),
        }
        cuts = cut_points(comparison) if options.localise == "always" else []
        if cuts:
            job["cuts"] = [[cut.reference, cut.candidate] for cut in cuts]
        ran = sandbox.run_job(job, options.time_limit, options.memory_limit)
        if isinstance(ran, sandbox.RunFailure):
            return NumericResult(_attribute({**job, "cuts": []}, ran, reference, candidate, options))
        transplanted, first_run = [], None
        plan = transplant_plan(comparison, weight_verdicts or []) if options.transplant else None
        if plan and not all(entry.get("within") for entry in ran["outputs"]):
            target = work / "candidate.transplanted.onnx"
            transplanted = write_transplanted(comparison, candidate, plan, target)
            rerun = sandbox.run_job(
                {**job, "models": [str(reference), str(target)], "cuts": []},
                options.time_limit,
                options.memory_limit,
            )
            if transplanted and not isinstance(rerun, sandbox.RunFailure):
                first_run, ran, cuts = ran, rerun, []
                job = {**job, "models": [str(reference), str(target)]}
            else:
                transplanted = []
        transplant = (
            {"weights": transplanted, "before": [entry.get("metrics", {}) for entry in first_run["outputs"]]}
            if transplanted
            else None
        )
        result = NumericResult(
            _output_observations(outputs, ran, tolerance, options, count, casts, transplant, convention),
            ran["outputs"],
        )
        if options.localise != "never" and any(o.kind == OUTPUTS_DIFFER for o in result.observations):
            result.divergence = _localise(comparison, job, options, ran if cuts else None)
            for observation in result.observations:
                if observation.kind == OUTPUTS_DIFFER:
                    observation.evidence.details["first_divergence"] = result.divergence
            _save_inputs(samples, ran.get("worst_samples", []), options)
        if options.labels is not None:
            result.observations += _accuracy(options.labels, ran.get("predictions"), count)
    return result


def _scratch() -> str | None:
    """Tensors and inputs go to memory-backed storage where there is one."""
    return "/dev/shm" if Path("/dev/shm").is_dir() and Path("/dev/shm").stat().st_mode & 0o002 else None


def _outputs(graph) -> list[str]:
    return list(graph.source.outputs if graph.source else graph.outputs)


def _attribute(
    job: dict, failure: sandbox.RunFailure, reference: Path, candidate: Path, options: NumericOptions
) -> list[Observation]:
    """Run each model alone to say which one fails; both, if neither fails alone."""
    found = []
    for side, (model, inputs) in enumerate(zip(job["models"], job["inputs"], strict=True)):
        alone = {
            **job,
            "models": [model],
            "inputs": [inputs],
            "outputs": [[pair[side], ""] for pair in job["outputs"]],
        }
        result = sandbox.run_job(alone, options.time_limit, options.memory_limit)
        if isinstance(result, sandbox.RunFailure):
            found.append(_failed(model, "reference" if side == 0 else "candidate", result.reason))
    return found or [_failed(f"{reference.name} and {candidate.name}", "both", failure.reason)]


def _failed(model: str, side: str, reason: str) -> Observation:
    name = sandbox.model_name(model)
    return Observation(
        kind=EXECUTION_FAILED,
        engine=ENGINE,
        summary=f"{side} {name}: {reason}",
        evidence=Evidence(
            locations=(Location(where="model", name=name, side=side if side != "both" else "both"),),
            details={"reason": reason, "side": side},
        ),
    )


def _output_observations(
    outputs: list[tuple[str, str]],
    ran: dict,
    tolerance: Tolerance,
    options: NumericOptions,
    count: int,
    casts: list[str],
    transplant: dict | None = None,
    convention: str = "random",
) -> list[Observation]:
    found = []
    for index, ((ref_name, cand_name), compared) in enumerate(zip(outputs, ran["outputs"], strict=False)):
        numbers = {k: float(v) for k, v in compared["metrics"].items() if v is not None and np.isfinite(v)}
        details = {
            "reference_output": ref_name,
            "candidate_output": cand_name,
            "samples": count,
            "seed": None if options.inputs else options.seed,
            "inputs": str(options.inputs or "random"),
            "inputs_layout": CONVENTIONS.get(convention, "seeded random feeds, one per sample"),
            "tolerance": tolerance.as_job(),
        }
        if casts:
            details["candidate_input_casts"] = casts
        if transplant:
            before = transplant["before"][index] if index < len(transplant["before"]) else {}
            details["transplanted_weights"] = transplant["weights"]
            details["with_candidate_weights"] = {
                k: float(v) for k, v in before.items() if v is not None and np.isfinite(v)
            }
        if "problem" in compared:
            details["problem"] = compared["problem"]
        elif compared["metrics"].get("non_finite"):
            details["problem"] = "non-finite values in the candidate's output"
        matched = bool(compared.get("within")) and "problem" not in details
        if "mismatched" in numbers:  # a boolean or integer output, compared exactly
            summary = (
                f"{ref_name}: {numbers['mismatched']:.0f} of {numbers['elements']:.0f} entries differ (exact)"
            )
        else:
            summary = f"{ref_name}: max scaled error {numbers.get('scaled_error', float('nan')):.2g}"
        if "cosine" in numbers:
            summary += f", cosine {numbers['cosine']:.6f}"
        if "top1_agreement" in numbers:
            summary += f", top-1 agreement {numbers['top1_agreement']:.0%}"
        if transplant:
            summary += f" (the reference's weights in {len(transplant['weights'])} re-drawn tensors)"
        found.append(
            Observation(
                kind=OUTPUTS_MATCH if matched else OUTPUTS_DIFFER,
                engine=ENGINE,
                summary=summary,
                evidence=Evidence(
                    locations=(
                        Location(where="tensor", name=ref_name, side="reference"),
                        Location(where="tensor", name=cand_name, side="candidate"),
                    ),
                    metrics=numbers,
                    details=details,
                ),
            )
        )
    return found


def _localise(
    comparison: GraphComparison, job: dict, options: NumericOptions, ran: dict | None
) -> dict | None:
    cuts = cut_points(comparison)
    if not cuts:
        return {"problem": "no matched intermediate tensor exists under the same position in both files"}
    if ran is None:  # a second run, now exposing the cut points
        exposed = {**job, "cuts": [[c.reference, c.candidate] for c in cuts]}
        ran = sandbox.run_job(exposed, options.time_limit, options.memory_limit)
        if isinstance(ran, sandbox.RunFailure):
            return {"problem": f"the run exposing intermediate tensors failed: {ran.reason}"}
    compared = ran["cuts"]
    failing = next((entry for entry in compared if not entry["within"]), None)
    if failing is None:
        return {"compared": len(compared), "problem": "no matched intermediate tensor is outside tolerance"}
    cut = next(c for c in cuts if c.reference == failing["reference"])
    agreed = {entry["reference"] for entry in compared if entry["within"]}
    between = nodes_between(comparison, cut.reference, agreed)
    unmatched = {
        name
        for node in comparison.correspondence.unmatched_reference
        for name in comparison.reference.nodes[node].origin
    }
    return {
        "reference_tensor": cut.reference,
        "candidate_tensor": cut.candidate,
        "reference_node": cut.reference_node,
        "candidate_node": cut.candidate_node,
        "between": between,
        "suspects": [name for name in between if name in unmatched] or between[:1],
        "scaled_error": failing.get("scaled_error"),
        "compared": len(compared),
        "profile": [entry.get("scaled_error") for entry in compared],
        "profile_failing": compared.index(failing),
        "profile_bound": job["tolerance"]["rtol"] + job["tolerance"]["atol_fraction"],
    }


def _save_inputs(samples: dict[str, np.ndarray], worst: list[int], options: NumericOptions) -> None:
    if options.divergence_inputs is None:
        return
    rows = np.array(worst or [0], dtype=np.int64)
    try:
        np.savez(options.divergence_inputs, **{name: array[rows] for name, array in samples.items()})
    except OSError as exc:
        raise BadInput(f"cannot write ({exc.strerror})", options.divergence_inputs) from None


def _accuracy(labels_path: Path, predictions: list | None, count: int) -> list[Observation]:
    stored = read_npz(labels_path)
    if not stored:
        raise BadInput("not an .npz with a 'labels' array (no member)", labels_path)
    labels = stored["labels"] if "labels" in stored else next(iter(stored.values()))
    if predictions is None or labels.reshape(-1).shape[0] != len(predictions[0]):
        raise BadInput(f"{labels.size} labels do not fit the first output's {count} samples", labels_path)
    labels = labels.reshape(-1)
    ref_accuracy = float((np.asarray(predictions[0]) == labels).mean())
    cand_accuracy = float((np.asarray(predictions[1]) == labels).mean())
    ratio = cand_accuracy / ref_accuracy if ref_accuracy else (1.0 if cand_accuracy == 0 else float("inf"))
    if ratio >= 1.0:
        return []
    return [
        Observation(
            kind=ACCURACY_BELOW_TARGET,
            engine=ENGINE,
            summary=f"top-1 accuracy {cand_accuracy:.2%} vs reference {ref_accuracy:.2%} "
            f"({ratio:.2%} of the reference)",
            evidence=Evidence(
                metrics={
                    "accuracy_ratio": ratio,
                    "reference_accuracy": ref_accuracy,
                    "candidate_accuracy": cand_accuracy,
                    "samples": float(count),
                },
                details={"metric": "top-1 accuracy", "labels": str(labels_path)},
            ),
        )
    ]
