"""Child-process entry point that runs one ONNX model with onnxruntime.

``python -m parity.engines.numeric.runner JOB_JSON`` runs the job and writes the outputs as an .npz file.

It runs in its own process (with the time and memory limits the parent set) so that a model that
crashes, hangs or exhausts memory takes only this process down. Nothing is pickled: inputs and outputs
travel as .npz files, the job and the result as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def _session(model_path: Path, extra_outputs: list[str], threads: int):
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    if not extra_outputs:
        return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    model = onnx.load(str(model_path), load_external_data=False)
    present = {output.name for output in model.graph.output}
    for name in extra_outputs:
        if name not in present:
            model.graph.output.append(onnx.ValueInfoProto(name=name))
    options.add_session_config_entry(
        "session.model_external_initializers_file_folder_path", str(model_path.parent)
    )
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def run(job: dict) -> dict:
    """Run the job's model on every sample; write outputs (stacked over samples) to job['out']."""
    session = _session(Path(job["model"]), job.get("outputs", []), int(job.get("threads", 1)))
    names = [output.name for output in session.get_outputs()]
    inputs = np.load(job["inputs"], allow_pickle=False)
    feeds_by_name = {spec.name: spec for spec in session.get_inputs()}
    samples = int(job["samples"])
    collected: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for index in range(samples):
        feed = {}
        for name in feeds_by_name:
            value = inputs[name][index : index + 1]
            feed[name] = value
        for name, value in zip(names, session.run(names, feed), strict=True):
            collected[name].append(np.asarray(value))
    arrays = {
        f"t{i}": np.concatenate(values) if values[0].ndim else np.stack(values)
        for i, values in enumerate(collected.values())
    }
    np.savez(job["out"], **arrays)
    return {"outputs": names}


def main() -> int:
    """Read the job, run it, print the result as JSON (errors too)."""
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
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
