"""Markdown for pull requests and issues: verdict, findings with the rule's reason, and the evidence."""

from __future__ import annotations

import functools
import re

from parity.errors import one_line
from parity.judge import Judgement, Outcome
from parity.rulebook import Rulebook

ICON = {Outcome.ALLOWED: "✅", Outcome.FORBIDDEN: "❌", Outcome.NEEDS_REVIEW: "⚠️"}

#: what Markdown, GitHub's extensions or inline HTML would read as markup: backslashes, code spans, emphasis
#: (``*``; ``_`` except inside a word, where it never is), links and images (``[``), HTML and autolinks
#: (``<``, ``>``, a ``:`` before anything but a space: ``https://``, ``:emoji:``), headings, table cells,
#: strikethrough, math, entities and mentions
_MARKUP = r"[\\`*\[\]<>#|~$&@]|_(?![^\W_])|(?<![^\W_])_|:(?=\S)"


@functools.cache
def _markup() -> re.Pattern:
    return re.compile(_MARKUP)


def cell(text) -> str:
    r"""Submitted (or any non-constant) text as inert Markdown: the one escape of the Markdown reports.

    The text is put on one printable line first (:func:`parity.errors.one_line`: a newline shows as
    ``\n`` and cannot start a heading, a list or an HTML block; control characters and lone surrogates
    are escaped), then every character that could start markup is backslash-escaped (CommonMark shows an
    escaped punctuation mark as itself), so no link, image, HTML tag or comment, emphasis, code span,
    table cell border, emoji or mention comes from the text. Safe in a table cell, a heading and running
    text; not inside a code span, where nothing is unescaped.
    """
    return _markup().sub(lambda found: "\\" + found.group(), one_line(text))


def judgement_markdown(
    judgement: Judgement, rulebook: Rulebook, subject: dict[str, str] | None = None
) -> str:
    """A self-contained Markdown report of one judgement."""
    lines = [
        f"## parity: **{judgement.verdict.value}** under `{judgement.rulebook}` ({judgement.division})",
        "",
    ]
    if subject:
        lines += [f"- {key}: {cell(value)}" for key, value in subject.items()] + [""]
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
