"""The numeric engine: what the differences do to the outputs.

Both models run on the same inputs (sandboxed); outputs are compared with a tolerance derived from the
candidate's precision; the first divergence is localised; accuracy is checked on labels when given.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from parity.engines.graph import GraphComparison
from parity.engines.numeric import sandbox
from parity.engines.numeric.compare import Tolerance, metrics, top_k_agreement, within
from parity.engines.numeric.inputs import DEFAULT_SAMPLES, DEFAULT_SEED, load_inputs, random_inputs, write_for
from parity.engines.numeric.localise import cut_points, first_divergence, nodes_between
from parity.errors import BadInput
from parity.observations import Evidence, Location, Observation

ENGINE = "numeric"
#: narrowest first: the candidate's computing format sets the tolerance
FORMAT_ORDER = ("int4", "int8", "uint8", "bf16", "fp16", "tf32")


@dataclass
class NumericOptions:
    """What to run and how."""

    inputs: Path | None = None
    samples: int = DEFAULT_SAMPLES
    seed: int = DEFAULT_SEED
    labels: Path | None = None
    time_limit: float = sandbox.DEFAULT_TIME_LIMIT_S
    memory_limit: int = sandbox.DEFAULT_MEMORY_LIMIT_BYTES
    localise: bool = True
    divergence_inputs: Path | None = None


@dataclass
class NumericResult:
    """Observations and the numbers behind them."""

    observations: list[Observation]
    outputs: dict[str, dict[str, float]] = field(default_factory=dict)
    divergence: dict | None = None


def candidate_format(comparison: GraphComparison, observations: list[Observation]) -> str | None:
    """The narrowest format the graph engine saw the candidate compute in."""
    seen = {
        o.evidence.details.get("format")
        for o in observations
        if o.kind in ("graph.precision_changed", "graph.quantized")
    }
    return next((fmt for fmt in FORMAT_ORDER if fmt in seen), None)


def compare_numerics(
    comparison: GraphComparison,
    reference: Path,
    candidate: Path,
    graph_observations: list[Observation],
    options: NumericOptions,
) -> NumericResult:
    """Run, compare, localise; every failure to run becomes an observation."""
    ref_graph, cand_graph = comparison.reference, comparison.candidate
    ref_outputs, cand_outputs = _output_names(reference), _output_names(candidate)
    if options.inputs is not None:
        samples = load_inputs(options.inputs, ref_graph)
    else:
        samples = random_inputs(ref_graph, options.samples, options.seed)
    count = next(iter(samples.values())).shape[0] if samples else 1
    tolerance = Tolerance.for_format(candidate_format(comparison, graph_observations))
    with tempfile.TemporaryDirectory(prefix="parity-numeric-") as folder:
        work = Path(folder)
        write_for(ref_graph, samples, ref_graph.inputs, work / "ref_in.npz")
        write_for(cand_graph, samples, ref_graph.inputs, work / "cand_in.npz")
        runs = _run_both(reference, candidate, work, count, options, None)
        failures = [run for run in runs if isinstance(run, sandbox.RunFailure)]
        if failures:
            return NumericResult(
                [
                    _failed(run, side)
                    for run, side in zip(runs, ("reference", "candidate"), strict=True)
                    if isinstance(run, sandbox.RunFailure)
                ]
            )
        ref_out, cand_out = runs
        result = _compare_outputs(
            ref_outputs, cand_outputs, ref_out.arrays, cand_out.arrays, tolerance, options, count
        )
        if options.localise and any(o.kind == "numeric.outputs_differ" for o in result.observations):
            result.divergence = _localise(comparison, reference, candidate, work, count, options, tolerance)
            for observation in result.observations:
                if observation.kind == "numeric.outputs_differ" and result.divergence:
                    observation.evidence.details["first_divergence"] = result.divergence
            _save_inputs(samples, ref_out.arrays, cand_out.arrays, ref_outputs, cand_outputs, options)
        if options.labels is not None:
            result.observations += _accuracy(
                options.labels,
                ref_out.arrays[ref_outputs[0]],
                cand_out.arrays[cand_outputs[0]],
                count,
            )
    return result


def _output_names(path: Path) -> list[str]:
    """The model's graph outputs as written in the file (canonicalisation may rename them)."""
    import onnx

    return [output.name for output in onnx.load(str(path), load_external_data=False).graph.output]


def _run_both(
    reference: Path,
    candidate: Path,
    work: Path,
    count: int,
    options: NumericOptions,
    extra: tuple[list[str], list[str]] | None,
) -> list:
    threads = 1  # the two models run side by side, one core each
    processes = [
        sandbox.start(
            model,
            work / f"{tag}_in.npz",
            count,
            work / f"{tag}_out{'_cut' if extra else ''}.npz",
            extra[index] if extra else None,
            options.time_limit,
            options.memory_limit,
            threads,
        )
        for index, (tag, model) in enumerate((("ref", reference), ("cand", candidate)))
    ]
    return [sandbox.finish(process) for process in processes]


def _failed(run: sandbox.RunFailure, side: str) -> Observation:
    return Observation(
        kind="numeric.execution_failed",
        engine=ENGINE,
        summary=f"{side} {run.model}: {run.reason}",
        evidence=Evidence(
            locations=(Location(where="model", name=run.model, side=side),),
            details={"reason": run.reason, "side": side},
        ),
    )


def _compare_outputs(
    ref_names: list[str],
    cand_names: list[str],
    ref: dict,
    cand: dict,
    tolerance: Tolerance,
    options: NumericOptions,
    count: int,
) -> NumericResult:
    result = NumericResult([])
    for ref_name, cand_name in zip(ref_names, cand_names, strict=False):
        a, b = ref[ref_name], cand[cand_name]
        details = {
            "reference_output": ref_name,
            "candidate_output": cand_name,
            "samples": count,
            "seed": None if options.inputs else options.seed,
            "inputs": str(options.inputs or "random"),
            "tolerance": {
                "rtol": tolerance.rtol,
                "atol_fraction": tolerance.atol_fraction,
                "reason": tolerance.reason,
            },
        }
        if a.shape != b.shape:
            found, matched = {"elements": float(a.size)}, False
            details["problem"] = f"shape {list(b.shape)} vs {list(a.shape)}"
        else:
            found = {**metrics(a, b, tolerance), **top_k_agreement(a, b, k=5)}
            matched = within(found)
            if found.get("non_finite"):
                details["problem"] = "non-finite values in the candidate's output"
        result.outputs[ref_name] = found
        kind = "numeric.outputs_match" if matched else "numeric.outputs_differ"
        summary = (
            f"{ref_name}: max scaled error {found.get('scaled_error', float('nan')):.2g}, cosine "
            f"{found.get('cosine', float('nan')):.6f}"
        )
        if "top1_agreement" in found:
            summary += f", top-1 agreement {found['top1_agreement']:.0%}"
        result.observations.append(
            Observation(
                kind=kind,
                engine=ENGINE,
                summary=summary,
                evidence=Evidence(
                    locations=(
                        Location(where="tensor", name=ref_name, side="reference"),
                        Location(where="tensor", name=cand_name, side="candidate"),
                    ),
                    metrics={k: v for k, v in found.items() if np.isfinite(v)},
                    details=details,
                ),
            )
        )
    return result


def _localise(
    comparison: GraphComparison,
    reference: Path,
    candidate: Path,
    work: Path,
    count: int,
    options: NumericOptions,
    tolerance: Tolerance,
) -> dict | None:
    cuts = cut_points(comparison, reference, candidate)
    if not cuts:
        return None
    runs = _run_both(
        reference,
        candidate,
        work,
        count,
        options,
        ([cut.reference for cut in cuts], [cut.candidate for cut in cuts]),
    )
    if any(isinstance(run, sandbox.RunFailure) for run in runs):
        return {"problem": "; ".join(run.reason for run in runs if isinstance(run, sandbox.RunFailure))}
    cut, found, compared, agreed = first_divergence(cuts, runs[0].arrays, runs[1].arrays, tolerance)
    if cut is None:
        return {"compared": compared, "problem": "no matched intermediate tensor is outside tolerance"}
    between = nodes_between(reference, cut.reference, agreed)
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
        "scaled_error": found.get("scaled_error"),
        "compared": compared,
    }


def _save_inputs(
    samples: dict[str, np.ndarray],
    ref: dict,
    cand: dict,
    ref_names: list[str],
    cand_names: list[str],
    options: NumericOptions,
) -> None:
    if options.divergence_inputs is None:
        return
    a, b = ref[ref_names[0]], cand[cand_names[0]]
    if a.shape != b.shape:
        worst = np.arange(a.shape[0] if a.ndim else 1)
    else:
        error = np.abs(a.astype(np.float64) - b).reshape(a.shape[0], -1).max(axis=1)
        worst = np.argsort(-error)[: max(1, min(4, len(error)))]
    try:
        np.savez(options.divergence_inputs, **{name: array[worst] for name, array in samples.items()})
    except OSError as exc:
        raise BadInput(f"cannot write ({exc.strerror})", options.divergence_inputs) from None


def _accuracy(
    labels_path: Path, reference: np.ndarray, candidate: np.ndarray, count: int
) -> list[Observation]:
    try:
        with np.load(labels_path, allow_pickle=False) as stored:
            labels = stored["labels"] if "labels" in stored.files else stored[stored.files[0]]
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise BadInput(f"not an .npz with a 'labels' array ({type(exc).__name__})", labels_path) from None
    if labels.shape[0] != count or reference.ndim != 2:
        raise BadInput(
            f"{labels.shape[0]} labels for {count} samples of a {reference.ndim}-D output", labels_path
        )
    ref_accuracy = float((np.argmax(reference, axis=1) == labels).mean())
    cand_accuracy = float((np.argmax(candidate, axis=1) == labels).mean())
    ratio = cand_accuracy / ref_accuracy if ref_accuracy else (1.0 if cand_accuracy == 0 else float("inf"))
    if ratio >= 1.0:
        return []
    return [
        Observation(
            kind="accuracy.below_target",
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
