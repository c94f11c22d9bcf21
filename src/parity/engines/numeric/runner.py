"""Child-process entry point: run the reference and the candidate with onnxruntime and compare them.

``python runner.py -`` (the job as JSON on stdin) runs every sample through both models (exposing the
requested intermediate tensors), compares output pairs and cut-point pairs with the job's tolerance, and
prints the metrics as JSON. It runs in its own process, under the time and memory limits the parent set,
so a model that crashes, hangs or exhausts memory takes only this process down. Tensors never leave the
process and nothing is pickled: inputs arrive as an .npz file, results leave as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# `python -I` (see sandbox.py) ignores PYTHONPATH and the user's site-packages: the parent says where its
# numpy and onnxruntime are, so the child imports the same ones
sys.path[:0] = [p for p in os.environ.get("PARITY_RUNNER_PATH", "").split(os.pathsep) if p]
import numpy as np  # noqa: E402 (after the path above)

# Run as a script (see sandbox.py), so that the child imports numpy, onnxruntime and compare.py only, not
# the parity package and its dependencies: start-up time is part of every comparison.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402 (this folder's compare.py)


def _session(model_path: str, extra_outputs: list[str], threads: int):
    """An onnxruntime session, with the requested intermediate tensors as extra outputs.

    If onnxruntime's own graph optimisation fails on the model (it does on some models it optimised
    itself: "Attempt to replace the existing tensor"), the model runs unoptimised, exactly as written.
    """
    try:
        return _new_session(model_path, extra_outputs, threads, optimise=True)
    except Exception:
        return _new_session(model_path, extra_outputs, threads, optimise=False)


def _new_session(model_path: str, extra_outputs: list[str], threads: int, optimise: bool):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 4
    if not optimise:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if not extra_outputs:
        return ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    options.add_session_config_entry(
        "session.model_external_initializers_file_folder_path", str(Path(model_path).parent)
    )
    model = Path(model_path).read_bytes() + _extra_outputs(extra_outputs)
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _varint(value: int) -> bytes:
    found = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        found.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(found)


def _extra_outputs(names: list[str]) -> bytes:
    """A ModelProto fragment whose graph has only these outputs, to append to a serialized model.

    Protobuf merges a repeated occurrence of a singular message field, so the model's ``graph`` gains
    the outputs without the model being parsed and written again (onnx.load and SerializeToString of a
    ResNet-50 take longer than running it), and this process never imports onnx.
    """
    outputs = b""
    for name in dict.fromkeys(names):
        info = b"\x0a" + _varint(len(name.encode())) + name.encode()  # ValueInfoProto.name = 1
        outputs += b"\x62" + _varint(len(info)) + info  # GraphProto.output = 12
    return b"\x3a" + _varint(len(outputs)) + outputs  # ModelProto.graph = 7


#: samples run as one batch at most, when the model's batch axis is dynamic
MAX_BATCH = 32


def _outputs(job: dict, side: int) -> dict[str, np.ndarray]:
    """Run one model over every sample (one session; batches where its batch axis allows); stacked."""
    declared = {pair[side] for pair in job.get("outputs", [])}
    extra = [pair[side] for pair in job.get("cuts", []) if pair[side] and pair[side] not in declared]
    session = _session(job["models"][side], extra, int(job.get("threads", 1)))
    names = [output.name for output in session.get_outputs()]
    inputs = np.load(job["inputs"][side], allow_pickle=False)
    specs = session.get_inputs()
    arrays = {spec.name: inputs[spec.name] for spec in specs}
    count = int(job["samples"])
    # batch only where every input and output is batch-major with a dynamic batch axis, so a batch's
    # outputs are exactly the per-sample outputs joined (what the other model's run is compared with)
    dynamic = bool(specs) and all(
        spec.shape and not isinstance(spec.shape[0], int) for spec in [*specs, *session.get_outputs()]
    )
    step = MAX_BATCH if dynamic and all(arrays[s.name].ndim >= 2 for s in specs) else 1
    collected: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for start in range(0, count, step):
        stop = min(start + step, count)
        if step == 1:
            feed = {name: array[start] for name, array in arrays.items()}
        else:  # feeds [n, 1, ...] joined on the model's own batch axis
            feed = {name: np.concatenate(list(array[start:stop]), axis=0) for name, array in arrays.items()}
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
        if not (np.issubdtype(a.dtype, np.floating) and np.issubdtype(b.dtype, np.floating)):
            found = compare.exact(a, b)  # booleans and integers: equal or not, no tolerance
        else:
            found = {**metrics(a, b, tolerance), **top_k_agreement(a, b, k=5)}
        result["outputs"].append({"metrics": found, "within": within(found)})
    first = job["outputs"][0]
    a, b = reference[first[0]], candidate[first[1]]
    if (
        a.shape == b.shape
        and a.ndim
        and np.issubdtype(a.dtype, np.floating)
        and np.issubdtype(b.dtype, np.floating)
    ):
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
        ok, scaled = compare.quick(reference[ref_name], aligned, tolerance)
        result["cuts"].append(
            {"reference": ref_name, "candidate": cand_name, "within": ok, "scaled_error": scaled}
        )
        if not ok:
            break
    return result


def run_regions(job: dict) -> dict:
    """Regions of both graphs run on the reference's boundary activations and on adversarial inputs.

    The reference model runs once over the samples with the boundary tensors exposed (``capture``);
    then each region pair runs on those activations and on seeded adversarial draws of the float
    inputs (standard normal, magnitudes spread over six decades, a quarter zeros). Positions where both
    sides are the same non-finite value agree; every other position must be within tolerance.
    """
    tolerance = compare.Tolerance(**job["tolerance"])
    captured: dict[str, list[np.ndarray]] = {}
    if job.get("capture"):
        inputs = np.load(job["inputs"][0], allow_pickle=False)
        wanted = set(job["capture"])
        for name in wanted & set(inputs.files):  # a model input: the samples themselves
            captured[name] = [inputs[name][index] for index in range(int(job["samples"]))]
        extra = sorted(wanted - set(inputs.files) - set(job.get("graph_outputs", [])))
        session = _session(job["models"][0], extra, int(job.get("threads", 1)))
        names = [output.name for output in session.get_outputs()]
        collected: dict[str, list[np.ndarray]] = {name: [] for name in names if name in wanted}
        for index in range(int(job["samples"])):
            feed = {spec.name: inputs[spec.name][index] for spec in session.get_inputs()}
            for name, value in zip(names, session.run(names, feed), strict=True):
                if name in collected:
                    collected[name].append(np.asarray(value))
        captured.update(collected)
    rng = np.random.default_rng(int(job.get("seed", 0)))
    results = []
    for region in job["regions"]:
        results.append(
            _region(
                region, captured, int(job["samples"]), int(job.get("adversarial", 0)), rng, tolerance, job
            )
        )
    return {"regions": results}


_NUMPY_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
}


def _region(region, captured, samples, adversarial, rng, tolerance, job) -> dict:
    """One region pair run on the real boundary activations, then on adversarial draws.

    A difference beyond tolerance on a real sample, or a value difference on an adversarial draw, is a
    witness: which input, which output, the error and where. A region that does not load or run, or
    whose sides give other shapes, is not verified and witnesses nothing (``problem`` says why).
    Adversarial draws take the shapes of the real activations where they were captured, so a shape
    that inference could not settle (unknown, or written as zero) is never guessed where it is known.
    """
    threads = int(job.get("threads", 1))
    try:
        sessions = [_session(path, [], threads) for path in region["models"]]
    except Exception as exc:  # a region onnxruntime cannot load cannot be verified
        return {"within": False, "problem": f"the region does not load ({type(exc).__name__})"}
    specs = [{spec.name: spec for spec in session.get_inputs()} for session in sessions]
    feeds_list, real = [], 0
    for index in range(samples):
        feeds = [{}, {}]
        for capture, left, right in region["inputs"]:
            if capture is None or capture not in captured:
                break
            value = captured[capture][index]
            for side, name in ((0, left), (1, right)):
                if name in specs[side]:
                    wanted = _NUMPY_TYPES.get(specs[side][name].type, value.dtype)
                    feeds[side][name] = value.astype(wanted)
        else:
            feeds_list.append((f"real sample {index}", feeds))
            real += 1
    made, guessed = 0, []
    seed = int(job.get("seed", 0))
    narrow = bool(region.get("narrow"))  # a narrower format's region: its real activations only
    for draw in range(0 if narrow else adversarial):
        feeds = [{}, {}]
        for capture, left, right in region["inputs"]:
            spec = specs[0].get(left) or specs[1].get(right)
            known = captured.get(capture) if capture is not None else None
            if known:
                shape = list(np.shape(known[0]))
            else:
                shape = [d if isinstance(d, int) and d > 0 else 1 for d in (spec.shape or [])]
                if any(not (isinstance(d, int) and d > 0) for d in (spec.shape or [])):
                    guessed.append(left)
            dtype = _NUMPY_TYPES.get(spec.type)
            if dtype is None:
                break
            if np.issubdtype(dtype, np.floating):
                value = rng.standard_normal(shape)
                if draw == 1:
                    value = value * 10.0 ** rng.uniform(-3, 3, shape)
                elif draw == 2:
                    value = np.where(rng.random(shape) < 0.25, 0.0, value)
            elif known:
                value = known[draw % max(len(known), 1)]
            else:
                break
            for side, name in ((0, left), (1, right)):
                if name in specs[side]:
                    feeds[side][name] = np.asarray(value).astype(
                        _NUMPY_TYPES.get(specs[side][name].type, dtype)
                    )
        else:
            feeds_list.append((f"adversarial draw {draw} (seed {seed})", feeds))
            made += 1
    if not feeds_list:
        return {"within": False, "problem": "no inputs to run the region on"}
    shapes = f" (shapes guessed for {', '.join(sorted(set(guessed))[:3])})" if guessed else ""
    names = region.get("outputs") or []
    worst = 0.0
    for label, feeds in feeds_list:
        is_real = label.startswith("real")
        try:
            outputs = [session.run(None, feed) for session, feed in zip(sessions, feeds, strict=True)]
        except Exception as exc:  # the region's own failure: not verified
            message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            return {"within": False, "problem": f"the region failed to run on {label}: {message}{shapes}"}
        for position, (a, b) in enumerate(zip(outputs[0], outputs[1], strict=True)):
            a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
            where = names[position] if position < len(names) else [str(position), str(position)]
            if a.shape != b.shape:
                return {
                    "within": False,
                    "problem": f"shape {list(b.shape)} vs {list(a.shape)} on {label}{shapes}",
                }
            same_special = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
            finite = np.isfinite(a) & np.isfinite(b)
            if not np.all(finite | same_special):
                found = {"within": False, "problem": f"non-finite values on one side only on {label}"}
                if is_real:  # an adversarial draw's overflow in one formulation is no witness
                    at = np.unravel_index(int(np.argmax(~(finite | same_special))), a.shape) if a.ndim else ()
                    found["witness"] = {
                        "input": label,
                        "reference_output": where[0],
                        "candidate_output": where[1],
                        "non_finite": True,
                        "at": [int(i) for i in at],
                    }
                return found
            if finite.any():
                found = compare.metrics(a[finite], b[finite], tolerance)
                worst = max(worst, found.get("scaled_error", 0.0))
                if not compare.within(found):
                    error = np.where(finite, np.abs(a - b), 0.0)
                    at = np.unravel_index(int(np.argmax(error)), a.shape) if a.ndim else ()
                    scaled = found.get("scaled_error", 0)
                    return {
                        "within": False,
                        "problem": f"outputs differ on {label} (scaled error {scaled:.2g})",
                        "scaled_error": worst,
                        "witness": {
                            "input": label,
                            "reference_output": where[0],
                            "candidate_output": where[1],
                            "scaled_error": float(found.get("scaled_error", 0.0)),
                            "max_abs_error": float(error.max()),
                            "at": [int(i) for i in at],
                            "reference_value": float(a[at]),
                            "candidate_value": float(b[at]),
                        },
                    }
    return {"within": True, "real": real, "adversarial": made, "scaled_error": worst}


def main() -> int:
    """Read the job from argv, run it, print the result as JSON (errors too)."""
    job = json.loads(sys.stdin.read() if sys.argv[1:] == ["-"] else sys.argv[1])
    try:
        result = run_regions(job) if job.get("mode") == "regions" else run(job)
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
