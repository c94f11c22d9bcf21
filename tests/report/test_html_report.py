"""The HTML, JUnit, Markdown and text reports of `parity check` and `parity rcp check`, on real audits."""

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from cli_runner import EXAMPLES, check_args, parity


def report(capsys, tmp_path, model, candidate, rulebook, fmt, *extra):
    path = tmp_path / f"{candidate}-{rulebook}.{fmt}"
    code, out, err = parity(
        capsys, *check_args(model, candidate, rulebook), "--format", fmt, "--out", path, *extra
    )
    return code, path.read_text(encoding="utf-8"), out, err


def test_html_report_of_a_violation_shows_rule_reason_and_location_first(capsys, tmp_path):
    code, html, out, err = report(capsys, tmp_path, "cnn", "swapped_activation", "mlperf-inference", "html")
    assert code == 1 and out == "" and "violates; html report written to" in err
    assert "VIOLATES" in html and "MLPerf Inference" in html
    first_section = html.index('<section class="rule')
    assert html.index("forbidden", first_section) < html.index("</section>", first_section)
    first = html[first_section : html.index("</section>", first_section)]
    assert "inference.model.same-model" in first and "Why this rule exists" in first
    assert "relu_43" in first and "Relu → Sigmoid" in first
    # the violation comes before every unrelated detail: graph drawing, numbers and weights follow
    assert first_section < html.index('id="graph"') < html.index('id="numeric"') < html.index('id="weights"')


def test_html_report_draws_the_differing_region_with_both_sides(capsys, tmp_path):
    _, html, _, _ = report(capsys, tmp_path, "cnn", "swapped_activation", "mlperf-inference", "html")
    graph = html[html.index('id="graph"') : html.index('id="numeric"')]
    reference = re.search(r'class="node reference">.*?class="op">(\w+)<', graph, re.S)
    candidate = re.search(r'class="node candidate">.*?class="op">(\w+)<', graph, re.S)
    assert reference and candidate and (reference[1], candidate[1]) == ("Relu", "Sigmoid")
    assert 'class="node shared"' in graph and "marker-end" in graph  # matched neighbours, joined by edges


def test_html_report_is_self_contained(capsys, tmp_path):
    _, html, _, _ = report(capsys, tmp_path, "transformer", "removed_erf", "mlperf-training", "html")
    assert "<script" not in html.lower()
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', html)
    assert "<style>" in html and "<svg" in html


def test_html_report_plots_error_along_depth_and_marks_the_first_divergence(capsys, tmp_path):
    _, html, _, _ = report(capsys, tmp_path, "transformer", "removed_erf", "mlperf-training", "html")
    plot = html[html.index('id="divergence"') :]
    points = re.search(r'<polyline points="([^"]+)"', plot)[1].split()
    assert len(points) >= 2 and 'id="first-divergence"' in plot and "tolerance bound" in plot
    assert re.search(r"first outside tolerance: <code>\w+</code>", plot)


def test_html_report_draws_changes_a_rewrite_explained(capsys, tmp_path):
    _, html, _, _ = report(capsys, tmp_path, "cnn", "optimized", "mlperf-training", "html")
    graph = html[html.index('id="graph"') :]
    assert "graph.batchnorm_folded" in graph and "BatchNormalization" in graph and "Dropout" in graph


def test_junit_has_one_case_per_rule_and_fails_the_forbidden_one(capsys, tmp_path):
    code, xml, _, _ = report(capsys, tmp_path, "cnn", "swapped_activation", "mlperf-inference", "junit")
    root = ElementTree.fromstring(xml)
    suite = root.find("testsuite")
    assert root.tag == "testsuites" and root.get("failures") == suite.get("failures")
    cases = suite.findall("testcase")
    assert code == 1 and suite.tag == "testsuite" and int(suite.get("tests")) == len(cases) > 40
    failed = [case.get("name") for case in cases if case.find("failure") is not None]
    assert failed == ["inference.model.same-model"]
    assert int(suite.get("failures")) == 1 and int(suite.get("skipped")) == sum(
        case.find("skipped") is not None for case in cases
    )
    assert "relu_43" in suite.find("testcase/failure").text or "Relu" in suite.find("testcase/failure").text


def test_junit_of_a_conforming_candidate_has_no_failures(capsys, tmp_path):
    code, xml, _, _ = report(capsys, tmp_path, "cnn", "optimized", "mlperf-inference", "junit")
    suite = ElementTree.fromstring(xml).find("testsuite")
    assert code == 0 and suite.get("failures") == "0" and suite.findall("testcase")


@pytest.mark.parametrize(("fmt", "marker"), [("markdown", "| "), ("text", "violates"), ("json", '"verdict"')])
def test_every_format_can_be_written_to_a_file(capsys, tmp_path, fmt, marker):
    code, written, out, _ = report(capsys, tmp_path, "cnn", "swapped_activation", "mlperf-inference", fmt)
    assert code == 1 and out == "" and marker in written


def test_quiet_mode_writes_nothing_to_stderr(capsys, tmp_path):
    out = tmp_path / "r.xml"
    arguments = check_args("cnn", "optimized", "mlperf-inference")
    code, stdout, err = parity(capsys, "--quiet", *arguments, "-f", "junit", "-o", out)
    assert code == 0 and stdout == "" and err == "" and out.is_file()


def test_an_unwritable_report_path_is_a_one_line_error(capsys, tmp_path):
    arguments = check_args("cnn", "optimized", "mlperf-inference")
    code, _, err = parity(capsys, *arguments, "-f", "html", "-o", tmp_path / "missing" / "r.html")
    assert code == 3 and err.count("\n") == 1 and "r.html" in err and "cannot write" in err


def _mllog(key, value, **metadata):
    record = {
        "namespace": "",
        "time_ms": 1000,
        "event_type": "POINT",
        "key": key,
        "value": value,
        "metadata": {"file": "train.py", "lineno": 1, **metadata},
    }
    return ":::MLLOG " + json.dumps(record)


def _runs(folder, epochs_to_converge):
    """R-GAT runs (batch 4096) whose accuracy reaches the 0.72 target after the given epochs."""
    folder.mkdir(parents=True)
    for index, converged in enumerate(epochs_to_converge):
        lines = [_mllog("submission_benchmark", "rgat"), _mllog("global_batch_size", 4096)]
        for step in range(1, 5):
            lines.append(
                _mllog("eval_accuracy", 0.6 + 0.035 * step, epoch_num=round(converged * step / 4, 3))
            )
        lines.append(_mllog("run_stop", None, status="success"))
        (folder / f"result_{index}.txt").write_text("\n".join(lines) + "\n")
    return folder


def test_rcp_html_draws_quality_curves_and_the_rcp_test(capsys, tmp_path):
    folder = _runs(tmp_path / "fast", [0.4 + 0.01 * i for i in range(10)])  # the RCP needs ~0.8
    out = tmp_path / "rcp.html"
    code, _, _ = parity(capsys, "rcp", "check", folder, "--ruleset", "5.1.0", "-f", "html", "-o", out)
    html = out.read_text()
    assert code == 1 and "VIOLATES" in html and "convergence.faster_than_reference" in html
    assert html.count('class="run"') == 10 and "target" in html
    rcp = html[html.index('id="rcp"') :]
    assert "smallest accepted mean" in rcp and "submission mean" in rcp and "reference mean" in rcp
    assert rcp.count('fill="#999"') >= 10  # the reference runs of rgat_ref_4096


SINGLES = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "mlperf_logs" / "singles"


@pytest.mark.skipif(
    not SINGLES.is_dir(), reason="the shared corpus is beside the repository in CI and sessions"
)
def test_logs_junit_has_a_suite_per_log_failing_exactly_the_violating_logs(capsys, tmp_path):
    out = tmp_path / "logs.xml"
    code, stdout, _ = parity(capsys, "logs", "check", SINGLES, "-f", "junit", "-o", out)
    _, listing, _ = parity(capsys, "logs", "check", SINGLES, "-f", "json")
    verdicts = {Path(log["file"]).resolve(): log["verdict"] for log in json.loads(listing)["logs"]}
    root = ElementTree.fromstring(out.read_text())
    suites = {Path(suite.get("name")).resolve(): suite for suite in root.findall("testsuite")}
    assert code == 1 and stdout == "" and set(suites) == set(verdicts) and len(suites) >= 10
    for path, suite in suites.items():
        assert (int(suite.get("failures")) > 0) == (verdicts[path] == "violates"), path
        names = {case.get("name") for case in suite.findall("testcase")}
        assert "training.quality.target" in names and "training.graph.forward-graph" not in names


def test_hostile_names_in_a_model_are_escaped_in_the_html(capsys, tmp_path):
    import onnx

    model = onnx.load(EXAMPLES / "cnn" / "swapped_activation.onnx")
    hostile = '<img src=x onerror="alert(1)">'
    next(node for node in model.graph.node if node.name == "relu_43").name = hostile
    onnx.save(model, tmp_path / "hostile.onnx")
    out = tmp_path / "hostile.html"
    code, _, _ = parity(
        capsys,
        "check",
        "--reference",
        EXAMPLES / "cnn" / "reference.onnx",
        "--candidate",
        tmp_path / "hostile.onnx",
        "-r",
        "mlperf-inference",
        "-f",
        "html",
        "-o",
        out,
    )
    html = out.read_text()
    assert code == 1 and "<img" not in html and "&lt;img src=x onerror=" in html


@pytest.mark.parametrize(
    ("command", "fmt", "marker"),
    [
        ("logs", "text", "log(s) checked"),
        ("logs", "json", '"parity-logs"'),
        ("rcp", "text", "faster_than_reference"),
        ("rcp", "json", '"faster_than_reference"'),
    ],
)
def test_log_reports_can_be_written_to_a_file(capsys, tmp_path, command, fmt, marker):
    folder = _runs(tmp_path / "fast", [0.4 + 0.01 * i for i in range(5)])
    out = tmp_path / f"report.{fmt}"
    code, stdout, _ = parity(capsys, command, "check", folder, "--ruleset", "5.1.0", "-f", fmt, "-o", out)
    assert code != 0 and stdout == "" and marker in out.read_text()
