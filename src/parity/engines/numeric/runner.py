"""Child-process entry point: run the reference and the candidate with onnxruntime and compare them.

``python runner.py JOB_JSON`` runs every sample through both models (exposing the
requested intermediate tensors), compares output pairs and cut-point pairs with the job's tolerance, and
prints the metrics as JSON. It runs in its own process, under the time and memory limits the parent set,
so a model that crashes, hangs or exhausts memory takes only this process down. Tensors never leave the
process and nothing is pickled: inputs arrive as an .npz file, results leave as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

# Run as a script (see sandbox.py), so that the child imports numpy, onnxruntime and compare.py only, not
# the parity package and its dependencies: start-up time is part of every comparison.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # this folder's compare.py


def _session(model_path: str, extra_outputs: list[str], threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    if not extra_outputs:
        return ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    import onnx

    model = onnx.load(model_path, load_external_data=False)
    present = {output.name for output in model.graph.output}
    model.graph.output.extend(onnx.ValueInfoProto(name=name) for name in extra_outputs if name not in present)
    options.add_session_config_entry(
        "session.model_external_initializers_file_folder_path", str(Path(model_path).parent)
    )
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _outputs(job: dict, side: int) -> dict[str, np.ndarray]:
    """Run one model over every sample; tensors stacked over samples."""
    extra = [pair[side] for pair in job.get("cuts", []) if pair[side]]  # outputs are graph outputs already
    session = _session(job["models"][side], extra, int(job.get("threads", 1)))
    names = [output.name for output in session.get_outputs()]
    inputs = np.load(job["inputs"][side], allow_pickle=False)
    collected: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for index in range(int(job["samples"])):
        feed = {spec.name: inputs[spec.name][index : index + 1] for spec in session.get_inputs()}
        for name, value in zip(names, session.run(names, feed), strict=True):
            collected[name].append(np.asarray(value))
    return {
        name: np.concatenate(values) if values[0].ndim else np.stack(values)
        for name, values in collected.items()
    }


def run(job: dict) -> dict:
    """Both models' outputs and cut points, compared in this process."""
    tolerance_type, layout_aligned = compare.Tolerance, compare.layout_aligned
    metrics, top_k_agreement, within = compare.metrics, compare.top_k_agreement, compare.within
    sides = [_outputs(job, 0), _outputs(job, 1)] if len(job["models"]) == 2 else [_outputs(job, 0)]
    if len(sides) == 1:
        return {"ran": True}
    reference, candidate = sides
    tolerance = tolerance_type(**job["tolerance"])
    result: dict = {"outputs": [], "cuts": [], "worst_samples": []}
    for ref_name, cand_name in job["outputs"]:
        a, b = reference[ref_name], candidate[cand_name]
        if a.shape != b.shape:
            result["outputs"].append(
                {
                    "problem": f"shape {list(b.shape)} vs {list(a.shape)}",
                    "metrics": {"elements": float(a.size)},
                }
            )
            continue
        found = {**metrics(a, b, tolerance), **top_k_agreement(a, b, k=5)}
        result["outputs"].append({"metrics": found, "within": within(found)})
    first = job["outputs"][0]
    a, b = reference[first[0]], candidate[first[1]]
    if a.shape == b.shape and a.ndim:
        error = np.abs(a.astype(np.float64) - b).reshape(a.shape[0], -1).max(axis=1)
        result["worst_samples"] = [int(i) for i in np.argsort(-error)[:4]]
        result["predictions"] = [
            np.argmax(a, axis=-1).reshape(-1).tolist(),
            np.argmax(b, axis=-1).reshape(-1).tolist(),
        ]
    for ref_name, cand_name in job.get("cuts", []):
        if ref_name not in reference or cand_name not in candidate:
            continue
        aligned = layout_aligned(reference[ref_name], candidate[cand_name])
        if aligned is None:
            continue
        found = metrics(reference[ref_name], aligned, tolerance)
        result["cuts"].append(
            {
                "reference": ref_name,
                "candidate": cand_name,
                "within": within(found),
                "scaled_error": found.get("scaled_error"),
            }
        )
        if not within(found):
            break
    return result


def main() -> int:
    """Read the job from argv, run it, print the result as JSON (errors too)."""
    job = json.loads(sys.argv[1])
    try:
        result = run(job)
    except MemoryError:
        print(json.dumps({"error": "ran out of memory"}))
        return 3
    except Exception as exc:  # the model's own failure is a result here, not a bug
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(json.dumps({"error": f"{type(exc).__name__}: {message[:500]}"}))
        return 3
    print(json.dumps(result, allow_nan=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
