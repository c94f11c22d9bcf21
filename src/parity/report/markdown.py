"""Markdown for pull requests and issues: verdict, findings with the rule's reason, and the evidence."""

from __future__ import annotations

from parity.judge import Judgement, Outcome
from parity.rulebook import Rulebook

ICON = {Outcome.ALLOWED: "✅", Outcome.FORBIDDEN: "❌", Outcome.NEEDS_REVIEW: "⚠️"}


def cell(text: str) -> str:
    """``text`` on one line, safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def judgement_markdown(
    judgement: Judgement, rulebook: Rulebook, subject: dict[str, str] | None = None
) -> str:
    """A self-contained Markdown report of one judgement."""
    lines = [
        f"## parity: **{judgement.verdict.value}** under `{judgement.rulebook}` ({judgement.division})",
        "",
    ]
    if subject:
        lines += [f"- {key}: `{value}`" for key, value in subject.items()] + [""]
    counts = ", ".join(f"{count} {name}" for name, count in judgement.counts.items())
    lines += [f"Findings: {counts}.", "", "| | change | rule | finding | where |", "|---|---|---|---|---|"]
    order = {Outcome.FORBIDDEN: 0, Outcome.NEEDS_REVIEW: 1, Outcome.ALLOWED: 2}
    findings = sorted(judgement.findings, key=lambda f: (order[f.outcome], f.observation))
    for finding in findings:
        where = ", ".join(dict.fromkeys(location.name for location in finding.evidence.locations[:6]))
        rule = f"`{finding.rule}`" if finding.rule else "(default)"
        seen = cell(finding.summary or finding.message)
        lines.append(f"| {ICON[finding.outcome]} | `{finding.kind}` | {rule} | {seen} | {cell(where)} |")
    reasons = {}
    for finding in findings:
        if finding.outcome is not Outcome.ALLOWED and finding.rule and finding.rule not in reasons:
            reasons[finding.rule] = finding.rationale
    if reasons:
        lines += ["", "### Why these rules exist", ""]
        for rule_id, rationale in reasons.items():
            rule = rulebook.rules[rule_id]
            source = ", ".join(x for x in (rule.source.section, rule.source.round) if x)
            lines += [f"- **`{rule_id}`** — {cell(rule.statement)} *Why:* {cell(rationale)} ({source})"]
    if any(f.basis == "default" and f.outcome is not Outcome.ALLOWED for f in findings):
        lines += ["", f"*Default polarity:* {cell(rulebook.default_rationale)}"]
    return "\n".join(lines) + "\n"
