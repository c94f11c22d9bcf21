"""Each documented converter behaviour the weights rules accept, against the real tool's output."""

import copy
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from parity.audit import check
from parity.engines.graph import compare_graphs
from parity.engines.weights import compare_weights
from parity.engines.weights.semantics import FP16_CLAMP, REGISTRY
from parity.examples import models
from parity.examples.build import optimise_with_onnxruntime
from parity.examples.builder import GraphBuilder
from parity.ir import graph_from_model, load_graph


def _weights(reference: onnx.ModelProto, candidate: onnx.ModelProto, mode: str = "provenance"):
    comparison = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    return comparison, compare_weights(comparison, mode)[1]


def test_every_behaviour_names_its_tool_and_where_it_is_documented():
    assert set(REGISTRY) == {
        "fp16-clamp",
        "fp16-clamp-onnxruntime",
        "nchwc-channel-padding",
        "batchnorm-as-depthwise-conv",
        "dynamic-quantization",
    }
    assert all(item.tool and item.documented and item.accepts for item in REGISTRY.values())


def test_fp16_clamping_of_onnxconverter_common_is_precision_reduced_with_the_clamped_count():
    from onnxconverter_common import float16

    reference = models.resnet(width=8)
    small, large = [t for t in reference.graph.initializer if len(t.dims) == 4][:2]
    for tensor, entries in ((small, [3e-9, -5e-8, 2.5e-8]), (large, [4e4, -2e5])):  # below 1e-7, above 1e4
        values = numpy_helper.to_array(tensor).copy()
        values.reshape(-1)[: len(entries)] = entries
        values.reshape(-1)[len(entries) :] *= 1e-4 if tensor is small else 1.0  # tiny weights overall
        tensor.CopyFrom(numpy_helper.from_array(values, tensor.name))
    candidate = float16.convert_float_to_float16(copy.deepcopy(reference), keep_io_types=True)
    _, verdicts = _weights(reference, candidate)
    clamped = {v.reference[0]: v for v in verdicts if v.metrics.get("clamped")}
    assert {v.kind for v in verdicts} <= {"weights.precision_reduced", "weights.identical"}
    assert clamped[small.name].metrics["clamped"] == 3 and clamped[large.name].metrics["clamped"] == 2
    assert {v.details["semantics"] for v in clamped.values()} == {FP16_CLAMP.name}


def test_a_value_the_clamp_does_not_explain_is_still_modified():
    from onnxconverter_common import float16

    reference = models.resnet(width=8)
    candidate = float16.convert_float_to_float16(copy.deepcopy(reference), keep_io_types=True)
    tensor = next(t for t in candidate.graph.initializer if len(t.dims) == 4)
    values = numpy_helper.to_array(tensor).copy()
    values.reshape(-1)[0] = np.float16(1e-7)  # looks clamped, but the reference entry is not tiny
    tensor.CopyFrom(numpy_helper.from_array(values, tensor.name))
    _, verdicts = _weights(reference, candidate)
    assert "weights.modified" in {v.kind for v in verdicts}


def _standalone_batchnorm() -> onnx.ModelProto:
    """A batch norm that follows no convolution (after a Concat, as in DenseNet)."""
    b = GraphBuilder("standalone_bn", seed=4)
    x = b.input("image", [1, 3, 16, 16])
    left = b.op("Relu", [b.conv(x, 3, 16, 3, bias=True)])
    right = b.op("Relu", [b.conv(x, 3, 16, 3, bias=True)])
    joined = b.op("Concat", [left, right], axis=1)
    y = b.op("Relu", [b.batchnorm(joined, 32)])
    b.output(b.conv(y, 32, 16, 1, bias=True), [1, 16, 16, 16])
    return b.model()


def test_onnxruntime_batchnorm_as_depthwise_conv_is_a_fold(tmp_path: Path):
    reference = _standalone_batchnorm()
    onnx.save(reference, tmp_path / "reference.onnx")
    optimise_with_onnxruntime(reference, tmp_path / "all.onnx", "all")
    optimised = onnx.load(str(tmp_path / "all.onnx"))
    depthwise = [
        n
        for n in optimised.graph.node
        if n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
    ]
    assert depthwise, "onnxruntime computed the batch norm another way"
    comparison = compare_graphs(load_graph(tmp_path / "reference.onnx"), load_graph(tmp_path / "all.onnx"))
    kinds = {o.kind for o in comparison.observations}
    assert "graph.batchnorm_folded" in kinds and not kinds & {"graph.op_changed", "graph.shape_changed"}
    _, verdicts = compare_weights(comparison)
    assert {v.kind for v in verdicts} <= {"weights.identical", "weights.rearranged", "weights.folded"}
    inference = check(tmp_path / "reference.onnx", tmp_path / "all.onnx", "mlperf-inference")
    training = check(tmp_path / "reference.onnx", tmp_path / "all.onnx", "mlperf-training")
    assert inference.judgement.verdict.value == "conforms"
    assert training.judgement.verdict.value == "violates"


def test_dynamic_quantization_is_quantized_weights_within_half_a_step(tmp_path: Path):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    reference = models.transformer_block(layers=2)
    onnx.save(reference, tmp_path / "reference.onnx")
    quantize_dynamic(
        str(tmp_path / "reference.onnx"), str(tmp_path / "dynamic.onnx"), weight_type=QuantType.QInt8
    )
    comparison = compare_graphs(
        load_graph(tmp_path / "reference.onnx"), load_graph(tmp_path / "dynamic.onnx")
    )
    quantized = [o for o in comparison.observations if o.kind == "graph.quantized"]
    assert any(o.evidence.details.get("scheme") == "dynamic" for o in quantized)
    assert not {o.kind for o in comparison.observations} & {"graph.op_changed", "graph.op_added"}
    _, verdicts = compare_weights(comparison)
    assert "weights.quantized" in {v.kind for v in verdicts}
    assert {v.kind for v in verdicts} <= {"weights.identical", "weights.quantized", "weights.rearranged"}
