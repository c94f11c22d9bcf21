"""Loading untrusted ONNX files: valid ones become neutral graphs without copying weights; bad ones are
one clear BadInput line naming the file."""

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from parity.errors import BadInput
from parity.examples import models
from parity.ir import load_graph


def _save_with_external_data(model, folder, location="weights.bin"):
    path = folder / "model.onnx"
    onnx.save(
        model,
        path,
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=location,
        size_threshold=0,
    )
    return path


def test_graph_has_semantic_attributes_and_lazy_parameters(tmp_path):
    path = tmp_path / "resnet.onnx"
    onnx.save(models.resnet(), path)
    graph = load_graph(path)
    conv = graph.nodes["conv_2"]
    assert conv.attrs["strides"] == (1, 1) and conv.attrs["dilations"] == (1, 1) and conv.attrs["group"] == 1
    weight = graph.params[conv.inputs[1]]
    assert weight.shape == (16, 3, 3, 3) and weight.dtype == "FLOAT"
    assert graph.value_info("relu_8_out").shape == (1, 16, 32, 32)


def test_external_weights_are_memory_mapped_not_copied(tmp_path):
    path = _save_with_external_data(models.resnet(), tmp_path)
    graph = load_graph(path)
    values = graph.params["conv_w_1"].values()
    assert isinstance(values, np.memmap) and str(values.filename).endswith("weights.bin")
    expected = numpy_helper.to_array(models.resnet().graph.initializer[0])
    assert np.array_equal(values, expected)


def test_attributes_moved_to_inputs_by_later_opsets_compare_equal():
    from onnx import version_converter

    from parity.ir import graph_from_model

    old = helper.make_model(
        helper.make_graph(
            [helper.make_node("Squeeze", ["x"], ["y"], name="s", axes=[0])],
            "g",
            [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
            [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [4])],
        ),
        opset_imports=[helper.make_opsetid("", 11)],
    )
    new = version_converter.convert_version(old, 13)
    assert graph_from_model(old).nodes["s"].attrs == graph_from_model(new).nodes["s"].attrs


def _broken(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: _broken(d, "notes.onnx", b"this is not a protobuf at all \xff\xfe"), "not an ONNX model"),
        (lambda d: _broken(d, "empty.onnx", b""), "model file is empty"),
        (lambda d: _broken(d, "cut.onnx", models.resnet().SerializeToString()[:5000]), "not an ONNX model"),
        (lambda d: d / "absent.onnx", "model file not found"),
    ],
)
def test_unreadable_files_are_rejected(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(BadInput) as caught:
        load_graph(path)
    assert (
        str(caught.value).startswith(str(path))
        and message in str(caught.value)
        and "\n" not in str(caught.value)
    )


def test_unknown_operator_domain_is_rejected(tmp_path):
    model = models.resnet()
    model.graph.node[0].domain = "evil.corp"
    model.opset_import.append(helper.make_opsetid("evil.corp", 1))
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    with pytest.raises(BadInput, match=r"unknown operator domain 'evil\.corp'"):
        load_graph(path)


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/passwd", "sub/../../outside.bin"])
def test_external_data_outside_the_model_folder_is_rejected(tmp_path, location):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "outside.bin").write_bytes(b"\0" * 1024)
    path = _save_with_external_data(models.resnet(), folder)
    model = onnx.load(path, load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save(model, path)
    with pytest.raises(BadInput, match="outside the model's folder"):
        load_graph(path)


def test_external_data_past_the_end_of_its_file_is_rejected(tmp_path):
    path = _save_with_external_data(models.resnet(), tmp_path)
    (tmp_path / "weights.bin").write_bytes(b"\0" * 16)
    with pytest.raises(BadInput, match="past the end"):
        load_graph(path)


def test_a_cycle_is_rejected(tmp_path):
    graph = helper.make_graph(
        [
            helper.make_node("Relu", ["b"], ["a"], name="r1"),
            helper.make_node("Relu", ["a"], ["b"], name="r2"),
        ],
        "cyclic",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("b", onnx.TensorProto.FLOAT, [1])],
    )
    path = tmp_path / "cycle.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(BadInput, match="cycle"):
        load_graph(path)


def test_models_over_the_size_limit_are_rejected_before_parsing(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(models.resnet(), path)
    with pytest.raises(BadInput, match="over the 1000 byte limit"):
        load_graph(path, max_bytes=1000)


def test_unsorted_graphs_are_accepted_like_onnxruntime_does(tmp_path):
    model = models.resnet()
    nodes = list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(reversed(nodes))
    path = tmp_path / "unsorted.onnx"
    onnx.save(model, path)
    assert len(load_graph(path).nodes) == len(nodes)


def _outer_scope_model(nested: bool) -> onnx.ModelProto:
    """An If (inside a Loop body when ``nested``) whose branches read ``y``, produced later in the list."""
    f = onnx.TensorProto.FLOAT
    branch = [
        helper.make_graph(
            [helper.make_node(op, ["y"], [f"{op}_out"])],
            op,
            [],
            [helper.make_tensor_value_info(f"{op}_out", f, [2])],
        )
        for op in ("Identity", "Neg")
    ]
    choose = helper.make_node("If", ["c"], ["z"], name="choose", then_branch=branch[0], else_branch=branch[1])
    if nested:
        body = helper.make_graph(
            [
                choose,
                helper.make_node("Identity", ["cond_in"], ["cond_out"]),
                helper.make_node("Add", ["z", "z"], ["s"]),
            ],
            "body",
            [
                helper.make_tensor_value_info("i", onnx.TensorProto.INT64, []),
                helper.make_tensor_value_info("cond_in", onnx.TensorProto.BOOL, []),
            ],
            [
                helper.make_tensor_value_info("cond_out", onnx.TensorProto.BOOL, []),
                helper.make_tensor_value_info("s", f, [2]),
            ],
        )
        first = helper.make_node("Loop", ["n", ""], ["z_all"], name="loop", body=body)
        out = helper.make_tensor_value_info("z_all", f, [None, 2])
    else:
        first, out = choose, helper.make_tensor_value_info("z", f, [2])
    graph = helper.make_graph(
        [first, helper.make_node("Relu", ["x"], ["y"], name="late_producer")],
        "outer_scope",
        [
            helper.make_tensor_value_info("x", f, [2]),
            helper.make_tensor_value_info("c", onnx.TensorProto.BOOL, []),
            helper.make_tensor_value_info("n", onnx.TensorProto.INT64, []),
        ],
        [out],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("nested", [False, True])
def test_outer_scope_reads_of_subgraphs_count_as_dependencies(tmp_path, nested):
    """A body's outer-scope read orders its node after the producer, as onnxruntime reads the model."""
    import onnxruntime

    from parity.ir.onnx_file import read_onnx

    model = _outer_scope_model(nested)
    path = tmp_path / "outer.onnx"
    onnx.save(model, path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"x": np.array([-1.0, 2.0], np.float32), "c": np.array(False), "n": np.array(3, np.int64)}
    expected = session.run(None, feeds)[0]
    read = read_onnx(path)
    assert [n.op_type for n in read.graph.node] == ["Relu", "Loop" if nested else "If"]
    again = tmp_path / "sorted.onnx"
    onnx.save(read, again)
    got = onnxruntime.InferenceSession(str(again), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    assert np.array_equal(got, expected)
    assert len(load_graph(path).nodes) == 2


def test_a_sorted_graph_keeps_its_node_order(tmp_path):
    """Sorting moves nothing in a graph that is already in order (no needless reordering)."""
    from parity.ir.onnx_file import read_onnx

    path = tmp_path / "resnet.onnx"
    onnx.save(models.resnet(), path)
    assert [n.name for n in read_onnx(path).graph.node] == [n.name for n in models.resnet().graph.node]
