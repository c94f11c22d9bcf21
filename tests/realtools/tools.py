"""The tools users put reference models through, each called the way its documentation shows.

A tool takes the reference export and writes a candidate; a few (the version converter, the dynamo
exporter) bring their own reference, because what they change is how the reference itself was made.
A tool that cannot process a model raises ``ToolFailed``: that model is then not a candidate (the
corpus records it), which is not parity's failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from parity.examples.build import optimise_with_onnxruntime
from realtools.architectures import Architecture


class ToolFailed(Exception):
    """The tool itself refused or crashed on this model."""


#: every family of architecture; the generic tools (optimisers, simplifiers, converters) apply to all
FAMILY_TAGS = ("cnn", "transformer", "recurrent", "recsys", "gnn")


@dataclass(frozen=True)
class Tool:
    """A real tool: what it is, which architectures it is meant for, and how to run it."""

    name: str
    run: Callable[..., None]  # (reference path, architecture, candidate path, work folder) -> None
    families: tuple[str, ...] = FAMILY_TAGS
    #: quantization, whose calibration the inference rules want as evidence
    quantizes: bool = False
    #: the tool writes its own reference next to the candidate (``work/<name>.reference.onnx``)
    own_reference: bool = False


def export(module, arch: Architecture, path: Path, opset: int = 17, dynamo: bool = False) -> None:
    """Export with torch.onnx: the TorchScript exporter (dynamo=False) or the dynamo exporter."""
    import torch

    sample = arch.inputs(np.random.default_rng(0), 1)
    args = tuple(torch.from_numpy(value) for value in sample.values())
    kwargs = {"dynamo": dynamo, "opset_version": opset}  # the exporters' defaults otherwise
    try:
        torch.onnx.export(
            module, args, str(path), input_names=list(sample), output_names=["output"], **kwargs
        )
    except Exception as exc:  # the exporter's own failure: not a candidate
        raise ToolFailed(f"torch.onnx.export(dynamo={dynamo}) failed: {type(exc).__name__}: {exc}") from None
    if dynamo:  # the dynamo exporter may keep weights in a side file; inline them for a self-contained model
        model = onnx.load(str(path))
        onnx.save(model, str(path))


def _ort(level: str):
    def run(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
        optimise_with_onnxruntime(onnx.load(str(reference)), out, level)

    return run


def _onnxsim(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    import onnxsim

    model, ok = onnxsim.simplify(onnx.load(str(reference)))
    if not ok:
        raise ToolFailed("onnxsim could not validate its output")
    onnx.save(model, str(out))


def _onnxslim(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    import onnxslim

    onnx.save(onnxslim.slim(onnx.load(str(reference))), str(out))


def _version_converter(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    """The onnx version converter, opset 13 → 17, on a reference exported at opset 13."""
    from onnx import version_converter

    from realtools.architectures import Variant

    own = work / f"{out.stem}.reference.onnx"
    export(arch.build(Variant()), arch, own, opset=13)
    try:
        converted = version_converter.convert_version(onnx.load(str(own)), 17)
    except Exception as exc:
        raise ToolFailed(f"version converter: {type(exc).__name__}: {exc}") from None
    onnx.save(converted, str(out))


def _upgrade21(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    from onnx import version_converter

    try:
        converted = version_converter.convert_version(onnx.load(str(reference)), 21)
    except Exception as exc:
        raise ToolFailed(f"version converter: {type(exc).__name__}: {exc}") from None
    onnx.save(converted, str(out))


def _fp16(keep_io_types: bool):
    def run(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
        from onnxconverter_common import float16

        model = float16.convert_float_to_float16(onnx.load(str(reference)), keep_io_types=keep_io_types)
        onnx.save(model, str(out))

    return run


class _Calibration:
    """Seeded calibration samples from the architecture's input generator."""

    def __init__(self, arch: Architecture, count: int = 8) -> None:
        from onnxruntime.quantization import CalibrationDataReader

        samples = arch.inputs(np.random.default_rng(100), count)
        self.reader = type(
            "Reader",
            (CalibrationDataReader,),
            {
                "__init__": lambda s: setattr(
                    s, "it", iter([{k: v[i : i + 1] for k, v in samples.items()} for i in range(count)])
                ),
                "get_next": lambda s: next(s.it, None),
            },
        )()


def _static(fmt: str):
    def run(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process

        prepared = work / f"{out.stem}.pre.onnx"
        quant_pre_process(str(reference), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out),
            _Calibration(arch).reader,
            quant_format=getattr(QuantFormat, fmt),
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=fmt == "QDQ",
        )

    return run


def _dynamic(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(reference), str(out), weight_type=QuantType.QInt8)


_OPTIMIZER_TYPES = {
    "bert": "bert",
    "vit": "vit",
    "llama": "gpt2",
    # the MLPerf families (families.py): the optimizer's nearest model types
    "gptj": "gpt2",
    "mixtral": "gpt2",
    "whisper": "bart",
    "swin": "swin",
}


def _transformers_optimizer(fp16: bool):
    def run(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
        from onnxruntime.transformers.optimizer import optimize_model

        model_type = _OPTIMIZER_TYPES.get(arch.name)
        if model_type is None:
            raise ToolFailed(f"no model type of the ORT transformers optimizer for {arch.name}")
        optimized = optimize_model(str(reference), model_type=model_type, num_heads=4, hidden_size=64)
        if fp16:
            optimized.convert_float_to_float16(keep_io_types=True)
        optimized.save_model_to_file(str(out))

    return run


def _dynamo(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    """The same module exported by the dynamo exporter (torch's default), opset 18."""
    from realtools.architectures import Variant

    export(arch.build(Variant()), arch, out, opset=18, dynamo=True)


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool("ort_basic", _ort("basic")),
        Tool("ort_extended", _ort("extended")),
        Tool("ort_all", _ort("all")),
        Tool("onnxsim", _onnxsim),
        Tool("onnxslim", _onnxslim),
        Tool("opset13_to_17", _version_converter, own_reference=True),
        Tool("opset17_to_21", _upgrade21),
        Tool("fp16", _fp16(False)),
        Tool("fp16_keep_io", _fp16(True)),
        Tool("int8_qdq", _static("QDQ"), quantizes=True),
        Tool("int8_qoperator", _static("QOperator"), quantizes=True),
        Tool("int8_dynamic", _dynamic, families=("transformer",), quantizes=True),
        Tool("ort_transformers", _transformers_optimizer(False), families=("transformer",)),
        Tool("ort_transformers_fp16", _transformers_optimizer(True), families=("transformer",)),
        Tool("dynamo_export", _dynamo),
    )
}
