"""The HTML report opened by a real browser: headless Chromium loads it from the file system.

CI installs Debian's `chromium` and sets PARITY_REQUIRE_BROWSER=1, so there a missing browser fails
instead of skipping. Screenshots go to PARITY_SCREENSHOT_DIR when it is set (the README's is made so).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)
REQUIRED = os.environ.get("PARITY_REQUIRE_BROWSER") == "1"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not REQUIRED, reason="no chromium on this machine (CI installs it)"
)


def headless(page: Path, *arguments: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "PARITY_REQUIRE_BROWSER=1 but chromium is not installed"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    return subprocess.run(
        [*command, *arguments, page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    )


def console_messages(stderr: str) -> list[str]:
    """Messages the page wrote to the console, or errors loading it (Chromium logs both as CONSOLE)."""
    return re.findall(r"CONSOLE[^\]]*\] (.*)", stderr)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from parity.cli.main import run; run()",
            "--quiet",
            "demo",
            "--out",
            str(folder),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder


def test_chromium_renders_the_violation_its_rule_and_the_graph_difference(reports):
    rendered = headless(reports / "inference-swapped.html", "--dump-dom")
    dom = rendered.stdout
    assert "VIOLATES" in dom and "inference.model.same-model" in dom and "Why this rule exists" in dom
    assert re.search(r'class="node reference">.*?Relu', dom, re.S)
    assert re.search(r'class="node candidate">.*?Sigmoid', dom, re.S)
    assert console_messages(rendered.stderr) == []


def test_console_errors_would_be_seen(tmp_path):
    """The control for the test above: a page that logs an error is caught."""
    page = tmp_path / "noisy.html"
    page.write_text('<p>x</p><script>console.error("broken report")</script>')
    assert any("broken report" in line for line in console_messages(headless(page, "--dump-dom").stderr))


@pytest.mark.parametrize("report", ["inference-swapped.html", "training-optimized.html"])
def test_screenshot_of_the_report(reports, tmp_path, report):
    target = Path(os.environ.get("PARITY_SCREENSHOT_DIR") or tmp_path) / report.replace(".html", ".png")
    target.parent.mkdir(parents=True, exist_ok=True)
    headless(reports / report, f"--screenshot={target}", "--window-size=1200,1400", "--hide-scrollbars")
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page is a few kilobytes


def test_chromium_renders_the_audit_report_with_its_tables_rules_and_pictures(tmp_path):
    import json

    from mllog_files import flux_runs
    from parity.audit.systems import REQUIRED_FIELDS

    organisation = tmp_path / "v5.1" / "Acme"
    (organisation / "systems").mkdir(parents=True)
    description = {**dict.fromkeys(REQUIRED_FIELDS, "x"), "submitter": "Acme", "status": "Available cloud"}
    (organisation / "systems" / "box.json").write_text(json.dumps({**description, "division": "closed"}))
    flux_runs(organisation / "results" / "box" / "flux1", count=9)
    page = tmp_path / "audit.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parity",
            "--quiet",
            "audit",
            str(organisation),
            "-f",
            "html",
            "--out",
            str(page),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    rendered = headless(page, "--dump-dom")
    dom = rendered.stdout
    assert "VIOLATES" in dom and "Findings, by rule" in dom and "training.submission.run-count" in dom
    assert "Why this rule exists" in dom and "Reference convergence points" in dom and "<svg" in dom
    assert console_messages(rendered.stderr) == []
    target = Path(os.environ.get("PARITY_SCREENSHOT_DIR") or tmp_path) / "audit.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    headless(page, f"--screenshot={target}", "--window-size=1200,1400", "--hide-scrollbars")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chromium_renders_the_inference_audit_with_its_results_and_the_rule_of_a_finding(tmp_path):
    import shutil

    fixture = Path(__file__).resolve().parents[1] / "data" / "inference" / "v5.1" / "closed"
    tree = tmp_path / "v5.1" / "closed"
    shutil.copytree(fixture, tree)
    run = next(tree.rglob("Offline/TEST04/performance/run_1"))
    for name, old, new in (
        ("mlperf_log_detail.txt", '"value": 34.2113', '"value": 934.2113'),
        ("mlperf_log_summary.txt", "Samples per second: ", "Samples per second: 9"),
    ):  # far faster, in the record and its copy
        text = (run / name).read_text()
        assert old in text
        (run / name).write_text(text.replace(old, new, 1))
    page = tmp_path / "inference.html"
    subprocess.run(
        [sys.executable, "-m", "parity", "--quiet", "audit", str(tree), "-f", "html", "-o", str(page)],
        capture_output=True,
        timeout=300,
    )
    rendered = headless(page, "--dump-dom")
    dom = rendered.stdout
    assert "VIOLATES" in dom and "inference.audit.compliance-passes" in dom and "Why this rule exists" in dom
    assert "llama2-70b-99" in dom and "tokens/s" in dom and "TEST06 passed" in dom
    assert console_messages(rendered.stderr) == []


def test_chromium_renders_the_impact_brief_with_its_table_charts_and_examples(tmp_path):
    page = tmp_path / "brief.html"
    subprocess.run(
        [sys.executable, "-m", "parity", "--quiet", "rules", "impact", "-r", "mlperf-training",
         "-r", "mlperf-inference", "-f", "html", "-o", str(page)],
        capture_output=True,
        timeout=300,
        check=True,
    )  # fmt: skip
    rendered = headless(page, "--dump-dom")
    dom = rendered.stdout
    assert "Switches per scenario" in dom and "<svg" in dom and "One worked example per switch class" in dom
    assert "training.graph.batchnorm-folding" in dom and "inference.equivalence.fusion" in dom
    assert console_messages(rendered.stderr) == []
