import pytest

from parity.observations import ChangeKind, all_kinds, expand_pattern, get_kind

REQUIRED_KINDS = [
    "graph.identity_removed",
    "graph.dropout_removed",
    "graph.dead_code_removed",
    "graph.constant_folded",
    "graph.common_subexpression_merged",
    "graph.ops_fused",
    "graph.ops_unfused",
    "graph.batchnorm_folded",
    "graph.layout_changed",
    "graph.equivalent_op_substituted",
    "graph.approximated",
    "graph.precision_changed",
    "graph.quantized",
    "graph.opset_changed",
    "graph.op_removed",
    "graph.op_added",
    "graph.op_changed",
    "graph.shape_changed",
    "weights.identical",
    "weights.rearranged",
    "weights.folded",
    "weights.precision_reduced",
    "weights.quantized",
    "weights.pruned",
    "weights.modified",
    "weights.replaced",
    "weights.reinitialised_same_distribution",
    "weights.distribution_changed",
    "numeric.outputs_match",
    "numeric.outputs_differ",
    "accuracy.below_target",
    "hparam.changed",
    "hparam.out_of_range",
    "log.event_missing",
    "log.quality_target_missed",
    "log.time_limit_exceeded",
    "log.seed_invalid",
    "convergence.faster_than_reference",
    "convergence.reference_missing",
]


@pytest.mark.parametrize("name", REQUIRED_KINDS)
def test_vocabulary_has_every_kind_later_work_relies_on(name):
    kind = get_kind(name)
    assert kind is not None
    assert kind.meaning.endswith(".") and len(kind.meaning) > 20


def test_only_sameness_kinds_are_not_differences():
    assert {name for name, kind in all_kinds().items() if not kind.difference} == {
        "weights.identical",
        "weights.recomputed",
        "numeric.outputs_match",
    }


def test_parents_are_defined_roots():
    for kind in all_kinds().values():
        if kind.parent:
            parent = get_kind(kind.parent)
            assert parent is not None and parent.parent is None
            assert parent.category == kind.category


def test_duplicate_and_malformed_kinds_are_rejected():
    with pytest.raises(ValueError, match="defined twice"):
        ChangeKind("graph.op_removed", "again")
    with pytest.raises(ValueError, match="category"):
        ChangeKind("nonsense.thing", "unknown category")
    with pytest.raises(ValueError, match="parent"):
        ChangeKind("graph.brand_new", "child of a child", parent="graph.dropout_removed")


def test_category_wildcards_expand_to_that_category_only():
    graph = expand_pattern("graph.*")
    assert "graph.batchnorm_folded" in graph and all(name.startswith("graph.") for name in graph)
    assert expand_pattern("weights.pruned") == ["weights.pruned"]
    assert expand_pattern("weights.nope") == [] and expand_pattern("nope.*") == []


def test_emit_sites_use_the_vocabulary_constants_not_string_literals():
    """A kind named by a literal can drift from the vocabulary unnoticed; a constant fails at import."""
    import ast
    from pathlib import Path

    import parity

    names = set(all_kinds())
    literals = []
    for path in Path(parity.__file__).parent.rglob("*.py"):
        if path.name == "kinds.py" and path.parent.name == "observations":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in names:
                literals.append(f"{path.name}:{node.lineno} {node.value}")
    assert not literals, literals


def test_a_kind_is_its_name_everywhere_a_string_goes():
    import json
    import pickle

    from parity.observations.kinds import OP_REMOVED

    assert OP_REMOVED == "graph.op_removed" and OP_REMOVED.name == "graph.op_removed"
    assert type(OP_REMOVED.name) is str and OP_REMOVED.category == "graph"
    assert json.dumps({OP_REMOVED: [OP_REMOVED]}) == '{"graph.op_removed": ["graph.op_removed"]}'
    assert pickle.loads(pickle.dumps(OP_REMOVED)) is OP_REMOVED  # across a process pool
    assert get_kind("graph.op_removed") is OP_REMOVED
