"""`parity check` end to end on the bundled example (real ONNX files in the repository)."""

import json

import pytest

from cli_runner import EXAMPLES, check_args, parity


def check(capsys, model, candidate, rulebook, *extra):
    return parity(capsys, *check_args(model, candidate, rulebook), *extra)


@pytest.mark.parametrize(
    ("model", "candidate", "rulebook", "verdict", "code"),
    [
        ("cnn", "optimized", "mlperf-inference", "conforms", 0),
        ("cnn", "optimized", "mlperf-training", "violates", 1),
        ("cnn", "fp16", "mlperf-training", "conforms", 0),
        ("cnn", "swapped_activation", "mlperf-inference", "violates", 1),
        ("transformer", "optimized", "mlperf-inference", "conforms", 0),
        ("transformer", "optimized", "mlperf-training", "conforms", 0),
        ("transformer", "removed_erf", "mlperf-inference", "violates", 1),
    ],
)
def test_bundled_example_verdicts(capsys, model, candidate, rulebook, verdict, code):
    got, out, _ = check(capsys, model, candidate, rulebook, "--format", "json")
    report = json.loads(out)
    assert got == code and report["verdict"] == verdict
    assert report["format"] == "parity-report" and report["rulebook"].startswith(rulebook)
    assert {"verdict", "rulebook", "findings", "observations", "correspondence"} <= report.keys()


def test_report_names_the_rule_and_location_of_a_violation(capsys):
    _, out, _ = check(capsys, "cnn", "swapped_activation", "mlperf-inference", "-f", "json")
    report = json.loads(out)
    forbidden = [f for f in report["findings"] if f["outcome"] == "forbidden"]
    assert [f["rule"] for f in forbidden] == ["inference.model.same-model"]
    assert "relu_43" in {loc["name"] for loc in forbidden[0]["evidence"]["locations"]}
    assert forbidden[0]["rationale"]


def test_training_violation_explains_batchnorm_folding_in_text(capsys):
    code, out, _ = check(capsys, "cnn", "optimized", "mlperf-training")
    assert code == 1
    assert "training.graph.batchnorm-folding" in out and "Why:" in out and "violates" in out


def test_markdown_report(capsys):
    code, out, _ = check(capsys, "cnn", "optimized", "mlperf-training", "-f", "markdown")
    assert code == 1 and out.startswith("## parity: **violates**") and "### Why these rules exist" in out


def test_saved_evidence_re_judges_without_running_anything(capsys, tmp_path):
    evidence = tmp_path / "evidence.json"
    code, _, _ = check(capsys, "cnn", "optimized", "mlperf-inference", "--save-evidence", evidence)
    assert code == 0 and json.loads(evidence.read_text())["format"] == "parity-evidence"
    code, out, _ = parity(capsys, "judge", evidence, "--rulebook", "mlperf-training", "-f", "json")
    assert code == 1 and json.loads(out)["verdict"] == "violates"


def test_check_json_is_deterministic(capsys):
    first = check(capsys, "transformer", "optimized", "mlperf-inference", "-f", "json")[1]
    second = check(capsys, "transformer", "optimized", "mlperf-inference", "-f", "json")[1]
    assert first == second


def test_bad_model_is_exit_3_naming_the_file(capsys, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    code, out, err = parity(
        capsys,
        "check",
        "--reference",
        EXAMPLES / "cnn" / "reference.onnx",
        "--candidate",
        bad,
        "--rulebook",
        "mlperf-inference",
    )
    assert code == 3 and out == "" and str(bad) in err and "Traceback" not in err and err.count("\n") == 1


def test_the_example_generator_reproduces_the_bundled_example(tmp_path):
    from parity.examples.build import build
    from parity.ir import load_graph

    written = build(tmp_path)
    for path in written:
        bundled = EXAMPLES / path.relative_to(tmp_path)
        assert bundled.exists()
        assert len(load_graph(path).nodes) == len(load_graph(bundled).nodes)


def test_a_model_the_graph_engine_cannot_analyse_is_for_a_reviewer_not_an_internal_error(capsys, monkeypatch):
    import parity.engines.graph as graph

    def fails(reference, candidate, *args, **kwargs):
        raise ValueError("the graph has a cycle")  # what a rewrite bug looked like on a real model

    monkeypatch.setattr(graph, "compare_graphs", fails)
    code, out, _ = check(capsys, "cnn", "optimized", "mlperf-inference", "--format", "json")
    report = json.loads(out)
    assert code == 2 and report["verdict"] == "needs_review"
    assert [f["kind"] for f in report["findings"]] == ["graph.not_analysed"]
