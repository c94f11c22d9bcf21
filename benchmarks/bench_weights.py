"""Weight provenance speed: streamed comparison of a >1 GB model, and a ResNet-50-sized check.

Run: ``python benchmarks/bench_weights.py`` (about two minutes on 2 cores; writes ~2.3 GB to a temporary
folder). Prints:

1. A 1.1 GB model (17 dense 4096×4096 fp32 layers, weights as external data) against a copy with one
   weight changed by 0.1%: parity's weights engine in GB/s of parameters compared, its Python heap peak
   against the largest tensor, and, measured in the same run, the script a reviewer would write with
   onnx + numpy (load everything, ``np.array_equal`` per tensor), with the ratio.
2. A ResNet-50-sized CNN against onnxruntime's extended-level output (every batch norm folded):
   provenance time after loading (target under 2 s).
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parity.engines.graph import compare_graphs
from parity.engines.weights import compare_weights
from parity.examples import models
from parity.examples.build import optimise_with_onnxruntime
from parity.ir import load_graph

LAYERS, WIDTH = 17, 4096


def dense_stack(folder: Path, name: str, nudge: bool) -> Path:
    """Write a stack of MatMul+Relu layers with external weights; optionally change one weight by 0.1%."""
    rng = np.random.default_rng(0)
    nodes, initializers, x = [], [], "x"
    for layer in range(LAYERS):
        weight = (rng.standard_normal((WIDTH, WIDTH), dtype=np.float32) * 0.02).astype(np.float32)
        if nudge and layer == LAYERS // 2:
            weight[123, 456] *= 1.001
        initializers.append(numpy_helper.from_array(weight, f"w{layer}"))
        nodes += [
            helper.make_node("MatMul", [x, f"w{layer}"], [f"m{layer}"], name=f"matmul{layer}"),
            helper.make_node("Relu", [f"m{layer}"], [f"r{layer}"], name=f"relu{layer}"),
        ]
        x = f"r{layer}"
    graph = helper.make_graph(
        nodes,
        "dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, WIDTH])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, WIDTH])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = folder / name / "model.onnx"
    path.parent.mkdir()
    onnx.save(model, path, save_as_external_data=True, location="weights.bin", size_threshold=0)
    return path


def naive(reference: Path, candidate: Path) -> int:
    """What a reviewer scripts today: load both models fully and compare tensor by tensor."""
    a = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(reference)).graph.initializer}
    b = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(candidate)).graph.initializer}
    return sum(not np.array_equal(a[name], b[name]) for name in a)


def large(folder: Path) -> None:
    """Part 1."""
    reference, candidate = dense_stack(folder, "ref", False), dense_stack(folder, "cand", True)
    size = (reference.parent / "weights.bin").stat().st_size
    comparison = compare_graphs(load_graph(reference), load_graph(candidate))
    tracemalloc.start()
    start = time.perf_counter()
    observations, _ = compare_weights(comparison)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    found = [o.summary for o in observations if o.kind == "weights.modified"]
    start = time.perf_counter()
    differing = naive(reference, candidate)
    baseline = time.perf_counter() - start
    largest = WIDTH * WIDTH * 4
    print("== 1.1 GB model, one weight changed by 0.1% ==")
    print(
        f"parameters: {size / 1e9:.2f} GB per model; parity: {elapsed:.2f} s = "
        f"{size / elapsed / 1e9:.2f} GB/s (reference bytes), found: {found}"
    )
    print(
        f"parity Python heap peak: {peak / 1e6:.0f} MB = {peak / largest:.2f}x the largest tensor "
        f"({largest / 1e6:.0f} MB)"
    )
    print(
        f"peer onnx+numpy full load and array_equal: {baseline:.2f} s ({differing} tensor differs) -> "
        f"ratio {baseline / elapsed:.1f}x"
    )


def resnet50_sized(folder: Path) -> None:
    """Part 2."""
    model = models.resnet(blocks=(3, 4, 6, 3), width=64, image=224, classes=1000, seed=5)
    reference, candidate = folder / "rn.onnx", folder / "rn_ort.onnx"
    onnx.save(model, reference)
    optimise_with_onnxruntime(model, candidate)
    comparison = compare_graphs(load_graph(reference), load_graph(candidate))
    start = time.perf_counter()
    observations, verdicts = compare_weights(comparison)
    elapsed = time.perf_counter() - start
    params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    print("\n== ResNet-50-sized CNN vs onnxruntime extended (batch norms folded) ==")
    print(
        f"{params / 1e6:.1f}M parameters, {len(verdicts)} tensor pairs: {elapsed:.2f} s "
        f"({'met' if elapsed < 2 else 'NOT met'}: target < 2 s); "
        f"kinds: {sorted({o.kind for o in observations})}"
    )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        resnet50_sized(Path(tmp))
        large(Path(tmp))
