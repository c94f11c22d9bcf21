"""Real optimisers and converters are recognised as equivalent modulo the listed rewrites."""

import pytest

from model_variants import REFERENCES, VARIANTS
from parity.engines.graph import compare_graphs
from parity.ir import load_graph

STRUCTURAL = {"graph.op_removed", "graph.op_added", "graph.op_changed", "graph.shape_changed"}

#: change kinds each tool must be seen making (beyond which it may make others)
EXPECTED = {
    ("resnet", "ort_basic"): {"graph.batchnorm_folded", "graph.dropout_removed"},
    ("resnet", "ort_extended"): {"graph.batchnorm_folded", "graph.ops_fused"},
    ("resnet", "ort_all"): {"graph.batchnorm_folded", "graph.ops_fused", "graph.layout_changed"},
    ("resnet", "onnxsim"): {"graph.batchnorm_folded", "graph.dropout_removed"},
    ("resnet", "onnxslim"): {"graph.batchnorm_folded"},
    ("inception", "ort_extended"): {"graph.batchnorm_folded", "graph.ops_fused"},
    ("transformer", "ort_basic"): {"graph.equivalent_op_substituted"},
    ("transformer", "ort_extended"): {"graph.ops_fused", "graph.equivalent_op_substituted"},
    ("transformer", "onnxsim"): {"graph.ops_fused"},
    ("transformer", "onnxslim"): {"graph.equivalent_op_substituted"},
}
CASES = [(model, variant) for model in REFERENCES for variant in VARIANTS if variant != "reference"]


@pytest.mark.parametrize(("model", "variant"), CASES, ids=[f"{m}-{v}" for m, v in CASES])
def test_tool_output_matches_the_reference_completely(variants, model, variant):
    reference = load_graph(variants[(model, "reference")])
    candidate = load_graph(variants[(model, variant)])
    result = compare_graphs(reference, candidate)
    kinds = {observation.kind for observation in result.observations}
    assert result.correspondence.complete, (
        result.correspondence.unmatched_reference,
        result.correspondence.unmatched_candidate,
    )
    assert not kinds & STRUCTURAL
    assert EXPECTED.get((model, variant), set()) <= kinds
    if variant == "opset21":
        assert kinds == {"graph.opset_changed"}
    if variant == "renamed":
        assert kinds == set()
    if variant.startswith("int8"):
        assert "graph.quantized" in kinds and kinds <= {
            "graph.quantized",
            "graph.precision_changed",
            "graph.batchnorm_folded",
            "graph.dropout_removed",
            "graph.equivalent_op_substituted",
            "graph.ops_fused",
        }
    if variant == "fp16":
        formats = {
            o.evidence.details.get("format")
            for o in result.observations
            if o.kind == "graph.precision_changed"
        }
        assert "fp16" in formats and kinds == {"graph.precision_changed"}


def test_reference_against_itself_has_no_observations(variants):
    for model in REFERENCES:
        path = variants[(model, "reference")]
        result = compare_graphs(load_graph(path), load_graph(path))
        assert result.observations == [] and result.correspondence.complete


def test_correspondence_maps_original_names_across_renaming(variants):
    result = compare_graphs(
        load_graph(variants[("resnet", "reference")]), load_graph(variants[("resnet", "renamed")])
    )
    pairs = dict((left[0], right[0]) for left, right in result.node_pairs())
    assert pairs["conv_2"] == "n_t0" and pairs["relu_8"].startswith("n_t")
    assert len(result.node_pairs()) == len(result.reference.nodes) == len(result.candidate.nodes)
