"""Each defect the hostile-input campaign found, as a test: the real command on the real hostile file.

Bad input is one clean line and exit 3, or a finding; never exit 4, a second line, a blocked read, a
gigabyte in the main process, or a verdict made from a bad number.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_runner import parity
from mllog_files import flux_runs, record
from parity.examples import models

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "cnn"


def _one_clean_line(code, err, expected_code=3):
    assert code == expected_code, err
    assert err.count("\n") == 1 and "internal error" not in err and "Traceback" not in err, err


def _check(capsys, reference, candidate, *extra):
    return parity(
        capsys, "check", "--reference", reference, "--candidate", candidate, "-r", "mlperf-inference", *extra
    )


# --- ONNX -----------------------------------------------------------------------------------------------


def _external(tmp_path, edit):
    """The CNN reference with its weights in weights.bin, one external-data entry edited by ``edit``."""
    model = models.resnet()
    onnx.save(
        model, tmp_path / "m.onnx", save_as_external_data=True, location="weights.bin", size_threshold=0
    )
    model = onnx.load(tmp_path / "m.onnx", load_external_data=False)
    edit(model.graph.initializer[0])
    path = tmp_path / "candidate.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def _set(key, value):
    def edit(tensor):
        for entry in tensor.external_data:
            if entry.key == key:
                entry.value = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("location", "weights\x00.bin"), "external data"),
        (_set("offset", "0x10"), "offset"),
        (_set("offset", "abc"), "offset"),
        (_set("length", "3"), "length"),
    ],
    ids=["nul-in-location", "hex-offset", "text-offset", "short-length"],
)
def test_bad_external_data_entries_are_one_clean_line(capsys, tmp_path, edit, message):
    candidate = _external(tmp_path, edit)
    code, _, err = _check(capsys, EXAMPLES / "reference.onnx", candidate)
    _one_clean_line(code, err)
    assert str(candidate) in err and message in err


def _with_initializer(tensor):
    model = models.resnet()
    model.graph.initializer[0].CopyFrom(tensor)
    return model


def test_raw_data_longer_than_its_dims_and_a_weight_without_dims_are_one_clean_line(capsys, tmp_path):
    first = models.resnet().graph.initializer[0]
    longer, no_dims = onnx.TensorProto(), onnx.TensorProto()
    longer.CopyFrom(first)
    longer.raw_data = numpy_helper.to_array(first).tobytes() + b"\0" * 16
    no_dims.CopyFrom(first)
    del no_dims.dims[:]
    for index, tensor in enumerate([longer, no_dims]):
        path = tmp_path / f"candidate{index}.onnx"
        onnx.save(_with_initializer(tensor), path)
        code, _, err = _check(capsys, EXAMPLES / "reference.onnx", path)
        _one_clean_line(code, err)
        assert "its dims need" in err


def test_a_value_info_of_2_to_the_40_elements_is_refused_before_shape_inference(capsys, tmp_path):
    model = models.resnet()
    model.graph.value_info.append(helper.make_tensor_value_info("huge", TensorProto.FLOAT, [2**40]))
    path = tmp_path / "candidate.onnx"
    onnx.save(model, path)
    start = time.perf_counter()
    code, _, err = _check(capsys, EXAMPLES / "reference.onnx", path)
    assert time.perf_counter() - start < 30
    _one_clean_line(code, err)
    assert "over the" in err


# --- .npz -------------------------------------------------------------------------------------------------


def _npz_cases(tmp_path):
    """Hostile .npz files, by name: each must be refused with the file named."""
    cases = {}
    np.savez(tmp_path / "good.npz", image=np.zeros((2, 3, 32, 32), np.float32))
    good = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(good[: len(good) // 2])
    cases["truncated zip"] = tmp_path / "truncated.npz"
    np.save(tmp_path / "plain.npy", np.zeros((2, 3, 32, 32), np.float32))
    cases["plain .npy"] = tmp_path / "plain.npy"
    with zipfile.ZipFile(tmp_path / "suffix.npz", "w") as archive:
        archive.writestr("image", (tmp_path / "plain.npy").read_bytes())
    cases["member without .npy"] = tmp_path / "suffix.npz"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (10000000000000000,), }"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header) + 1) + header.encode() + b"\n"
    with zipfile.ZipFile(tmp_path / "claims.npz", "w") as archive:
        archive.writestr("image.npy", npy + b"\0" * 64)
    cases["header claiming 10 PiB"] = tmp_path / "claims.npz"
    with zipfile.ZipFile(tmp_path / "unterminated.npz", "w") as archive:
        archive.writestr("image.npy", b"\x93NUMPY\x01\x00\xff\x00{'descr': '<f4'")
    cases["unterminated header"] = tmp_path / "unterminated.npz"
    np.savez(tmp_path / "structured.npz", image=np.zeros(4, dtype=[("a", "<f4"), ("b", "<i4")]))
    cases["structured dtype"] = tmp_path / "structured.npz"
    np.savez(tmp_path / "empty.npz", image=np.zeros((0, 3, 32, 32), np.float32))
    cases["zero samples"] = tmp_path / "empty.npz"
    return cases


def test_hostile_npz_inputs_are_one_clean_line_naming_the_file(capsys, tmp_path):
    for name, path in _npz_cases(tmp_path).items():
        code, _, err = _check(
            capsys, EXAMPLES / "reference.onnx", EXAMPLES / "optimized.onnx", "--inputs", path
        )
        _one_clean_line(code, err)
        assert str(path) in err, name


def test_a_deflate_bomb_is_refused_before_it_is_decompressed(tmp_path):
    from parity.errors import BadInput
    from parity.ir.npz_file import read_npz

    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, image=np.zeros(16 * 1024**2, np.float32))  # 64 MiB in about 64 KiB
    assert path.stat().st_size < 1024**2
    with pytest.raises(BadInput, match="decompress to 67108992 bytes, over the 16777216-byte limit"):
        read_npz(path, max_bytes=16 * 1024**2)


# --- safetensors ------------------------------------------------------------------------------------------


def _safetensors(path, header: bytes, data: bytes = b""):
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


@pytest.mark.parametrize(
    "header",
    [
        b'{"w": {"dtype": "F32", "shape": [9223372036854775808, 2], "data_offsets": [0, 0]}}',
        b'{"w": {"dtype": "F32", "shape": [' + b"9" * 5000 + b'], "data_offsets": [0, 4]}}',
    ],
    ids=["dimension-2**63", "5000-digit-integer"],
)
def test_safetensors_headers_with_huge_numbers_are_clean(capsys, tmp_path, header):
    weights = _safetensors(tmp_path / "w.safetensors", header, b"\0" * 8)
    code, _, err = _check(
        capsys, EXAMPLES / "reference.onnx", EXAMPLES / "optimized.onnx", "--candidate-weights", weights
    )
    _one_clean_line(code, err)


def test_a_header_past_16_mib_is_refused_without_parsing_it(tmp_path):
    from parity.errors import BadInput
    from parity.ir.safetensors_file import read_safetensors

    path = _safetensors(tmp_path / "w.safetensors", b" " * (17 * 1024**2))
    with pytest.raises(BadInput, match="over the 16777216-byte limit"):
        read_safetensors(path)


def test_a_fifo_as_weights_is_refused_instead_of_blocking(capsys, tmp_path):
    fifo = tmp_path / "weights.safetensors"
    os.mkfifo(fifo)
    code, _, err = _check(
        capsys, EXAMPLES / "reference.onnx", EXAMPLES / "optimized.onnx", "--candidate-weights", fifo
    )
    _one_clean_line(code, err)
    assert "not a regular file" in err


# --- evidence (`parity judge`) ------------------------------------------------------------------------


def _evidence(tmp_path, observations):
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps({"format": "parity-evidence", "version": 1, "observations": observations}))
    return path


def test_a_lone_surrogate_is_escaped_in_json_and_text_output(capsys, tmp_path):
    path = tmp_path / "evidence.json"
    body = (
        '{"observations": [{"kind": "graph.op_removed", "summary": "lost \\ud800 op",'
        ' "evidence": {"details": {"tensors": [{"\\ud800": ["w"]}]}}}]}'  # pydantic refused this key
    )
    path.write_text(body)
    for form in ("json", "text"):
        code, out, err = parity(capsys, "judge", path, "-r", "mlperf-inference", "-f", form)
        assert code == 1 and "internal error" not in err, err
        assert "\\ud800" in out
    json.loads(parity(capsys, "judge", path, "-r", "mlperf-inference", "-f", "json")[1])


def test_details_nested_900_deep_are_refused_on_load(capsys, tmp_path):
    nested = "[" * 900 + "]" * 900
    path = tmp_path / "evidence.json"
    details = json.dumps({"observations": [{"kind": "graph.op_removed", "evidence": {"details": {"x": 0}}}]})
    path.write_text(details.replace("0", nested))
    code, _, err = parity(capsys, "judge", path, "-r", "mlperf-inference", "-f", "json")
    _one_clean_line(code, err)
    assert "nested deeper than 64 levels" in err


def test_judge_json_output_is_strict_json_even_for_non_finite_metrics(capsys, tmp_path):
    path = tmp_path / "evidence.json"
    path.write_text(
        '{"observations": [{"kind": "weights.modified", "evidence": {"metrics": {"max_error": NaN,'
        ' "scale": Infinity}}}]}'
    )
    code, out, _ = parity(capsys, "judge", path, "-r", "mlperf-inference", "-f", "json")
    assert code == 1

    def refuse(token):
        raise AssertionError(f"{token} is not JSON")

    json.loads(out, parse_constant=refuse)


def test_too_many_observations_are_refused_on_load(capsys, tmp_path, monkeypatch):
    from parity.observations import schema

    monkeypatch.setattr(schema, "MAX_OBSERVATIONS", 10)
    path = _evidence(tmp_path, [{"kind": "graph.op_removed"}] * 11)
    code, _, err = parity(capsys, "judge", path, "-r", "mlperf-inference")
    _one_clean_line(code, err)
    assert "11 observations, over the 10 limit" in err


def test_a_text_report_of_many_observations_lists_500_problems_first_and_json_all(capsys, tmp_path):
    observations = [{"kind": "graph.op_removed", "summary": f"op {i}"} for i in range(3000)]
    observations.insert(0, {"kind": "graph.dead_code_removed"})  # allowed: listed after the problems
    path = _evidence(tmp_path, observations)
    code, out, _ = parity(capsys, "judge", path, "-r", "mlperf-inference", "-f", "text")
    assert code == 1 and "the first 500 of 3001 findings, problems first" in out
    assert "op 499" in out and "op 500 " not in out and "dead_code_removed" not in out
    code, out, _ = parity(capsys, "judge", path, "-r", "mlperf-inference", "-f", "json")
    assert len(json.loads(out)["findings"]) == 3001


def test_a_key_with_a_newline_is_still_one_line(capsys, tmp_path):
    path = _evidence(tmp_path, [{"kind": "graph.op_removed", "bad\nkey": 1}])
    code, _, err = parity(capsys, "judge", path, "-r", "mlperf-inference")
    _one_clean_line(code, err)
    assert "bad\\nkey" in err


# --- MLLOG logs -----------------------------------------------------------------------------------------


def _flux_log(tmp_path, extra_lines):
    folder = flux_runs(tmp_path / "flux1", count=1)
    log = folder / "result_0.txt"
    log.write_text(log.read_text() + "".join(line + "\n" for line in extra_lines))
    return log


@pytest.mark.parametrize(
    "line",
    [
        ':::MLLOG {"key": "seed", "value": ' + "7" * 5000 + ', "time_ms": 1}',
        ':::MLLOG {"key": "seed", "value": 1, "time_ms": 1e400}',
        ':::MLLOG {"key": "seed", "value": ' + "[" * 500 + "]" * 500 + ', "time_ms": 1}',
        ':::MLLOG {"key": "submission_org", "value": "x\\ud800y", "time_ms": 1}',
    ],
    ids=["5000-digit-integer", "time_ms-beyond-float", "nested-500-deep", "lone-surrogate"],
)
def test_hostile_records_are_malformed_lines_not_crashes(capsys, tmp_path, line):
    log = _flux_log(tmp_path, [line])
    for form in ("json", "text"):
        code, out, err = parity(capsys, "logs", "check", log, "-f", form)
        assert code in (0, 1) and "internal error" not in err, err
    if form == "json":
        json.loads(out)


def test_a_string_repeated_by_a_rule_stays_small(tmp_path):
    from parity.engines.logs.expressions import ExpressionError, evaluate

    with pytest.raises(ExpressionError, match="repeating a str of 100000 items 1000 times"):
        evaluate("value * 1000", {"value": "x" * 100_000})
    assert evaluate("value * 3", {"value": "ab"}) == "ababab"


def test_echoed_values_are_cut_and_say_so(capsys, tmp_path):
    long = "y" * 300_000
    log = _flux_log(tmp_path, [record("submission_benchmark", long, 8)])
    code, out, _ = parity(capsys, "logs", "check", log, "-f", "json")
    assert code == 1 and "y" * 1100 not in out and len(out) < 200_000
    assert "(300000 characters)" in out


def test_logs_and_rcp_checks_do_not_follow_symlinks_out_of_the_folder(capsys, tmp_path):
    outside = tmp_path / "outside"
    flux_runs(outside, count=1)
    folder = flux_runs(tmp_path / "v5.1" / "flux1", count=10)
    (folder / "result_0.txt").unlink()
    (folder / "result_0.txt").symlink_to(outside / "result_0.txt")
    secret = (outside / "result_0.txt").read_text()
    for command in (("logs", "check"), ("rcp", "check")):
        code, out, err = parity(capsys, *command, folder, "-f", "json")
        assert code in (1, 2) and "internal error" not in err, err
        assert "symlink leaving the audited folder" in out and "log.file_refused" in out
        assert secret[:60] not in out


def test_a_folder_chain_1000_deep_is_bounded_not_a_recursion_error(capsys, tmp_path):
    folder = flux_runs(tmp_path / "v5.1" / "flux1", count=10)
    chain = [folder]
    for _ in range(1000):  # os.makedirs itself recurses
        chain.append(chain[-1] / "d")
        chain[-1].mkdir()
    try:
        code, out, err = parity(capsys, "rcp", "check", folder, "-f", "json")
    finally:
        for link in reversed(chain[1:]):  # shutil.rmtree (pytest's clean-up) recurses too
            link.rmdir()
    assert code in (0, 1, 2) and "internal error" not in err, err
    assert "nested deeper than 64 levels" in out


def test_a_huge_integer_eval_accuracy_is_malformed_not_a_crash(capsys, tmp_path):
    folder = flux_runs(tmp_path / "v5.1" / "flux1", count=10)
    log = folder / "result_3.txt"
    log.write_text(log.read_text() + ':::MLLOG {"key": "eval_accuracy", "value": ' + "9" * 400 + "}\n")
    code, _, err = parity(capsys, "rcp", "check", folder)
    assert code in (0, 1, 2) and "internal error" not in err, err


# --- rulebooks ------------------------------------------------------------------------------------------


def test_extends_cannot_leave_the_rulebook_folder(capsys, tmp_path, write_yaml):
    from conftest import make_book

    (tmp_path / "outside").mkdir()
    (tmp_path / "books").mkdir()
    write_yaml("outside/base.yaml", make_book(id="base-v1"))
    book = write_yaml("books/child.yaml", make_book(id="child-v1", extends="../outside/base.yaml", rules=[]))
    code, _, err = parity(capsys, "rules", "list", "-r", book)
    _one_clean_line(code, err)
    assert "outside the rulebook's folder" in err


# --- numbers that must not become verdicts -------------------------------------------------------------


def _conv_batchnorm(variance):
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
            helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name="bn"),
        ],
        "conv_bn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 8, 8])],
        [
            numpy_helper.from_array(np.random.default_rng(0).standard_normal((2, 2, 3, 3), np.float32), "w"),
            numpy_helper.from_array(np.ones(2, np.float32), "s"),
            numpy_helper.from_array(np.zeros(2, np.float32), "b"),
            numpy_helper.from_array(np.zeros(2, np.float32), "m"),
            numpy_helper.from_array(np.array(variance, np.float32), "v"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_nan_folded_from_a_negative_variance_is_a_modification_not_a_fold(capsys, tmp_path):
    from parity.examples.build import optimise_with_onnxruntime

    reference = _conv_batchnorm([-1.0, 1.0])
    onnx.save(reference, tmp_path / "reference.onnx")
    optimise_with_onnxruntime(reference, tmp_path / "candidate.onnx", "extended")
    folded = onnx.load(tmp_path / "candidate.onnx")
    assert [node.op_type for node in folded.graph.node] == ["Conv"]  # onnxruntime folded the norm
    for tensor in folded.graph.initializer:  # the candidate's weights are finite; the reference's fold is not
        tensor.CopyFrom(numpy_helper.from_array(np.nan_to_num(numpy_helper.to_array(tensor)), tensor.name))
    onnx.save(folded, tmp_path / "candidate.onnx")
    code, out, err = parity(
        capsys,
        "-q",
        "check",
        "--reference",
        tmp_path / "reference.onnx",
        "--candidate",
        tmp_path / "candidate.onnx",
        "-r",
        "mlperf-inference",
        "-f",
        "json",
    )
    assert code != 0 and err == "", err  # and no numpy warning on stderr under --quiet
    weights = [o for o in json.loads(out)["observations"] if o["engine"] == "weights"]
    assert "weights.folded" not in {o["kind"] for o in weights}
    modified = [o for o in weights if o["kind"] == "weights.modified"]
    assert modified and "non-finite values" in modified[0]["evidence"]["details"]["problem"]


def test_identical_models_with_a_boolean_output_conform(capsys, tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Greater", ["x", "zero"], ["y"], name="positive")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.BOOL, [1, 8])],
        [numpy_helper.from_array(np.zeros(1, np.float32), "zero")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx")
    code, out, err = _check(capsys, tmp_path / "m.onnx", tmp_path / "m.onnx", "-f", "json")
    assert code == 0, err
    numeric = [o for o in json.loads(out)["observations"] if o["engine"] == "numeric"]
    assert [o["kind"] for o in numeric] == ["numeric.outputs_match"] and "exact" in numeric[0]["summary"]


def test_the_model_child_gets_its_own_home(tmp_path, monkeypatch):
    from parity.engines.numeric import sandbox

    script = tmp_path / "env.py"
    script.write_text(
        "import json, os, sys; sys.stdin.read(); print(json.dumps({'home': os.environ['HOME']}))"
    )
    monkeypatch.setattr(sandbox, "RUNNER", script)
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    found = sandbox.run_job({"threads": 1}, time_limit=30, memory_limit=2 * 1024**3)
    assert found["home"] != str(tmp_path / "user-home") and "parity-sandbox-home-" in found["home"]
    assert not Path(found["home"]).exists()  # removed after the run


# --- found by the fuzzing harness (tests/fuzz) ------------------------------------------------------------


def _saved(tmp_path, model, name="candidate.onnx"):
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


def test_an_opset_onnx_does_not_know_is_refused_before_shape_inference(capsys, tmp_path):
    model = models.resnet()
    model.opset_import[0].version = 10**6  # onnx's shape inference took 7 GB on this
    code, _, err = _check(capsys, EXAMPLES / "reference.onnx", _saved(tmp_path, model))
    _one_clean_line(code, err)
    assert "opset 1000000" in err


def test_a_long_one_dimensional_declaration_does_not_reach_data_propagation(tmp_path):
    import resource

    from parity.ir.from_onnx import infer_shapes

    model = models.resnet()
    model.graph.value_info.append(helper.make_tensor_value_info("image", TensorProto.BFLOAT16, [2**31]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    infer_shapes(model)  # with data propagation this allocated 8 GB
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 512 * 1024  # KiB


@pytest.mark.parametrize(
    "edit",
    [
        lambda model: setattr(model.graph.initializer[0], "data_type", TensorProto.UNDEFINED),
        lambda model: model.graph.node[0].attribute[0].ints.extend([2**62]),
    ],
    ids=["no-element-type", "huge-attribute"],
)
def test_tensors_without_a_type_and_absurd_attributes_are_clean(capsys, tmp_path, edit):
    model = models.resnet()
    edit(model)
    code, _, err = _check(capsys, EXAMPLES / "reference.onnx", _saved(tmp_path, model))
    assert code in (1, 2, 3) and "internal error" not in err and err.count("\n") <= 1, err


def test_a_corrupt_deflate_stream_is_a_clean_error(capsys, tmp_path):
    path = tmp_path / "inputs.npz"
    np.savez_compressed(
        path, image=np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    )
    data = bytearray(path.read_bytes())
    data[80:96] = b"\xff" * 16  # inside the deflate stream of the only member
    path.write_bytes(bytes(data))
    code, _, err = _check(capsys, EXAMPLES / "reference.onnx", EXAMPLES / "optimized.onnx", "--inputs", path)
    _one_clean_line(code, err)


def _alias_bomb(levels):
    """YAML whose every level holds nine aliases of the one before: 9**levels values once expanded."""
    lines = ["l0: &l0 [x]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: " + "9" * 5000 + "\n", "invalid YAML value"),
        (_alias_bomb(7), "expands to more than"),
    ],
    ids=["5000-digit-integer", "alias-bomb"],
)
def test_hostile_yaml_rulebooks_are_one_clean_line(capsys, tmp_path, text, message):
    path = tmp_path / "book.yaml"
    path.write_text(text)
    code, _, err = parity(capsys, "rules", "list", "-r", path)
    _one_clean_line(code, err)
    assert message in err


def test_an_evidence_value_of_the_wrong_type_is_judged_not_a_crash(capsys, tmp_path):
    # a rule with accepted values (numeric formats) met a list where a format name belongs
    path = _evidence(
        tmp_path, [{"kind": "graph.precision_changed", "evidence": {"details": {"format": ["fp16"]}}}]
    )
    code, out, err = parity(capsys, "judge", path, "-r", "mlperf-training", "-f", "json")
    assert code in (1, 2) and "internal error" not in err, err
    json.loads(out)
