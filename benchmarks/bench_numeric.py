"""Numeric comparison speed against Polygraphy (the tool people use today), measured in the same run.

Run: ``python benchmarks/bench_numeric.py`` (a few minutes on 2 cores; needs ``pip install polygraphy``).
On a ResNet-50-sized CNN (21.8M parameters, 1×3×224×224) and a candidate with one activation swapped
late in the network:

1. Layer-wise: parity's numeric engine with ``--localise always`` (one run exposing the matched cut
   points, first divergence named), and its default (outputs first, then a second run), against
   Polygraphy's layer-wise comparison (``polygraphy run --onnx-outputs mark all``, reference saved then
   candidate compared), with the ratio and the peak memory of the child processes.
2. Output-only: parity's numeric engine without localisation against simply creating both onnxruntime
   sessions and running each model once, in this process and as a fresh Python process, with the ratio.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parity.engines.graph import compare_graphs
from parity.engines.numeric import NumericOptions, compare_numerics
from parity.examples import models, mutations
from parity.ir import load_graph


def _peak_children_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _parity(reference: Path, candidate: Path, inputs: Path, localise: str) -> tuple[float, dict | None]:
    comparison = compare_graphs(load_graph(reference), load_graph(candidate))
    start = time.perf_counter()
    result = compare_numerics(
        comparison,
        reference,
        candidate,
        comparison.observations,
        NumericOptions(inputs=inputs, localise=localise),
    )
    return time.perf_counter() - start, result.divergence


def _polygraphy(reference: Path, candidate: Path, inputs_json: Path, folder: Path) -> float:
    tool = shutil.which("polygraphy")
    if tool is None:
        raise SystemExit("polygraphy is not installed: pip install polygraphy")
    saved = folder / "reference_outputs.json"

    def polygraphy(model: Path, *extra: str) -> subprocess.CompletedProcess:
        command = [
            tool,
            "run",
            str(model),
            "--onnxrt",
            "--onnx-outputs",
            "mark",
            "all",
            "--load-inputs",
            str(inputs_json),
            *extra,
        ]
        return subprocess.run(command, capture_output=True, text=True)

    start = time.perf_counter()
    polygraphy(reference, "--save-outputs", str(saved)).check_returncode()
    compared = polygraphy(candidate, "--load-outputs", str(saved))
    elapsed = time.perf_counter() - start
    if compared.returncode == 0:
        print("  (Polygraphy reported a pass)")
    return elapsed


def _run_both_as_script(reference: Path, candidate: Path, x_path: Path) -> float:
    """The same floor as a fresh Python process: interpreter start and imports included."""
    script = (
        "import sys, numpy as np, onnxruntime as ort\n"
        "x = np.load(sys.argv[3])['image']\n"
        "for p in sys.argv[1:3]:\n"
        "    s = ort.InferenceSession(p, providers=['CPUExecutionProvider'])\n"
        "    s.run(None, {s.get_inputs()[0].name: x})\n"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, str(reference), str(candidate), str(x_path)], check=True)
    return time.perf_counter() - start


def _run_both_in_process(reference: Path, candidate: Path, x: np.ndarray) -> float:
    import onnxruntime as ort

    start = time.perf_counter()
    for path in (reference, candidate):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        session.run(None, {session.get_inputs()[0].name: x})
    return time.perf_counter() - start


def main() -> None:
    """Both parts, in one temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference_model = models.resnet(blocks=(3, 4, 6, 3), width=64, image=224, classes=1000, seed=5)
        candidate_model, swapped = mutations.swap_op(reference_model, "Relu", "Sigmoid", 25)
        reference, candidate = folder / "reference.onnx", folder / "candidate.onnx"
        onnx.save(reference_model, reference)
        onnx.save(candidate_model, candidate)
        x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
        np.savez(folder / "inputs.npz", image=x)
        from polygraphy.json import save_json

        save_json([{"image": x}], str(folder / "inputs.json"))

        before = _peak_children_mb()
        parity_time, divergence = _parity(reference, candidate, folder / "inputs.npz", localise="always")
        auto_time, _ = _parity(reference, candidate, folder / "inputs.npz", localise="auto")
        parity_peak = _peak_children_mb()
        poly_time = _polygraphy(reference, candidate, folder / "inputs.json", folder)
        poly_peak = _peak_children_mb()
        print("== layer-wise: ResNet-50-sized CNN, one activation swapped ==")
        first = divergence and divergence.get("reference_tensor")
        print(
            f"parity: {parity_time:.2f} s, first divergence {first}, "
            f"suspects {divergence and divergence.get('suspects')} (swapped: {swapped}); "
            f"child peak RSS {max(parity_peak, before):.0f} MB"
        )
        print(
            f"peer Polygraphy (mark all, save + compare): {poly_time:.2f} s; peak RSS {poly_peak:.0f} MB "
            f"-> parity is {poly_time / parity_time:.1f}x faster (target >= 10x)"
        )
        print(
            f"parity default (outputs first, then a second run with the cut points): {auto_time:.2f} s -> "
            f"{poly_time / auto_time:.1f}x faster"
        )

        output_only = min(
            _parity(reference, candidate, folder / "inputs.npz", localise="never")[0] for _ in range(2)
        )
        floor = min(_run_both_in_process(reference, candidate, x) for _ in range(2))
        script = min(_run_both_as_script(reference, candidate, folder / "inputs.npz") for _ in range(2))
        print("\n== output-only ==")
        print(f"parity (sandboxed child, both models, compared): {output_only:.2f} s")
        print(
            f"floor, both sessions created and run once in this process: {floor:.2f} s -> ratio "
            f"{output_only / floor:.2f}; as a fresh Python process: {script:.2f} s -> ratio "
            f"{output_only / script:.2f} (target <= 1.10)"
        )


if __name__ == "__main__":
    main()
