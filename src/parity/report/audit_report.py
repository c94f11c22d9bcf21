"""Reports of `parity audit`: one table per organisation (runs, failures, RCP, score), the findings by rule.

Text for a terminal, JSON for tools (``docs/json-format.md``), Markdown for a review thread and JUnit for
CI (HTML is :func:`parity.report.html.render_audit`). All read the audit's fields only, through
:func:`summary_row` and :func:`findings_by_rule`, so every format shows the same numbers.
"""

from __future__ import annotations

import os

from parity.errors import one_line
from parity.report.json_output import envelope
from parity.report.logs_report import other_method_payload


def _benchmark_row(benchmark) -> dict:
    rcp = benchmark.rcp
    failed = [os.path.basename(log.path) for log in benchmark.logs if log.verdict != "conforms"]
    return {
        "system": benchmark.folder.system,
        "benchmark": benchmark.folder.benchmark,
        "division": benchmark.division,
        "runs": len(benchmark.logs),
        "failed_runs": failed,
        "rcp": None
        if rcp is None
        else {
            "status": rcp.verdict.status,
            "message": rcp.verdict.message,
            "method": rcp.verdict.method,
            "other_method": other_method_payload(rcp.other),
        },
        "rcp_error": benchmark.rcp_error or None,
        "score_minutes": benchmark.score,
        "unnormalised_minutes": benchmark.raw_score,
        "normalisation": benchmark.normalisation,
        "logs": [
            {
                "file": log.path,
                "verdict": log.verdict,
                "minutes": log.minutes,
                "problems": [finding.to_json() for finding in log.problems],
            }
            for log in benchmark.logs
        ],
        **benchmark.judgement.to_json(),
    }


#: worst first
OUTCOME_ORDER = {"forbidden": 0, "needs_review": 1, "allowed": 2}
SUMMARY_HEADER = ("system", "benchmark", "runs", "failed", "RCP", "norm.", "score (min)", "verdict")
#: findings listed under one rule in Markdown (the JSON and HTML reports list them all)
MARKDOWN_FINDINGS_PER_RULE = 25


def summary_row(benchmark) -> tuple[str, ...]:
    """One benchmark folder's line of the summary table (:data:`SUMMARY_HEADER`)."""
    rcp = benchmark.rcp.verdict.status if benchmark.rcp is not None else (benchmark.rcp_error or "-")
    failed = sum(1 for log in benchmark.logs if log.verdict != "conforms")
    return (
        benchmark.folder.system,
        benchmark.folder.benchmark,
        str(len(benchmark.logs)),
        str(failed),
        rcp[:40],
        f"{benchmark.normalisation:.4g}",
        f"{benchmark.score:.3f}" if benchmark.score is not None else "-",
        benchmark.judgement.verdict.value,
    )


def _findings(audit):
    """Every finding of the audit as (organisation, benchmark folder or None, finding)."""
    for organisation in audit.organisations:
        name = organisation.organisation.name
        for finding in organisation.judgement.findings:
            yield name, None, finding
        for benchmark in organisation.benchmarks:
            label = f"{benchmark.folder.system}/{benchmark.folder.benchmark}"
            for finding in benchmark.judgement.findings:
                yield name, label, finding


def _where(finding) -> str:
    locations = finding.evidence.locations
    return (locations[0].file or locations[0].name) if locations else ""


def findings_by_rule(audit) -> list[dict]:
    """The audit's findings grouped by the rule that decided them, worst outcome first.

    Each group has the rule's id (None where the default polarity decided), title, reason, its worst
    outcome, and every finding with the organisation and folder it was seen in.
    """
    return group_by_rule(_findings(audit))


def group_by_rule(found) -> list[dict]:
    """(organisation, folder or None, finding) triples grouped as :func:`findings_by_rule` says."""
    groups: dict[str, dict] = {}
    for organisation, benchmark, finding in found:
        key = finding.rule or "default-polarity"
        group = groups.setdefault(
            key,
            {
                "rule": finding.rule,
                "title": finding.rule_title or "No rule names this: the default polarity decides",
                "rationale": finding.rationale or "",
                "outcome": finding.outcome,
                "findings": [],
            },
        )
        if OUTCOME_ORDER[finding.outcome] < OUTCOME_ORDER[group["outcome"]]:
            group["outcome"] = finding.outcome
        group["findings"].append(
            {
                "organisation": organisation,
                "benchmark": benchmark,
                "kind": finding.kind,
                "outcome": finding.outcome,
                "summary": finding.summary or finding.message,
                "where": _where(finding),
            }
        )
    return sorted(groups.values(), key=lambda g: (OUTCOME_ORDER[g["outcome"]], g["rule"] or ""))


def audit_payload(audit) -> dict:
    """The whole audit as JSON data."""
    return envelope(
        "audit",
        {
            "path": audit.path,
            "ruleset": audit.ruleset,
            "method": audit.method,
            "rulebook": audit.rulebook,
            "verdict": audit.verdict.value,
            "organisations": [
                {
                    "organisation": organisation.organisation.name,
                    "folder": str(organisation.organisation.path),
                    "verdict": organisation.verdict.value,
                    "findings": [finding.to_json() for finding in organisation.judgement.findings],
                    "benchmarks": [_benchmark_row(benchmark) for benchmark in organisation.benchmarks],
                }
                for organisation in audit.organisations
            ],
            "by_rule": [
                {
                    "rule": group["rule"],
                    "title": group["title"],
                    "outcome": group["outcome"],
                    "count": len(group["findings"]),
                }
                for group in findings_by_rule(audit)
            ],
        },
    )


def audit_text(audit) -> str:
    """A table per organisation and every finding that is not allowed, with its rule."""
    lines = [
        f"parity audit of {audit.path}: round {audit.ruleset}, {audit.rulebook}, statistics: {audit.method}"
    ]
    for organisation in audit.organisations:
        lines.append("")
        lines.append(f"{organisation.organisation.name}: {organisation.verdict.value}")
        rows = [SUMMARY_HEADER, *(printable_row(summary_row(b)) for b in organisation.benchmarks)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(SUMMARY_HEADER))]
        lines += [
            "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows
        ]
        problems = [f for f in organisation.judgement.findings if f.outcome != "allowed"]
        for benchmark in organisation.benchmarks:
            problems += [f for f in benchmark.judgement.findings if f.outcome != "allowed"]
        for finding in problems:
            rule = finding.rule or finding.basis
            lines.append(f"  {_where(finding)}: {finding.outcome} by {rule} [{finding.kind}]")
            lines.append(f"    {finding.summary}")
    lines.append("")
    lines.append(f"Verdict: {audit.verdict.value}")
    return text_lines(lines)


def printable_row(row: tuple[str, ...]) -> tuple[str, ...]:
    """A table row with each cell escaped (:func:`parity.errors.one_line`) before widths are measured."""
    return tuple(one_line(cell) for cell in row)


def text_lines(lines: list[str]) -> str:
    """The text report: each line escaped as a whole, so no value in it can act on a terminal.

    Folder names, log values and finding summaries reach the text reports inside the lines; escaping each
    line (:func:`parity.errors.one_line`) is the one place, for every value on it, in the audit reports.
    """
    return "".join(one_line(line) + "\n" for line in lines)


def audit_markdown(audit, book) -> str:
    """The audit for a review thread: the verdict, a table per organisation, the findings by rule."""
    from parity.report.markdown import cell

    lines = [
        f"## parity audit: **{audit.verdict.value}** (training round {audit.ruleset}, `{audit.rulebook}`)",
        "",
        f"{cell(audit.path)}; RCP statistics: {audit.method}.",
    ]
    for organisation in audit.organisations:
        lines += ["", f"### {cell(organisation.organisation.name)}: {organisation.verdict.value}", ""]
        lines.append("| " + " | ".join(SUMMARY_HEADER) + " |")
        lines.append("|" + "---|" * len(SUMMARY_HEADER))
        lines += [
            "| " + " | ".join(cell(value) for value in summary_row(b)) + " |" for b in organisation.benchmarks
        ]
    lines += rules_markdown(findings_by_rule(audit), book)
    return "\n".join(lines).rstrip() + "\n"


def rules_markdown(groups: list[dict], book) -> list[str]:
    """The "Findings by rule" section: each rule's statement, reason and findings (allowed ones counted)."""
    from parity.report.markdown import ICON, cell

    lines = ["", "### Findings by rule", ""]
    if not groups:
        lines.append("No findings.")
    for group in groups:
        if group["outcome"] == "allowed":
            continue
        rule = book.rules.get(group["rule"]) if group["rule"] else None
        name = f"`{group['rule']}`" if group["rule"] else "default polarity"
        lines += [
            f"#### {ICON[group['outcome']]} {name}: {cell(group['title'])} ({len(group['findings'])})",
            "",
        ]
        if rule is not None:
            source = ", ".join(x for x in (rule.source.section, rule.source.round) if x)
            lines.append(f"{cell(rule.statement)} *Why:* {cell(group['rationale'])} ({cell(source)})")
        else:
            lines.append(f"*Why:* {cell(book.default_rationale)}")
        lines.append("")
        shown = group["findings"][:MARKDOWN_FINDINGS_PER_RULE]
        for finding in shown:
            where = " ".join(x for x in (finding["organisation"], finding["benchmark"]) if x)
            lines.append(f"- {ICON[finding['outcome']]} {cell(where)}: {cell(finding['summary'])}")
        if len(group["findings"]) > len(shown):
            lines.append(
                f"- … and {len(group['findings']) - len(shown)} more (the JSON and HTML reports list all)"
            )
        lines.append("")
    allowed = sum(len(g["findings"]) for g in groups if g["outcome"] == "allowed")
    if allowed:
        lines.append(f"{allowed} finding(s) allowed by their rules are not listed.")
    return lines


def audit_junit(audit) -> str:
    """JUnit XML: a suite per organisation, a case per benchmark folder and one for systems and layout.

    A case with a forbidden finding fails; one that needs review is skipped with the reasons, which CI
    systems show without failing the build.
    """
    suites = [
        (
            organisation.organisation.name,
            [("systems and layout", organisation.judgement)]
            + [(f"{b.folder.system}/{b.folder.benchmark}", b.judgement) for b in organisation.benchmarks],
        )
        for organisation in audit.organisations
    ]
    return judgements_junit(f"parity audit {audit.ruleset}", suites)


def judgements_junit(title: str, suites: list[tuple[str, list]]) -> str:
    """JUnit XML of (suite name, [(case name, judgement)]): forbidden fails, needs review is skipped."""
    from parity.report.junit import element, serialised

    root = element(None, "testsuites", name=title)
    for name, cases in suites:
        suite = element(root, "testsuite", name=name, tests=str(len(cases)), errors="0")
        failures = skipped = 0
        for case_name, judgement in cases:
            case = element(suite, "testcase", classname=f"parity.audit.{name}", name=case_name)
            forbidden = [f for f in judgement.findings if f.outcome == "forbidden"]
            review = [f for f in judgement.findings if f.outcome == "needs_review"]
            if forbidden:
                failures += 1
                first = forbidden[0]
                lines = [
                    line
                    for f in forbidden
                    for line in (
                        f"{f.rule or 'default'} [{f.kind}] {_where(f)}: {f.summary}",
                        f"  why: {f.rationale or ''}",
                    )
                ]
                message = f"{first.rule or 'default'}: {first.summary}"[:2000]
                element(case, "failure", lines, type="forbidden", message=message)
            elif review:
                skipped += 1
                reasons = "; ".join(f"{f.rule or 'default'}: {f.summary}" for f in review)
                element(case, "skipped", message=f"needs review: {reasons}"[:2000])
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
    for attribute in ("tests", "failures", "skipped", "errors"):
        root.set(attribute, str(sum(int(suite.get(attribute, "0")) for suite in root)))
    return serialised(root)
