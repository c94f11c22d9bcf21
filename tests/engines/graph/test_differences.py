"""Removed, added and swapped operations are found and located at the right node."""

import pytest

from parity.engines.graph import compare_graphs
from parity.examples import models, mutations
from parity.ir import graph_from_model

CASES = [
    ("resnet", lambda m: mutations.remove_op(m, "Relu", 3), "graph.op_removed"),
    ("resnet", lambda m: mutations.swap_op(m, "Relu", "Sigmoid", 4), "graph.op_changed"),
    ("resnet", lambda m: mutations.add_op_after(m, "Add", "Tanh", 1), "graph.op_added"),
    ("inception", lambda m: mutations.swap_op(m, "MaxPool", "AveragePool", 1), "graph.op_changed"),
    ("inception", lambda m: mutations.remove_op(m, "Relu", 7), "graph.op_removed"),
    ("transformer", lambda m: mutations.swap_op(m, "Softmax", "Sigmoid"), "graph.op_changed"),
    ("transformer", lambda m: mutations.remove_op(m, "Erf"), "graph.op_removed"),
    ("transformer", lambda m: mutations.add_op_after(m, "Softmax", "Sigmoid"), "graph.op_added"),
]
BUILD = {"resnet": models.resnet, "inception": models.inception, "transformer": models.transformer_block}


@pytest.mark.parametrize(
    ("model", "mutate", "kind"), CASES, ids=[f"{m}-{k}-{i}" for i, (m, _, k) in enumerate(CASES)]
)
def test_difference_is_found_and_located(model, mutate, kind):
    reference = BUILD[model]()
    candidate, node = mutate(reference)
    result = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    structural = [
        o for o in result.observations if o.kind in ("graph.op_removed", "graph.op_added", "graph.op_changed")
    ]
    assert [o.kind for o in structural] == [kind]
    assert node in {location.name for location in structural[0].evidence.locations}
    assert len(structural[0].evidence.locations) <= 3
    assert structural[0].evidence.details["neighbours"]


def test_a_changed_weight_shape_is_a_shape_change():
    reference = models.resnet()
    candidate = models.resnet(width=12)
    result = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    assert "graph.shape_changed" in {o.kind for o in result.observations}


def test_a_batchnorm_dropped_without_folding_is_located_where_it_was():
    reference = models.resnet()
    candidate, node = mutations.remove_op(reference, "BatchNormalization", 2)
    result = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    folded = [o for o in result.observations if o.kind == "graph.batchnorm_folded"]
    assert len(folded) == 1 and folded[0].evidence.metrics["count"] == 1
    assert node in {location.name for location in folded[0].evidence.locations}
    assert len(folded[0].evidence.locations) == 2  # the conv and the batch norm it stood for


def test_a_relu_of_a_non_negative_value_is_a_no_op_not_an_added_operation():
    reference = models.transformer_block()
    candidate, node = mutations.add_op_after(reference, "Softmax", "Relu")
    result = compare_graphs(graph_from_model(reference), graph_from_model(candidate))
    assert [o.kind for o in result.observations] == ["graph.identity_removed"]
    assert result.observations[0].evidence.locations[0].name == node
