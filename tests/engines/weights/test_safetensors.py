"""Weights in .safetensors files: read by memory map, validated header, attached to the model by name."""

import json
import struct

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from safetensors.numpy import save_file

from parity.audit import check
from parity.errors import BadInput
from parity.examples import models
from parity.ir.safetensors_file import read_safetensors


def _weights_of(model):
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def test_tensors_are_memory_mapped_and_equal_to_what_was_written(tmp_path):
    weights = _weights_of(models.resnet())
    path = tmp_path / "w.safetensors"
    save_file(weights, str(path))
    tensors = read_safetensors(path)
    assert tensors.keys() == weights.keys()
    loaded = tensors["conv_w_1"].load()
    assert isinstance(loaded, np.memmap) and np.array_equal(loaded, weights["conv_w_1"])


def test_check_uses_the_candidate_weights_file(tmp_path):
    model = models.resnet()
    onnx.save(model, tmp_path / "model.onnx")
    weights = _weights_of(model)
    weights["conv_w_10"] = weights["conv_w_10"].copy()
    weights["conv_w_10"].reshape(-1)[7] *= 1.01
    save_file(weights, str(tmp_path / "candidate.safetensors"))
    result = check(
        tmp_path / "model.onnx",
        tmp_path / "model.onnx",
        "mlperf-inference",
        candidate_weights=tmp_path / "candidate.safetensors",
    )
    assert result.judgement.verdict.value == "violates"
    assert [o.kind for o in result.observations if o.kind == "weights.modified"] == ["weights.modified"]


def _raw(tmp_path, header, data=b"\0" * 64):
    encoded = json.dumps(header).encode() if not isinstance(header, bytes) else header
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)
    return path


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 999]}}, "outside"),
        ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, "12 bytes stored for shape"),
        (
            {
                "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                "v": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
            },
            "overlap",
        ),
        ({"w": {"dtype": "Q4", "shape": [4], "data_offsets": [0, 16]}}, "unsupported dtype"),
        ({"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, "non-negative integers"),
        ([1, 2, 3], "not a JSON object"),
        (b"{not json", "not valid JSON"),
    ],
)
def test_lying_or_malformed_headers_are_rejected(tmp_path, header, message):
    path = _raw(tmp_path, header)
    with pytest.raises(BadInput, match=message):
        read_safetensors(path)


def test_header_length_beyond_the_file_is_rejected(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 10**9) + b"{}")
    with pytest.raises(BadInput, match="does not fit"):
        read_safetensors(path)


def test_a_weights_file_with_another_shape_is_rejected(tmp_path):
    model = models.resnet()
    onnx.save(model, tmp_path / "model.onnx")
    save_file({"conv_w_1": np.zeros((2, 2), dtype=np.float32)}, str(tmp_path / "w.safetensors"))
    with pytest.raises(BadInput, match="shape"):
        check(
            tmp_path / "model.onnx",
            tmp_path / "model.onnx",
            "mlperf-inference",
            reference_weights=tmp_path / "w.safetensors",
        )
