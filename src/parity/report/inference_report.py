"""Reports of `parity audit` on an inference submission: a table per organisation, the findings by rule.

One row per result (system, model, scenario): the metric and its unit, LoadGen's validity, the accuracy
against its target, each compliance test's recomputed status and the verdict. Text, JSON, Markdown and
JUnit here, HTML through ``inference_audit.html.j2``; all read :func:`result_row` and the grouped findings,
so every format shows the same numbers.
"""

from __future__ import annotations

from parity.report.audit_report import (
    group_by_rule,
    judgements_junit,
    printable_row,
    rules_markdown,
    text_lines,
)
from parity.report.json_output import envelope

HEADER = ("system", "model", "scenario", "result", "valid", "accuracy (target)", "compliance", "verdict")


def _accuracy(row) -> str:
    parts = []
    for entry in row.accuracy:
        bound = f" (≥{entry['target']:.6g})" if "target" in entry else ""
        if "limit" in entry:
            bound = f"{bound[:-1]}, ≤{entry['limit']:.6g})" if bound else f" (≤{entry['limit']:.6g})"
        parts.append(f"{entry['metric']} {entry['value']:.6g}{bound}")
    return "; ".join(parts) or "-"


def result_row(result) -> tuple[str, ...]:
    """One result's line of the summary table (:data:`HEADER`)."""
    row = result.check.row
    metric = f"{row.metric:.6g} {row.unit}" if row.metric is not None else "-"
    valid = "-" if row.valid is None else ("VALID" if row.valid else "INVALID")
    compliance = ", ".join(f"{test} {status}" for test, status in row.compliance.items()) or "-"
    return (
        row.system,
        row.model,
        row.scenario,
        metric,
        valid,
        _accuracy(row),
        compliance,
        result.verdict.value,
    )


def _findings(audit):
    for organisation in audit.organisations:
        name = organisation.organisation.name
        for finding in organisation.judgement.findings:
            yield name, None, finding
        for result in organisation.results:
            label = f"{result.check.row.system}/{result.check.row.model}/{result.check.row.scenario}"
            for finding in result.judgement.findings:
                yield name, label, finding


def inference_findings_by_rule(audit) -> list[dict]:
    """The audit's findings grouped by rule, worst first (``audit_report.group_by_rule``)."""
    return group_by_rule(_findings(audit))


def inference_payload(audit) -> dict:
    """The whole audit as JSON data."""
    return envelope(
        "inference-audit",
        {
            "path": audit.path,
            "round": audit.round,
            "rulebook": audit.rulebook,
            "verdict": audit.verdict.value,
            "organisations": [
                {
                    "organisation": organisation.organisation.name,
                    "division": organisation.organisation.division,
                    "folder": str(organisation.organisation.path),
                    "verdict": organisation.verdict.value,
                    "findings": [finding.to_json() for finding in organisation.judgement.findings],
                    "results": [
                        {
                            **result.check.row.to_json(),
                            "folder": str(result.check.paths.path),
                            **result.judgement.to_json(),
                        }
                        for result in organisation.results
                    ],
                }
                for organisation in audit.organisations
            ],
            "by_rule": [
                {"rule": g["rule"], "title": g["title"], "outcome": g["outcome"], "count": len(g["findings"])}
                for g in inference_findings_by_rule(audit)
            ],
        },
    )


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    rows = [HEADER, *(printable_row(row) for row in rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def inference_text(audit) -> str:
    """A table per organisation and every finding that is not allowed, with its rule and location."""
    lines = [f"parity audit of {audit.path}: inference round {audit.round}, {audit.rulebook}"]
    for organisation in audit.organisations:
        lines += [
            "",
            f"{organisation.organisation.name} ({organisation.organisation.division}): "
            f"{organisation.verdict.value}",
        ]
        lines += _table([result_row(r) for r in organisation.results])
        judgements = [organisation.judgement, *(r.judgement for r in organisation.results)]
        for finding in (f for j in judgements for f in j.findings if f.outcome != "allowed"):
            lines.append(
                f"  {_located(finding)}: {finding.outcome} by {finding.rule or finding.basis} "
                f"[{finding.kind}]"
            )
            lines.append(f"    {finding.summary}")
        for result in organisation.results:
            lines += [
                f"  note: {'/'.join(result_row(result)[:3])}: {note}" for note in result.check.row.notes
            ]
    counts = _counts(audit)
    lines += [
        "",
        f"{counts['results']} results: " + ", ".join(f"{v} {k}" for k, v in counts.items() if k != "results"),
    ]
    lines.append(f"Verdict: {audit.verdict.value}")
    return text_lines(lines)


def _located(finding) -> str:
    locations = finding.evidence.locations
    if not locations:
        return ""
    first = locations[0]
    return f"{first.file}:{first.line}" if first.file and first.line else (first.file or first.name)


def _counts(audit) -> dict[str, int]:
    counts = {"results": 0, "conforms": 0, "needs_review": 0, "violates": 0}
    for organisation in audit.organisations:
        for result in organisation.results:
            counts["results"] += 1
            counts[result.verdict.value] += 1
    return counts


def inference_markdown(audit, book) -> str:
    """The audit for a review thread: the verdict, a table per organisation, the findings by rule."""
    from parity.report.markdown import cell

    lines = [
        f"## parity audit: **{audit.verdict.value}** (inference round {audit.round}, `{audit.rulebook}`)",
        "",
        cell(audit.path),
    ]
    for organisation in audit.organisations:
        lines += ["", f"### {cell(organisation.organisation.name)}: {organisation.verdict.value}", ""]
        lines.append("| " + " | ".join(HEADER) + " |")
        lines.append("|" + "---|" * len(HEADER))
        lines += ["| " + " | ".join(cell(v) for v in result_row(r)) + " |" for r in organisation.results]
        notes = [(r, n) for r in organisation.results for n in r.check.row.notes]
        if notes:
            lines.append("")
        lines += [f"- note: {cell('/'.join(result_row(r)[:3]))}: {cell(n)}" for r, n in notes]
    lines += rules_markdown(inference_findings_by_rule(audit), book)
    return "\n".join(lines).rstrip() + "\n"


def inference_junit(audit) -> str:
    """JUnit XML: a suite per organisation, a case per result and one for the layout."""
    suites = [
        (
            organisation.organisation.name,
            [("layout and systems", organisation.judgement)]
            + [("/".join(result_row(r)[:3]), r.judgement) for r in organisation.results],
        )
        for organisation in audit.organisations
    ]
    return judgements_junit(f"parity audit inference {audit.round}", suites)


def render_inference_html(audit) -> str:
    """The HTML report (a self-contained page, like the other reports)."""
    from parity.report.html import _environment
    from parity.rulebook import load_rulebook

    return (
        _environment()
        .get_template("inference_audit.html.j2")
        .render(
            audit=audit,
            book=load_rulebook(audit.rulebook),
            header=HEADER,
            result_row=result_row,
            groups=inference_findings_by_rule(audit),
            counts=_counts(audit),
        )
    )
