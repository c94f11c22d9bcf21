"""Report rendering cost: what writing the HTML, JUnit and JSON reports adds to an audit.

Run: ``python benchmarks/bench_report.py`` (about half a minute on 2 cores). A ResNet-50-sized CNN
(the layout of bench_graph.py) is audited against onnxruntime's extended-level output (many explained
changes) and against a copy with one activation swapped (an unexplained region and a divergence plot),
with the numeric engine on. Prints the audit time, each format's render time, its ratio to the audit and
the report's size. No peer tool writes an audit report, so the audit itself is the yardstick: rendering
should cost a small fraction of it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_graph import median_seconds  # benchmarks/ is the script's folder, so on sys.path

from parity.audit import check
from parity.engines.numeric import NumericOptions
from parity.examples import models, mutations
from parity.examples.build import optimise_with_onnxruntime
from parity.report.formats import render_check


def main() -> None:
    """Audit twice, render every format of each audit, print the table."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        model = models.resnet(blocks=(3, 4, 6, 3), width=64, image=224, classes=1000, seed=5)
        onnx.save(model, folder / "reference.onnx")
        optimise_with_onnxruntime(model, folder / "optimized.onnx")
        onnx.save(mutations.swap_op(model, "Relu", "Sigmoid", 4)[0], folder / "swapped.onnx")
        header = ("candidate", "rulebook", "audit s", "format", "render ms", "of audit", "KiB")
        print("{:<10} {:<17} {:>8} {:<7} {:>9} {:>8} {:>6}".format(*header))
        for candidate, rulebook in (("optimized", "mlperf-training"), ("swapped", "mlperf-inference")):
            start = time.perf_counter()
            result = check(
                folder / "reference.onnx",
                folder / f"{candidate}.onnx",
                rulebook,
                numeric=NumericOptions(samples=1),
            )
            audit = time.perf_counter() - start
            for fmt in ("html", "junit", "json", "markdown"):
                seconds = median_seconds(lambda fmt=fmt, result=result: render_check(result, fmt))
                size = len(render_check(result, fmt).encode()) / 1024
                print(
                    f"{candidate:<10} {rulebook:<17} {audit:8.2f} {fmt:<7} {seconds * 1000:9.1f} "
                    f"{seconds / audit:8.1%} {size:6.0f}"
                )


if __name__ == "__main__":
    main()
