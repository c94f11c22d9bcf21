"""A full `parity check` against Polygraphy's output-only comparison, and what regional checks cost.

Run: ``python benchmarks/bench_check.py`` (a few minutes on 2 cores; needs ``pip install polygraphy``).

1. A ResNet-50-sized pair (21.8M parameters, 1×3×224×224; the candidate is onnxruntime's basic-level
   output: batch norms folded, dropout removed) on 8 samples: ``parity check`` as a command (structure,
   weights and numerics, under the inference rulebook) against Polygraphy comparing the outputs only
   (``polygraphy run --onnxrt``, reference saved, candidate compared, same 8 inputs), both timed end to
   end from a fresh process, with the ratio (target: parity at most 1.0× Polygraphy's time).
2. Regional checks: the structural comparison of the same pair with and without them (no residual
   regions here, so they must add almost nothing; target under 10%), and of a pair that has residual
   regions (the dynamo-style spelling of a GELU), to show what proving them costs.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parity.engines.graph import compare_graphs
from parity.examples import models
from parity.examples.build import optimise_with_onnxruntime
from parity.ir import load_graph

SAMPLES = 8
REPEATS = 5


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True)
    return time.perf_counter() - start


def _median(function, repeats: int = REPEATS) -> float:
    return statistics.median(function() for _ in range(repeats))


def _structure(reference: Path, candidate: Path, regions: bool) -> float:
    start = time.perf_counter()
    compare_graphs(load_graph(reference), load_graph(candidate), check_regions=regions)
    return time.perf_counter() - start


def main() -> None:
    """Both parts, in one temporary folder."""
    polygraphy = shutil.which("polygraphy")
    parity = shutil.which("parity")
    if polygraphy is None or parity is None:
        raise SystemExit("needs polygraphy and parity on PATH: pip install -e '.[dev,bench]'")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference_model = models.resnet(blocks=(3, 4, 6, 3), width=64, image=224, classes=1000, seed=5)
        reference, candidate = folder / "reference.onnx", folder / "candidate.onnx"
        onnx.save(reference_model, reference)
        optimise_with_onnxruntime(reference_model, candidate, "basic")
        x = np.random.default_rng(0).standard_normal((SAMPLES, 1, 3, 224, 224)).astype(np.float32)
        np.savez(folder / "inputs.npz", image=x)
        from polygraphy.json import save_json

        save_json([{"image": sample} for sample in x], str(folder / "inputs.json"))
        saved = folder / "outputs.json"
        check = [parity, "--quiet", "check", "--reference", str(reference), "--candidate", str(candidate)]
        check += ["-r", "mlperf-inference", "--inputs", str(folder / "inputs.npz"), "--localise", "never"]

        def poly() -> float:
            first = [
                polygraphy,
                "run",
                str(reference),
                "--onnxrt",
                "--load-inputs",
                str(folder / "inputs.json"),
            ]
            second = [
                polygraphy,
                "run",
                str(candidate),
                "--onnxrt",
                "--load-inputs",
                str(folder / "inputs.json"),
            ]
            return _timed([*first, "--save-outputs", str(saved)]) + _timed(
                [*second, "--load-outputs", str(saved)]
            )

        parity_s, poly_s = _median(lambda: _timed(check)), _median(poly)
        print(f"== full check, ResNet-50-sized pair (ORT basic), {SAMPLES} samples, median of {REPEATS} ==")
        print(f"parity check (structure, weights, numerics): {parity_s:.2f} s")
        print(f"peer Polygraphy output-only (save + compare): {poly_s:.2f} s")
        print(f"-> parity takes {parity_s / poly_s:.2f}x Polygraphy's time (target <= 1.0x)")

        with_regions = _median(lambda: _structure(reference, candidate, True))
        without = _median(lambda: _structure(reference, candidate, False))
        print("== regional checks ==")
        print(
            f"structure of the ResNet-50 pair (no residual regions): {without:.3f} s without, "
            f"{with_regions:.3f} s with regional checks -> +{(with_regions / without - 1) * 100:.1f}% "
            f"(target < 10%), {(with_regions - without) / parity_s * 100:.1f}% of the full check"
        )
        block = models.transformer_block(layers=4)
        spelled = _regelu(block)
        onnx.save(block, folder / "block.onnx")
        onnx.save(spelled, folder / "block_regelu.onnx")
        optimise_with_onnxruntime(block, folder / "block_ort.onnx")
        pair = (folder / "block.onnx", folder / "block_regelu.onnx")
        proof = _median(lambda: _structure(*pair, True))
        plain = _median(lambda: _structure(*pair, False))
        count = len(compare_graphs(load_graph(pair[0]), load_graph(pair[1])).regions)
        print(
            f"structure of a 4-layer encoder with GELU spelled x·(½·(1+erf)): {plain:.3f} s without, "
            f"{proof:.3f} s with its {count} regions proved"
        )


def _regelu(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same model with every GELU's product reassociated: x·(1+erf)·½ as x·(½·(1+erf))."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    nodes = list(model.graph.node)
    producer = {out: node for node in nodes for out in node.output}
    for node in nodes:
        if node.op_type != "Mul":
            continue
        inner = producer.get(node.input[0])
        if (
            inner is None
            or inner.op_type != "Mul"
            or node.input[1] not in {i.name for i in model.graph.initializer}
        ):
            continue
        x, shifted = inner.input
        half = node.input[1]
        inner.input[:] = [shifted, half]
        node.input[:] = [x, inner.output[0]]
    return model


if __name__ == "__main__":
    main()
