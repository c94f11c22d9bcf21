"""Structural equivalence speed: canonicalise + match, against peers measured in the same run.

Run: ``python benchmarks/bench_graph.py`` (about a minute on 2 cores). Prints:

1. A ResNet-50-sized CNN (bottleneck-free ResNet-34 layout at width 64, 224×224: ~130 nodes after
   onnxruntime's fusions, ~21M parameters) against onnxruntime's extended-level output: parity's
   canonicalise + match time after loading, beside onnxslim optimising the same model (the cheapest
   canonicaliser in the survey) and networkx's VF2 isomorphism on parity's canonical graphs (the matcher
   the survey measured), with ratios.
2. Scaling: graphs of 1k to 10k+ nodes (CNN and transformer stacks), time per node and the fitted
   exponent of time against size (1.0 = linear).
3. Loading without copying weights: Python heap peak while loading a model whose weights are external data.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import networkx as nx
import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parity.engines.graph import DEFAULT_REWRITES, canonicalise, compare_graphs
from parity.examples import models
from parity.examples.build import optimise_with_onnxruntime
from parity.ir import load_graph

REPEAT = 5


def median_seconds(fn, repeat: int = REPEAT) -> float:
    """Median wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _compare_once(reference: Path, candidate: Path) -> tuple[float, float, object]:
    ref, cand = load_graph(reference), load_graph(candidate)
    start = time.perf_counter()
    result = compare_graphs(ref, cand)
    return time.perf_counter() - start, result.timings["canonicalise_s"], result


def resnet50_sized(folder: Path) -> None:
    """Part 1: the ResNet-50-sized comparison beside onnxslim and VF2."""
    model = models.resnet(blocks=(3, 4, 6, 3), width=64, image=224, classes=1000, seed=5)
    reference, candidate = folder / "rn.onnx", folder / "rn_ort.onnx"
    onnx.save(model, reference)
    optimise_with_onnxruntime(model, candidate)
    load = median_seconds(lambda: (load_graph(reference), load_graph(candidate)), 3)
    runs = [_compare_once(reference, candidate) for _ in range(REPEAT)]
    total = statistics.median(r[0] for r in runs)
    result = runs[-1][2]
    nodes = (
        len(onnx.load(reference, load_external_data=False).graph.node),
        len(onnx.load(candidate, load_external_data=False).graph.node),
    )
    assert result.correspondence.complete, "benchmark models must match"

    import onnxslim

    slim = median_seconds(lambda: onnxslim.slim(onnx.load(reference)), 3)
    canon_ref, canon_cand = load_graph(reference), load_graph(candidate)
    canonicalise(canon_ref, DEFAULT_REWRITES)
    canonicalise(canon_cand, DEFAULT_REWRITES)
    g1, g2 = _nx(canon_ref), _nx(canon_cand)
    match = nx.algorithms.isomorphism.DiGraphMatcher(g1, g2, node_match=lambda a, b: a["label"] == b["label"])
    vf2 = median_seconds(lambda: match.is_isomorphic(), 3)
    wl = median_seconds(lambda: nx.weisfeiler_lehman_graph_hash(g1, node_attr="label"), 3)
    print("== ResNet-50-sized CNN vs onnxruntime extended ==")
    print(f"nodes (reference, candidate): {nodes}; load both: {load * 1000:.0f} ms")
    print(f"parity canonicalise + match: {total * 1000:.1f} ms (canonicalise {runs[-1][1] * 1000:.1f} ms)")
    print(f"peer onnxslim.slim (one model): {slim * 1000:.0f} ms  -> ratio {slim / total:.0f}x")
    print(
        f"peer networkx VF2 is_isomorphic on canonical graphs: {vf2 * 1000:.1f} ms; "
        f"WL hash {wl * 1000:.1f} ms; parity match {result.timings['match_s'] * 1000:.1f} ms"
    )
    print(f"target: < 100 ms after loading -> {'met' if total < 0.1 else 'NOT met'}")


def _nx(graph) -> nx.DiGraph:
    from parity.engines.graph.matching import label

    g = nx.DiGraph()
    for node in graph.nodes.values():
        g.add_node(node.name, label=str(label(node)))
    for node in graph.nodes.values():
        for value in node.inputs:
            if value in graph.producer:
                g.add_edge(graph.producer[value], node.name)
    return g


def scaling(folder: Path) -> None:
    """Part 2: time against graph size."""
    print("\n== scaling (reference vs onnxruntime extended output) ==")
    print(f"{'model':<12}{'nodes':>8}{'pair canon+match ms':>21}{'us/node':>10}")
    sizes, times = [], []
    cases = [
        ("cnn", lambda n: models.resnet(blocks=(n,), width=4, image=8, classes=4, dropout=False)),
        ("transformer", lambda n: models.transformer_block(seq=4, d_model=8, heads=2, d_ff=16, layers=n)),
    ]
    for name, make in cases:
        for size in (140, 350, 700, 1400) if name == "cnn" else (30, 75, 150, 300):
            model = make(size)
            reference, candidate = folder / f"{name}{size}.onnx", folder / f"{name}{size}_ort.onnx"
            onnx.save(model, reference)
            optimise_with_onnxruntime(model, candidate)
            elapsed = statistics.median(_compare_once(reference, candidate)[0] for _ in range(3))
            nodes = len(model.graph.node)
            sizes.append(nodes)
            times.append(elapsed)
            print(f"{name:<12}{nodes:>8}{elapsed * 1000:>21.1f}{elapsed / nodes * 1e6:>10.1f}")
    slope = np.polyfit(np.log(sizes), np.log(times), 1)[0]
    largest = max(zip(sizes, times, strict=True))
    print(f"fitted exponent of time vs nodes: {slope:.2f} (1.0 = linear)")
    per_graph = largest[1] / 2
    print(
        f"largest: two {largest[0]}-node graphs compared in {largest[1] * 1000:.0f} ms "
        f"({per_graph * 1000:.0f} ms per graph); target < 1 s for a 10,000-node graph -> "
        f"per graph {'met' if per_graph / largest[0] * 10000 < 1.0 else 'NOT met'}, "
        f"per pair {'met' if largest[1] / largest[0] * 10000 < 1.0 else 'NOT met'}"
    )


def loading_copies(folder: Path) -> None:
    """Part 3: loading references weights instead of copying them."""
    model = models.resnet(blocks=(3, 4, 6, 3), width=64, image=224, classes=1000, seed=5)
    path = folder / "external" / "model.onnx"
    path.parent.mkdir()
    onnx.save(model, path, save_as_external_data=True, location="weights.bin", size_threshold=1024)
    weights = (path.parent / "weights.bin").stat().st_size
    tracemalloc.start()
    graph = load_graph(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print("\n== loading without copying weights ==")
    print(
        f"external weights: {weights / 1e6:.1f} MB; Python heap peak while loading: {peak / 1e6:.1f} MB "
        f"({peak / weights:.1%} of the weights); parameters: {len(graph.params)}"
    )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        resnet50_sized(folder)
        scaling(folder)
        loading_copies(folder)
