"""Reference models and what real tools make of them, built once per test session."""

from __future__ import annotations

import copy
from pathlib import Path

import onnx

from parity.examples import models
from parity.examples.build import optimise_with_onnxruntime

REFERENCES = {
    "resnet": lambda: models.resnet(),
    "inception": lambda: models.inception(),
    "transformer": lambda: models.transformer_block(),
}


def _renamed(model: onnx.ModelProto) -> onnx.ModelProto:
    """Every node, initializer and internal tensor renamed (graph inputs and outputs kept)."""
    model = copy.deepcopy(model)
    names: dict[str, str] = {}
    keep = {value.name for value in [*model.graph.input, *model.graph.output]}

    def rename(value: str) -> str:
        if not value or value in keep:
            return value
        return names.setdefault(value, f"t{len(names)}")

    for node in model.graph.node:
        node.name = f"n_{rename(node.name)}"
        node.input[:] = [rename(v) for v in node.input]
        node.output[:] = [rename(v) for v in node.output]
    for tensor in model.graph.initializer:
        tensor.name = rename(tensor.name)
    return model


def _quantized(reference: Path, target: Path, fmt: str) -> None:
    """onnxruntime static int8 quantization (QDQ or QOperator format), calibrated on seeded random inputs."""
    import numpy as np
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    model = onnx.load(reference)
    name = model.graph.input[0].name
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]

    class Samples(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self.samples = iter([{name: rng.standard_normal(shape).astype(np.float32)} for _ in range(4)])

        def get_next(self):
            return next(self.samples, None)

    quantize_static(
        str(reference),
        str(target),
        Samples(),
        quant_format=getattr(QuantFormat, fmt),
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )


def build_variants(folder: Path) -> dict[tuple[str, str], Path]:
    """(model, variant) → path, for every reference and tool."""
    import onnxsim
    import onnxslim
    from onnx import version_converter
    from onnxruntime.transformers.float16 import convert_float_to_float16

    found = {}
    for name, make in REFERENCES.items():
        reference = make()
        paths = {variant: folder / f"{name}_{variant}.onnx" for variant in VARIANTS}
        onnx.save(reference, paths["reference"])
        for level in ("basic", "extended", "all"):
            optimise_with_onnxruntime(reference, paths[f"ort_{level}"], level)
        onnx.save(onnxsim.simplify(copy.deepcopy(reference))[0], paths["onnxsim"])
        onnx.save(onnxslim.slim(copy.deepcopy(reference)), paths["onnxslim"])
        onnx.save(version_converter.convert_version(reference, 21), paths["opset21"])
        onnx.save(convert_float_to_float16(copy.deepcopy(reference), keep_io_types=True), paths["fp16"])
        onnx.save(_renamed(reference), paths["renamed"])
        _quantized(paths["reference"], paths["int8_qdq"], "QDQ")
        _quantized(paths["reference"], paths["int8_qoperator"], "QOperator")
        found.update({(name, variant): path for variant, path in paths.items()})
    return found


VARIANTS = (
    "reference",
    "ort_basic",
    "ort_extended",
    "ort_all",
    "onnxsim",
    "onnxslim",
    "opset21",
    "fp16",
    "renamed",
    "int8_qdq",
    "int8_qoperator",
)
