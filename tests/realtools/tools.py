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
    #: the architectures it has a mode for (empty: every architecture of its families)
    only: tuple[str, ...] = ()

    def applies(self, arch: Architecture) -> bool:
        """Whether a user would run this tool on this architecture."""
        return arch.family in self.families and (not self.only or arch.name in self.only)


def export(
    module,
    arch: Architecture,
    path: Path,
    opset: int = 17,
    dynamo: bool = False,
    dynamic_batch: bool = False,
    constant_folding: bool = True,
) -> None:
    """Export with torch.onnx: the TorchScript exporter (dynamo=False) or the dynamo exporter.

    ``dynamic_batch`` names the first axis of every input and the output (``dynamic_axes``);
    ``constant_folding=False`` is ``do_constant_folding=False`` (the TorchScript exporter only).
    """
    import torch

    sample = arch.inputs(np.random.default_rng(0), 1)
    args = tuple(torch.from_numpy(value) for value in sample.values())
    kwargs = {"dynamo": dynamo, "opset_version": opset}  # the exporters' defaults otherwise
    if dynamic_batch:
        kwargs["dynamic_axes"] = {name: {0: "batch"} for name in [*sample, "output"]}
    if not constant_folding:
        kwargs["do_constant_folding"] = False
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


def _newest_opset(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    """The version converter to the newest opset both onnx and this onnxruntime know."""
    import onnxruntime as ort
    from onnx import version_converter

    model = onnx.load(str(reference))
    for opset in range(onnx.defs.onnx_opset_version(), 17, -1):
        try:
            converted = version_converter.convert_version(model, opset)
            ort.InferenceSession(converted.SerializeToString(), providers=["CPUExecutionProvider"])
        except Exception:  # this onnxruntime does not implement that opset yet, or the converter refuses
            continue
        onnx.save(converted, str(out))
        return
    raise ToolFailed("no opset newer than 17 that the converter writes and onnxruntime loads")


def _fp16(keep_io_types: bool, converter: str = "onnxconverter_common"):
    """fp16 conversion by onnxconverter-common or by onnxruntime's own copy of it (transformers.float16)."""

    def run(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
        if converter == "onnxruntime":
            from onnxruntime.transformers.float16 import convert_float_to_float16
        else:
            from onnxconverter_common.float16 import convert_float_to_float16

        model = convert_float_to_float16(onnx.load(str(reference)), keep_io_types=keep_io_types)
        onnx.save(model, str(out))

    return run


def _bf16_weights(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    """Weight-only bf16: every float matrix stored as bfloat16 and cast back to float where it is read.

    This is what weight-compression exports do (storage in bf16, computation in fp32); onnx's helpers
    write it, there being no one-call tool for it.
    """
    import ml_dtypes
    from onnx import helper, numpy_helper

    model = onnx.load(str(reference))
    graph = model.graph
    casts = []
    for tensor in graph.initializer:
        if tensor.data_type != onnx.TensorProto.FLOAT or len(tensor.dims) < 2:
            continue
        stored = f"{tensor.name}_bf16"
        values = numpy_helper.to_array(tensor).astype(ml_dtypes.bfloat16)
        casts.append(helper.make_node("Cast", [stored], [tensor.name], to=onnx.TensorProto.FLOAT))
        tensor.CopyFrom(numpy_helper.from_array(values, stored))
    if not casts:
        raise ToolFailed("no float matrix to store in bf16")
    nodes = [*casts, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(out))


def _compose_prefix(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    """onnx.compose.add_prefix: every name of the graph prefixed, as when models are merged."""
    from onnx import compose

    onnx.save(compose.add_prefix(onnx.load(str(reference)), prefix="ref_"), str(out))


def _extract(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    """onnx.utils.extract_model over the whole graph (its inputs to its outputs): a re-export."""
    from onnx import utils

    model = onnx.load(str(reference))
    inputs = [value.name for value in model.graph.input]
    outputs = [value.name for value in model.graph.output]
    try:
        utils.extract_model(str(reference), str(out), inputs, outputs)
    except Exception as exc:
        raise ToolFailed(f"extract_model: {type(exc).__name__}: {exc}") from None


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


@dataclass(frozen=True)
class StaticOptions:
    """The options of onnxruntime's quantize_static a user picks (its defaults otherwise)."""

    fmt: str = "QDQ"  # QuantFormat: QDQ or QOperator
    activations: str = "QUInt8"  # QuantType of activations
    per_channel: bool = True
    reduce_range: bool = False  # 7-bit weights, for CPUs without VNNI
    calibration: str = "MinMax"  # CalibrationMethod: MinMax, Entropy, Percentile


def _static(options: StaticOptions):
    def run(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process

        prepared = work / f"{out.stem}.pre.onnx"
        quant_pre_process(str(reference), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out),
            _Calibration(arch).reader,
            quant_format=getattr(QuantFormat, options.fmt),
            activation_type=getattr(QuantType, options.activations),
            weight_type=QuantType.QInt8,
            per_channel=options.per_channel,
            reduce_range=options.reduce_range,
            calibrate_method=getattr(CalibrationMethod, options.calibration),
        )

    return run


def _dynamic(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(reference), str(out), weight_type=QuantType.QInt8)


def _torch_export(**options):
    """The reference module exported again by torch.onnx with other options (dynamic axes, no folding)."""

    def run(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
        from realtools.architectures import Variant

        export(arch.build(Variant()), arch, out, **options)

    return run


#: onnxruntime.transformers.optimizer's model_type for each architecture it has fusions for
_OPTIMIZER_TYPES = {
    "bert": "bert",
    "vit": "vit",
    "llama": "gpt2",
    "gptj": "gpt2",
    "mixtral": "gpt2",
    "whisper": "bart",
    "swin": "swin",
    "sdunet": "unet",
    "convnext": "vit",
}
#: heads and hidden size of the original eight (the families let the optimizer detect them: 0, 0)
_OPTIMIZER_SHAPES = {"bert": (4, 64), "vit": (4, 64), "llama": (4, 64)}


def _transformers_optimizer(fp16: bool):
    def run(reference: Path, arch: Architecture, out: Path, work: Path) -> None:
        from onnxruntime.transformers.optimizer import optimize_model

        model_type = _OPTIMIZER_TYPES.get(arch.name)
        if model_type is None:
            raise ToolFailed(f"no model type of the ORT transformers optimizer for {arch.name}")
        heads, hidden = _OPTIMIZER_SHAPES.get(arch.name, (0, 0))
        optimized = optimize_model(str(reference), model_type=model_type, num_heads=heads, hidden_size=hidden)
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
        Tool("int8_qdq", _static(StaticOptions()), quantizes=True),
        Tool("int8_qoperator", _static(StaticOptions("QOperator", per_channel=False)), quantizes=True),
        Tool("int8_dynamic", _dynamic, families=("transformer",), quantizes=True),
        Tool("ort_transformers", _transformers_optimizer(False), only=tuple(_OPTIMIZER_TYPES)),
        Tool(
            "ort_transformers_fp16", _transformers_optimizer(True), FAMILY_TAGS, only=tuple(_OPTIMIZER_TYPES)
        ),
        Tool("dynamo_export", _dynamo),
    )
}

#: the tools' other options, which the MLPerf families go through as well (tests/realtools/families.py)
MORE_TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool("opset_newest", _newest_opset, families=FAMILY_TAGS),
        Tool("fp16_ort", _fp16(True, "onnxruntime"), families=FAMILY_TAGS),
        Tool("bf16_weights", _bf16_weights, families=FAMILY_TAGS),
        Tool("compose_prefix", _compose_prefix, families=FAMILY_TAGS),
        Tool("extract_model", _extract, families=FAMILY_TAGS),
        Tool("export_dynamic_axes", _torch_export(dynamic_batch=True), families=FAMILY_TAGS),
        Tool("export_no_folding", _torch_export(constant_folding=False), families=FAMILY_TAGS),
        Tool("int8_qdq_s8s8", _static(StaticOptions(activations="QInt8")), ("cnn", "transformer"), True),
        Tool(
            "int8_qdq_reduce_range", _static(StaticOptions(reduce_range=True)), ("cnn", "transformer"), True
        ),
        Tool("int8_qdq_per_tensor", _static(StaticOptions(per_channel=False)), ("cnn", "transformer"), True),
        Tool("int8_qdq_entropy", _static(StaticOptions(calibration="Entropy")), ("cnn", "transformer"), True),
        Tool(
            "int8_qdq_percentile",
            _static(StaticOptions(calibration="Percentile")),
            ("cnn", "transformer"),
            True,
        ),
        Tool(
            "int8_qoperator_per_channel",
            _static(StaticOptions("QOperator", per_channel=True)),
            ("cnn", "transformer"),
            True,
        ),
        Tool("int8_dynamic_lstm_gather", _dynamic, families=("recurrent", "recsys", "gnn"), quantizes=True),
    )
}


def family_tools() -> dict[str, Tool]:
    """The tools an MLPerf family goes through: every tool at every option (a family's tag picks them)."""
    return {**TOOLS, **MORE_TOOLS}
