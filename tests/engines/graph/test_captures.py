"""What a Loop's or If's body reads from the outer scope is a use: not dead code, not a duplicate."""

import onnx
from onnx import TensorProto, helper

from parity.engines.graph import DEFAULT_REWRITES, canonicalise
from parity.ir import load_graph


def _branch(op, read):
    out = helper.make_tensor_value_info(f"{op}_{read}", TensorProto.FLOAT, [2])
    return helper.make_graph([helper.make_node(op, [read], [out.name])], op, [], [out])


def test_producers_read_only_by_a_body_are_live_and_bodies_reading_different_values_stay_apart(tmp_path):
    f = TensorProto.FLOAT
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="only_read_by_bodies"),
        helper.make_node("Sigmoid", ["x"], ["b"], name="also_only_read_by_bodies"),
    ]
    for index, read in enumerate(("a", "b")):  # same op, attributes and inputs; different captures
        nodes.append(
            helper.make_node(
                "If",
                ["c"],
                [f"z{index}"],
                name=f"choose_{read}",
                then_branch=_branch("Identity", read),
                else_branch=_branch("Neg", read),
            )
        )
    nodes.append(helper.make_node("Add", ["z0", "z1"], ["y"], name="sum"))
    graph = helper.make_graph(
        nodes,
        "captures",
        [
            helper.make_tensor_value_info("x", f, [2]),
            helper.make_tensor_value_info("c", TensorProto.BOOL, []),
        ],
        [helper.make_tensor_value_info("y", f, [2])],
    )
    path = tmp_path / "captures.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    loaded = load_graph(path)
    assert loaded.nodes["choose_a"].captures == ("a",)
    canonicalise(loaded, DEFAULT_REWRITES)
    ops = sorted(node.op for node in loaded.nodes.values())
    assert ops == ["Add", "If", "If", "Relu", "Sigmoid"]
