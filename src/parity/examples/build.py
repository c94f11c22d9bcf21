"""Write the bundled example: reference models and legal and illegal candidates.

Run ``python -m parity.examples.build [FOLDER]`` (default ``examples``). The models are small (a
ResNet-style CNN and a transformer encoder block) so the example runs in a second anywhere.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import onnx

from parity.examples import models, mutations


def optimise_with_onnxruntime(model: onnx.ModelProto, path: Path, level: str = "extended") -> None:
    """Save what onnxruntime's optimiser makes of ``model`` at ``level`` (basic, extended or all).

    At extended: fusions and folded batch norms; at all, also the NCHWc layout of this machine.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    options.optimized_model_filepath = str(path)
    options.log_severity_level = 3
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """fp16 computation with fp32 inputs and outputs (onnxruntime's converter)."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    return convert_float_to_float16(copy.deepcopy(model), keep_io_types=True)


def build(folder: Path) -> list[Path]:
    """Write every example model under ``folder``; return the paths."""
    written = []
    cnn, transformer = models.resnet(width=8), models.transformer_block()
    for name, reference in (("cnn", cnn), ("transformer", transformer)):
        target = folder / name
        target.mkdir(parents=True, exist_ok=True)
        onnx.save(reference, target / "reference.onnx")
        optimise_with_onnxruntime(reference, target / "optimized.onnx")
        onnx.save(to_fp16(reference), target / "fp16.onnx")
        written += [target / "reference.onnx", target / "optimized.onnx", target / "fp16.onnx"]
    onnx.save(mutations.swap_op(cnn, "Relu", "Sigmoid", 4)[0], folder / "cnn" / "swapped_activation.onnx")
    onnx.save(mutations.remove_op(transformer, "Erf")[0], folder / "transformer" / "removed_erf.onnx")
    written += [folder / "cnn" / "swapped_activation.onnx", folder / "transformer" / "removed_erf.onnx"]
    return written


if __name__ == "__main__":
    for path in build(Path(sys.argv[1] if len(sys.argv) > 1 else "examples")):
        print(path)
