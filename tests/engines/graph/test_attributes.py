"""Attributes are part of the function (issue 27, item 4): a changed epsilon, approximation mode or top-k
is named as an attribute, with both values, whatever the numerics say; defaults and fusions are no change.

Models are real torch exports (the TorchScript exporter) or built with onnx.helper, optimised by real
onnxruntime, and audited by `parity check` as a user runs it.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_runner import check_json

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

INFERENCE, TRAINING = "mlperf-inference-v6.1", "mlperf-training-v6.0"


class Block(torch.nn.Module):
    """Linear → (residual) LayerNorm → GELU → Linear."""

    def __init__(self, eps: float = 1e-5, approximate: str = "none", residual: bool = False):
        super().__init__()
        self.fc = torch.nn.Linear(16, 16)
        self.ln = torch.nn.LayerNorm(16, eps=eps)
        self.act = torch.nn.GELU(approximate=approximate)
        self.out = torch.nn.Linear(16, 8)
        self.residual = residual

    def forward(self, x):
        h = self.fc(x)
        return self.out(self.act(self.ln(x + h if self.residual else h)))


def _export(path, opset: int, **options) -> str:
    torch.manual_seed(0)  # the same weights for every variant: only the attribute differs
    module = Block(**options).eval()
    torch.onnx.export(
        module,
        (torch.randn(2, 16),),
        str(path),
        opset_version=opset,
        input_names=["x"],
        output_names=["y"],
        dynamo=False,
    )
    return str(path)


def _ort_extended(source: str, path) -> str:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(path)
    ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    return str(path)


def _helper_model(
    path, nodes, params: dict[str, np.ndarray], opset: int = 20, domains=(), shape=(2, 8)
) -> str:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(value, name) for name, value in params.items()],
    )
    imports = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, 1) for d in domains)]
    model = helper.make_model(graph, opset_imports=imports)
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attributes")
    rng = np.random.default_rng(0)
    norm = {
        "g": rng.standard_normal(8).astype(np.float32),
        "b": rng.standard_normal(8).astype(np.float32),
    }
    residual = {**norm, "r": rng.standard_normal((2, 8)).astype(np.float32)}
    found = {
        "ln": _export(folder / "ln.onnx", 17),
        "ln_eps": _export(folder / "ln_eps.onnx", 17, eps=1e-6),
        "ln14": _export(folder / "ln14.onnx", 14),
        "ln14_eps": _export(folder / "ln14_eps.onnx", 14, eps=1e-6),
        "gelu": _export(folder / "gelu.onnx", 20),
        "gelu17": _export(folder / "gelu17.onnx", 17),
        "gelu17_tanh": _export(folder / "gelu17_tanh.onnx", 17, approximate="tanh"),
        "gelu_tanh": _export(folder / "gelu_tanh.onnx", 20, approximate="tanh"),
        "res": _export(folder / "res.onnx", 17, residual=True),
        "res_eps": _export(folder / "res_eps.onnx", 17, residual=True, eps=1e-6),
        "omitted": _helper_model(
            folder / "omitted.onnx",
            [
                helper.make_node("LayerNormalization", ["x", "g", "b"], ["h"]),
                helper.make_node("Gelu", ["h"], ["y"]),
            ],
            norm,
        ),
        "explicit": _helper_model(
            folder / "explicit.onnx",
            [
                helper.make_node("LayerNormalization", ["x", "g", "b"], ["h"], epsilon=1e-5, axis=-1),
                helper.make_node("Gelu", ["h"], ["y"], approximate="none"),
            ],
            norm,
        ),
    }
    found["res_ort"] = _ort_extended(found["res"], folder / "res_ort.onnx")
    found["res_eps_ort"] = _ort_extended(found["res_eps"], folder / "res_eps_ort.onnx")
    for name, eps in (("skip", 1e-5), ("skip_eps", 1e-6)):
        found[name] = _helper_model(
            folder / f"{name}.onnx",
            [
                helper.make_node(
                    "SkipLayerNormalization",
                    ["x", "r", "g", "b"],
                    ["y"],
                    domain="com.microsoft",
                    epsilon=eps,
                )
            ],
            residual,
            opset=17,
            domains=("com.microsoft",),
        )
    found["unfused"] = _helper_model(
        folder / "unfused.onnx",
        [
            helper.make_node("Add", ["x", "r"], ["s"]),
            helper.make_node("LayerNormalization", ["s", "g", "b"], ["y"]),
        ],
        residual,
        opset=17,
    )
    for name, axes in (("mean_last", [-1]), ("mean_1", [1])):
        found[name] = _helper_model(
            folder / f"{name}.onnx",
            [
                helper.make_node("Relu", ["x"], ["r"]),
                helper.make_node("ReduceMean", ["r"], ["m"], axes=axes, keepdims=1),
                helper.make_node("Sigmoid", ["m"], ["y"]),
            ],
            {},
            opset=17,
            shape=(2, 1),
        )
    for name, k in (("topk2", 2), ("topk1", 1)):
        found[name] = _helper_model(
            folder / f"{name}.onnx",
            [
                helper.make_node("TopK", ["x", "k"], ["v", "i"]),
                helper.make_node("ReduceSum", ["v"], ["y"], keepdims=1),
            ],
            {"k": np.array([k], dtype=np.int64)},
            opset=17,
            shape=(1, 1),
        )
    return found


def _check(capsys, reference: str, candidate: str, rulebook: str) -> dict:
    return check_json(capsys, reference, candidate, rulebook)[1]


def _attribute_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["kind"] == "graph.attribute_changed"]


@pytest.mark.parametrize(
    ("rulebook", "verdict", "outcome", "rule"),
    [
        (INFERENCE, "conforms", "allowed", "inference.equivalence.approximation-attributes"),
        (TRAINING, "violates", "forbidden", "training.graph.attributes"),
    ],
)
def test_a_changed_layernorm_epsilon_is_named_with_both_values(
    capsys, models, rulebook, verdict, outcome, rule
):
    report = _check(capsys, models["ln"], models["ln_eps"], rulebook)
    assert report["verdict"] == verdict
    (finding,) = _attribute_findings(report)
    assert (finding["outcome"], finding["rule"]) == (outcome, rule)
    details = finding["evidence"]["details"]
    assert (details["op"], details["attribute"], details["effect"]) == (
        "LayerNormalization",
        "epsilon",
        "approximation",
    )
    assert details["reference_value"] == pytest.approx(1e-5)
    assert details["candidate_value"] == pytest.approx(1e-6)
    assert "epsilon 1e-05 → 1e-06" in finding["summary"]
    assert "LayerNormalization" in finding["summary"]


@pytest.mark.parametrize(
    ("rulebook", "verdict", "outcome"),
    [(INFERENCE, "conforms", "allowed"), (TRAINING, "violates", "forbidden")],
)
def test_gelu_with_the_tanh_approximation_is_an_attribute_not_a_replaced_weight(
    capsys, models, rulebook, verdict, outcome
):
    report = _check(capsys, models["gelu"], models["gelu_tanh"], rulebook)
    assert report["verdict"] == verdict
    (finding,) = _attribute_findings(report)
    assert finding["outcome"] == outcome
    details = finding["evidence"]["details"]
    assert (details["op"], details["attribute"]) == ("Gelu", "approximate")
    assert (details["reference_value"], details["candidate_value"]) == ("none", "tanh")
    assert not [
        f for f in report["findings"] if f["kind"].startswith("weights.") and f["outcome"] != "allowed"
    ]
    assert not [f for f in report["findings"] if f["kind"] in ("graph.op_changed", "graph.region_equivalent")]


@pytest.mark.parametrize("rulebook", [INFERENCE, TRAINING])
@pytest.mark.parametrize(
    ("reference", "candidate"),
    [
        ("omitted", "explicit"),
        ("res", "res_ort"),
        ("unfused", "skip"),
        ("skip", "unfused"),
        ("mean_last", "mean_1"),
    ],
)
def test_defaults_written_out_and_fusions_that_move_an_epsilon_are_no_attribute_change(
    capsys, models, rulebook, reference, candidate
):
    report = _check(capsys, models[reference], models[candidate], rulebook)
    assert not _attribute_findings(report)
    assert report["verdict"] == "conforms", [f["summary"] for f in report["findings"]]


@pytest.mark.parametrize(
    ("reference", "candidate"), [("res", "res_eps_ort"), ("unfused", "skip_eps"), ("skip", "skip_eps")]
)
def test_a_changed_epsilon_is_seen_through_fusions(capsys, models, reference, candidate):
    for rulebook, verdict in ((INFERENCE, "conforms"), (TRAINING, "violates")):
        report = _check(capsys, models[reference], models[candidate], rulebook)
        assert report["verdict"] == verdict
        (finding,) = _attribute_findings(report)
        details = finding["evidence"]["details"]
        assert details["attribute"] == "epsilon"
        assert details["candidate_value"] == pytest.approx(1e-6)


def test_a_changed_top_k_changes_the_function_and_violates_under_both_suites(capsys, models):
    for rulebook in (INFERENCE, TRAINING):
        report = _check(capsys, models["topk2"], models["topk1"], rulebook)
        assert report["verdict"] == "violates"
        (finding,) = _attribute_findings(report)
        assert finding["outcome"] == "forbidden"
        details = finding["evidence"]["details"]
        assert (details["op"], details["attribute"], details["effect"]) == ("TopK", "k", "function")
        assert (details["reference_value"], details["candidate_value"]) == ([2], [1])


@pytest.mark.parametrize(
    ("reference", "candidate", "before", "after"),
    [("gelu17", "gelu17_tanh", "none", "tanh"), ("gelu17_tanh", "gelu17", "tanh", "none")],
)
def test_gelu_written_as_arithmetic_is_recognised_as_its_tanh_approximation(
    capsys, models, reference, candidate, before, after
):
    """Before opset 20 exporters write GELU as Erf or Tanh arithmetic: still the attribute, not a change."""
    for rulebook, verdict in ((INFERENCE, "conforms"), (TRAINING, "violates")):
        report = _check(capsys, models[reference], models[candidate], rulebook)
        assert report["verdict"] == verdict
        (finding,) = _attribute_findings(report)
        details = finding["evidence"]["details"]
        assert (details["op"], details["attribute"], details["effect"]) == (
            "Gelu",
            "approximate",
            "approximation",
        )
        assert (details["reference_value"], details["candidate_value"]) == (before, after)
        assert f"approximate {before} → {after}" in finding["summary"]
        assert not [f for f in report["findings"] if f["kind"] == "graph.op_changed"]
        assert not [f for f in report["findings"] if f["kind"] == "weights.replaced"]


def test_other_differing_functions_are_no_known_approximation():
    import sympy

    from parity.engines.graph.approximations import recognise

    x = sympy.Symbol("in0", real=True)
    assert recognise(sympy.erf(x / sympy.sqrt(2)), sympy.tanh(x)) is None
    assert recognise(sympy.erf(x / sympy.sqrt(2)), sympy.erf(x)) is None
    assert recognise(sympy.erf(x), sympy.erf(x) + 1) is None
    tanh_form = sympy.tanh(sympy.sqrt(2 / sympy.pi) * (x + sympy.Rational(44715, 1000000) * x**3))
    assert recognise(x * (1 + sympy.erf(x / sympy.sqrt(2))) / 2, x * (1 + tanh_form) / 2) == {
        "op": "Gelu",
        "attribute": "approximate",
        "reference_value": "none",
        "candidate_value": "tanh",
    }


def test_an_epsilon_written_as_a_constant_is_the_attribute_not_a_replaced_weight(capsys, models):
    """Before opset 17 LayerNorm is arithmetic, its epsilon a constant added to the variance."""
    for rulebook, verdict, outcome in (
        (INFERENCE, "conforms", "allowed"),
        (TRAINING, "violates", "forbidden"),
    ):
        report = _check(capsys, models["ln14"], models["ln14_eps"], rulebook)
        assert report["verdict"] == verdict
        (finding,) = _attribute_findings(report)
        assert finding["outcome"] == outcome
        details = finding["evidence"]["details"]
        assert (details["attribute"], details["effect"]) == ("epsilon", "approximation")
        assert details["reference_value"] == pytest.approx(1e-5)
        assert details["candidate_value"] == pytest.approx(1e-6)
        assert not [
            f for f in report["findings"] if f["kind"].startswith("weights.") and f["outcome"] != "allowed"
        ]
        same = _check(capsys, models["ln14"], models["ln14"], rulebook)
        assert same["verdict"] == "conforms" and not _attribute_findings(same)


def test_an_epsilon_constant_stored_in_fp16_by_a_converter_is_the_same_epsilon(capsys, models, tmp_path):
    float16 = pytest.importorskip("onnxconverter_common.float16")
    for name in ("ln14", "ln14_eps"):
        converted = float16.convert_float_to_float16(onnx.load(models[name]), keep_io_types=True)
        onnx.save(converted, str(tmp_path / f"{name}_fp16.onnx"))
    for rulebook in (INFERENCE, TRAINING):
        same = _check(capsys, models["ln14"], str(tmp_path / "ln14_fp16.onnx"), rulebook)
        assert same["verdict"] == "conforms" and not _attribute_findings(same)
    changed = _check(capsys, models["ln14"], str(tmp_path / "ln14_eps_fp16.onnx"), TRAINING)
    assert changed["verdict"] == "violates"
    assert _attribute_findings(changed)[0]["evidence"]["details"]["attribute"] == "epsilon"
