"""`parity audit` reports: one audit in text, JSON, Markdown, JUnit and HTML, all showing the same numbers."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from test_audit import CORPUS, SUMMARIZER_SCORES, _submission

from cli_runner import parity


@pytest.fixture
def violating(tmp_path):
    """9 runs of 10, each missing required events (violations), and an empty description field (review).

    It violates *and* needs review: the verdict must be the worse, violates (exit 1), in every format.
    """
    from test_audit import DESCRIPTION

    organisation, _ = _submission(tmp_path, runs=9, description={**DESCRIPTION, "cooling": ""})
    return organisation


def _report(capsys, path, format, *more):
    code, out, err = parity(capsys, "audit", path, "-f", format, "--jobs", "1", *more)
    assert code == 1, err
    return out


def test_json_names_the_audited_path_and_counts_findings_by_rule(capsys, violating):
    report = json.loads(_report(capsys, violating, "json"))
    assert report["path"] == str(violating)  # not a system description's path
    by_rule = {group["rule"]: group for group in report["by_rule"]}
    assert by_rule["training.submission.run-count"]["outcome"] == "forbidden"
    assert by_rule["training.submission.system-values"]["outcome"] == "needs_review"
    assert report["by_rule"][0]["outcome"] == "forbidden"  # worst first
    assert report["verdict"] == "violates"


def test_markdown_has_the_summary_table_and_each_rule_with_its_reason(capsys, violating):
    text = _report(capsys, violating, "markdown")
    assert text.startswith("## parity audit: **violates**")
    assert "| system | benchmark | runs | failed | RCP | norm. | score (min) | verdict |" in text
    assert "| acme_box | flux1 | 9 | 9 |" in text
    rule = text[text.index("`training.submission.run-count`") :]
    assert rule.startswith("`training.submission.run-count`") and "*Why:*" in rule.split("####")[0]
    assert "❌ Acme acme_box/flux1: flux1: 9 result logs, the benchmark requires 10" in text


def test_junit_fails_the_violating_folder_and_skips_what_needs_review(capsys, violating):
    root = ElementTree.fromstring(_report(capsys, violating, "junit").encode())
    [suite] = root.findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"systems and layout", "acme_box/flux1"}
    failure = cases["acme_box/flux1"].find("failure")
    assert failure is not None and "training.submission.run-count" in failure.get("message")
    assert "why:" in failure.text
    assert cases["systems and layout"].find("skipped") is not None
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("2", "1", "1")


class _Balance(HTMLParser):
    VOID = {"meta", "br", "circle", "line", "rect", "polyline", "img", "hr"}

    def __init__(self):
        super().__init__()
        self.open, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag not in self.VOID and (not self.open or self.open.pop() != tag):
            self.errors.append(tag)


def test_html_shows_results_findings_by_rule_and_the_convergence_pictures(capsys, violating, tmp_path):
    page = tmp_path / "audit.html"
    code, _, _ = parity(capsys, "audit", violating, "-f", "html", "--out", page, "--jobs", "1")
    html = page.read_text()
    assert code == 1 and html.startswith("<!doctype html>")
    assert 'class="banner violates"' in html and "<td>flux1</td>" in html
    findings = html[html.index('id="findings"') : html.index('id="convergence"')]
    assert findings.index("training.submission.run-count") < findings.index(
        "training.submission.system-values"
    )
    assert findings.count("Why this rule exists") == 3  # run count, failed runs, system values
    convergence = html[html.index('id="convergence"') :]
    assert "Reference convergence points" in convergence and convergence.count("<svg") == 2
    checker = _Balance()
    checker.feed(html)
    assert checker.errors == [] and checker.open == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs the corpus")
def test_every_format_shows_result_summarizers_score(capsys):
    for format in ("text", "markdown", "html"):
        _, out, _ = parity(capsys, "audit", CORPUS / "v5.1" / "Dell", "-f", format, "--jobs", "1")
        assert f"{SUMMARIZER_SCORES['Dell']:.3f}" in out, format


def test_each_phase_is_announced_with_its_total_and_every_step_reported(tmp_path):
    from parity.audit.submission import audit_submission

    organisation, _ = _submission(tmp_path)
    seen: dict[str, list] = {}

    def start(name, total):
        seen[name] = [total, 0]

        def advance(_step=""):
            seen[name][1] += 1

        return advance

    audit_submission(organisation, None, "rules", 1, start)
    assert seen == {
        "walking the submission": [1, 1],
        "reading system descriptions": [1, 1],
        "auditing benchmark folders": [1, 1],
    }
