"""onnxruntime's NCHWc layout reads the same whatever the machine's block size (8 with AVX2, 16 with AVX-512).

The real ORT_ENABLE_ALL output is made on this machine, at its own block size. The other block size is
the same model rewritten as the NchwcTransformer writes it on the other kind of machine: each filter
read back, cut to its logical channels and written again, padded to the other block and blocked in its
layout. Both must match the reference completely, with the padding reported and every weight the
reference's. The rewriting is checked against the real tool first: at this machine's block size it
reproduces onnxruntime's filters bit for bit.
"""

import copy
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from parity.engines.graph import compare_graphs
from parity.engines.weights import compare_weights
from parity.examples.build import optimise_with_onnxruntime
from parity.examples.builder import GraphBuilder
from parity.ir import graph_from_model
from parity.ir.layouts import block, unblock

STRUCTURAL = {"graph.op_removed", "graph.op_added", "graph.op_changed", "graph.shape_changed"}


def _reference() -> onnx.ModelProto:
    """Convolutions whose channel counts pad differently at block 8 and block 16 (3→24→40→10)."""
    b = GraphBuilder("nchwc_blocks", seed=3)
    x = b.input("image", [1, 3, 16, 16])
    for c_in, c_out in ((3, 24), (24, 40)):
        x = b.op("Relu", [b.conv(x, c_in, c_out, 3, bias=True)])
    b.output(b.conv(x, 40, 10, 1, bias=True), [1, 10, 16, 16])
    return b.model()


def _ort_all(model: onnx.ModelProto) -> onnx.ModelProto:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "all.onnx"
        optimise_with_onnxruntime(model, path, "all")
        return onnx.load(str(path))


def _layout(size: int, blocked_input: bool) -> str:
    return f"OIHW{size}i{size}o" if blocked_input else f"OIHW{size}o"


def _pad(array: np.ndarray, rows: int, columns: int | None = None) -> np.ndarray:
    widths = [(0, rows - array.shape[0])] + [(0, 0)] * (array.ndim - 1)
    if columns is not None:
        widths[1] = (0, columns - array.shape[1])
    return np.pad(array, widths)


def _up(count: int, size: int) -> int:
    return -(-count // size) * size


def _written(reference: onnx.ModelProto, optimised: onnx.ModelProto, size: int) -> onnx.ModelProto:
    """``optimised`` with every NCHWc filter and bias as onnxruntime writes them at block ``size``."""
    weights = {t.name: numpy_helper.to_array(t) for t in reference.graph.initializer}
    convs = [n for n in reference.graph.node if n.op_type == "Conv"]
    model = copy.deepcopy(optimised)
    stored = {t.name: t for t in model.graph.initializer}
    nchwc = [n for n in model.graph.node if n.domain == "com.microsoft.nchwc" and n.op_type == "Conv"]
    assert len(nchwc) == len(convs)
    for node, conv in zip(nchwc, convs, strict=True):  # the transformer keeps the order of the convs
        plain, bias = weights[conv.input[1]], weights[conv.input[2]]
        blocked_input = plain.shape[1] >= size
        columns = _up(plain.shape[1], size) if blocked_input else plain.shape[1]
        filter_ = block(_pad(plain, _up(plain.shape[0], size), columns), _layout(size, blocked_input))
        stored[node.input[1]].CopyFrom(numpy_helper.from_array(filter_.astype(np.float32), node.input[1]))
        stored[node.input[2]].CopyFrom(
            numpy_helper.from_array(_pad(bias, _up(bias.shape[0], size)).astype(np.float32), node.input[2])
        )
    return model


def _native_size(reference: onnx.ModelProto, optimised: onnx.ModelProto) -> int:
    """The block size onnxruntime used here: the one whose writing reproduces its filters."""
    for size in (16, 8):
        rewritten = _written(reference, optimised, size)
        if all(
            np.array_equal(numpy_helper.to_array(a), numpy_helper.to_array(b))
            for a, b in zip(optimised.graph.initializer, rewritten.graph.initializer, strict=True)
        ):
            return size
    pytest.fail("neither block size reproduces onnxruntime's NCHWc filters")


@pytest.fixture(scope="module")
def models():
    reference = _reference()
    optimised = _ort_all(reference)
    if not any(n.domain == "com.microsoft.nchwc" for n in optimised.graph.node):
        pytest.skip("onnxruntime did not use the NCHWc layout on this machine")
    return reference, optimised, _native_size(reference, optimised)


def test_the_rewriting_reproduces_onnxruntime_at_this_machines_block_size(models):
    _, _, native = models
    assert native in (8, 16)


@pytest.mark.parametrize("size", [8, 16])
def test_both_block_sizes_match_the_reference_with_the_reference_weights(models, size):
    reference, optimised, native = models
    candidate = optimised if size == native else _written(reference, optimised, size)
    comparison = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    kinds = {o.kind for o in comparison.observations}
    assert comparison.correspondence.complete, comparison.correspondence.unmatched_candidate
    assert not kinds & STRUCTURAL, kinds
    _, verdicts = compare_weights(comparison)
    assert {v.kind for v in verdicts} <= {"weights.identical", "weights.rearranged"}
    padded = [v for v in verdicts if v.metrics.get("padding_entries")]
    assert padded and all(v.metrics["padding_nonzero"] == 0 for v in padded)
    assert all(f"{size}" in v.details.get("layout", f"{size}") for v in verdicts if "layout" in v.details)


def test_non_zero_padding_is_a_modified_weight(models):
    reference, optimised, native = models
    candidate = copy.deepcopy(optimised)
    last = [n for n in candidate.graph.node if n.domain == "com.microsoft.nchwc" and n.op_type == "Conv"][-1]
    tensor = next(t for t in candidate.graph.initializer if t.name == last.input[1])
    values = numpy_helper.to_array(tensor).copy()
    layout = _layout(native, values.shape[1] >= native)
    plain = unblock(values, layout)
    plain[-1, 0] = 0.5  # in a row onnxruntime pads with zeros (10 output channels stored as 16)
    tensor.CopyFrom(numpy_helper.from_array(block(plain, layout).astype(np.float32), tensor.name))
    comparison = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    _, verdicts = compare_weights(comparison)
    assert any(v.kind == "weights.modified" and "padding" in v.details.get("problem", "") for v in verdicts)
