"""Terminal rendering with rich: tables for lists, panels for explanations.

The console reads no markup (:mod:`parity.report.console`); every value that is not parity's own
constant text reaches rich through :func:`as_text`, which escapes its control characters.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from parity.errors import one_line
from parity.judge import Finding, Judgement, KindContrast, Outcome, Verdict
from parity.observations import all_kinds
from parity.observations.kinds import WEIGHTS_IDENTICAL
from parity.rulebook import Rule, Rulebook
from parity.rulebook.diff import RulebookDiff

OUTCOME_STYLE = {Outcome.ALLOWED: "green", Outcome.FORBIDDEN: "bold red", Outcome.NEEDS_REVIEW: "yellow"}
VERDICT_STYLE = {
    Verdict.CONFORMS: "bold green",
    Verdict.VIOLATES: "bold red",
    Verdict.NEEDS_REVIEW: "bold yellow",
}
POLARITY_STYLE = {"deny": "red", "allow": "green", None: "dim"}


def as_text(value, style: str = "") -> Text:
    """A value as terminal text: the one escape of the rich reports (:func:`parity.errors.one_line`).

    A ``Text`` is never read as markup, and its control characters, newlines and lone surrogates are
    the visible text of their escapes, so nothing in it can clear, retitle or rewrite the terminal.
    """
    return Text(one_line(value), style=style)


def _outcome(outcome: Outcome) -> Text:
    return Text(outcome.value, style=OUTCOME_STYLE[outcome])


def _decided(finding: Finding) -> Text:
    return Text.assemble(_outcome(finding.outcome), "  ", (finding.rule or "(default polarity)", "dim"))


def rules_list(console: Console, books: list[Rulebook], aliases: dict[str, str]) -> None:
    """One table per rulebook."""
    for book in books:
        names = [alias for alias, target in aliases.items() if target == book.id]
        also = f"  (alias: {', '.join(names)})" if names else ""
        polarity = ", ".join(f"{d.value}: {book.polarity(d).value}" for d in book.divisions)
        table = Table(title=f"{book.id}{also} — {book.title}", caption=f"defaults: {polarity}", expand=False)
        for column in ("id", "kind", "divisions", "enforcement", "title"):
            table.add_column(column, overflow="fold")
        for rule in book.rules.values():
            table.add_row(
                rule.id,
                rule.kind.value,
                ",".join(d.value for d in rule.divisions),
                rule.enforcement.value,
                rule.title,
            )
        console.print(table)


def explain(
    console: Console, rule: Rule, book: Rulebook, other: Rulebook | None, rows: list[KindContrast]
) -> None:
    """Statement, why, examples, source, governed kinds, history, and the other suite's judgement."""
    parts: list = [
        Text.assemble(
            ("Rulebook ", "dim"),
            book.id,
            ("  kind ", "dim"),
            rule.kind.value,
            ("  divisions ", "dim"),
            ", ".join(d.value for d in rule.divisions),
            ("  enforcement ", "dim"),
            rule.enforcement.value,
        ),
        Text(""),
        Text("Statement", style="bold"),
        Text(rule.statement),
        Text(""),
        Text(
            f"Why ({'stated by the source' if rule.rationale_from == 'source' else 'written by parity'})",
            style="bold",
        ),
        Text(rule.rationale),
    ]
    if rule.governs:
        parts += [Text(""), Text("Governs", style="bold"), Text(", ".join(rule.governs))]
    if rule.needs_evidence or rule.allowed_values or rule.threshold:
        conditions = [f"evidence: {', '.join(rule.needs_evidence)}"] if rule.needs_evidence else []
        conditions += [
            f"{key} ∈ {{{', '.join(map(str, values))}}}" for key, values in rule.allowed_values.items()
        ]
        if rule.threshold:
            t = rule.threshold
            conditions.append(
                f"{t.metric} within [{t.min if t.min is not None else '-∞'}, "
                f"{t.max if t.max is not None else '∞'}]"
            )
        parts += [Text(""), Text("Conditions", style="bold"), Text("; ".join(conditions))]
    parts += [Text(""), Text("Examples", style="bold")]
    for example in rule.examples:
        kinds = f" [{', '.join(o.kind for o in example.observations)}]" if example.observations else ""
        parts.append(Text(f"  {example.expect:>12}  {example.description}{kinds}"))
    source = rule.source
    parts += [
        Text(""),
        Text("Source", style="bold"),
        Text(" · ".join(str(x) for x in (source.document, source.section, source.round) if x)),
    ]
    history = book.rule_history(rule.id)
    if history:
        parts += [Text(""), Text("History", style="bold")]
        parts += [Text(f"  {h.rulebook}: {h.action}" + (f" — {h.note}" if h.note else "")) for h in history]
    if other is not None and rows:
        table = Table(title=f"The same change kinds under {other.id} (default {other.default.value})")
        for column in ("kind", book.id, other.id, "deciding rule there"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(row.kind, _outcome(row.a.outcome), _outcome(row.b.outcome), row.b.rule or "default")
        parts += [Text(""), table]
    title = Text.assemble((one_line(rule.id), "bold"), " — ", one_line(rule.title))
    console.print(Panel(Group(*parts), title=title, expand=False))


def diff(console: Console, result: RulebookDiff, division: str, rows: list[KindContrast]) -> None:
    """Polarity side by side, rules only on one side, and each change kind judged differently."""
    head = Table(title=f"{result.a}  vs  {result.b}")
    head.add_column("default polarity")
    head.add_column(result.a)
    head.add_column(result.b)
    for name, (left, right) in result.polarity.items():
        head.add_row(name, Text(left or "—", POLARITY_STYLE[left]), Text(right or "—", POLARITY_STYLE[right]))
    head.add_row("rules", str(result.rule_counts[0]), str(result.rule_counts[1]))
    console.print(head)
    differ = [row for row in rows if row.differs]
    title = f"Change kinds judged differently ({division} division): {len(differ)} of {len(rows)}"
    table = Table(title=title)
    table.add_column("change kind", no_wrap=True)
    table.add_column(f"{result.a}: outcome, deciding rule", no_wrap=True)
    table.add_column(f"{result.b}: outcome, deciding rule", no_wrap=True)
    for row in differ:
        table.add_row(row.kind, _decided(row.a), _decided(row.b))
    console.print(table)
    console.print(
        f"Rules only in {result.a}: {len(result.only_in_a)}; only in {result.b}: "
        f"{len(result.only_in_b)}; in both but changed: {len(result.changed)}"
    )
    for rule_id, fields in result.changed.items():
        console.print(f"  changed {rule_id}: {', '.join(fields)}")


#: the most findings a text report lists (the counts and the verdict cover all of them)
MAX_TEXT_ROWS = 500


def judgement(console: Console, result: Judgement, rulebook: Rulebook | None = None) -> None:
    """Verdict banner, one row per finding, and why each rule that objects exists."""
    table = Table(title=as_text(f"{result.rulebook} ({result.division} division)"))
    table.add_column("#")
    table.add_column("change kind", no_wrap=True)
    for column in ("outcome", "rule", "what was seen"):
        table.add_column(column, overflow="fold")
    shown = result.findings
    if len(shown) > MAX_TEXT_ROWS:  # problems first; a terminal table of 10⁵ rows helps nobody
        shown = sorted(shown, key=lambda finding: finding.outcome is Outcome.ALLOWED)[:MAX_TEXT_ROWS]
        table.caption = (
            f"the first {MAX_TEXT_ROWS} of {len(result.findings)} findings, problems first "
            "(--format json has them all)"
        )
    for finding in shown:
        table.add_row(
            str(finding.observation),
            as_text(finding.kind),
            _outcome(finding.outcome),
            as_text(finding.rule or f"({finding.basis})"),
            as_text(finding.summary or finding.message),
        )
    console.print(table)
    if rulebook is not None:
        _reasons(console, result, rulebook)
    counts = ", ".join(f"{count} {name}" for name, count in result.counts.items())
    console.print(
        Text.assemble("Verdict: ", (result.verdict.value, VERDICT_STYLE[result.verdict]), f"  ({counts})")
    )
    if result.unobservable_rules:
        console.print(
            Text(
                f"{len(result.unobservable_rules)} rules of this division cannot be observed "
                "automatically and need a reviewer (see `parity rules list`).",
                style="dim",
            )
        )


def _reasons(console: Console, result: Judgement, rulebook: Rulebook) -> None:
    """Each objecting rule once: its statement and why it exists."""
    shown: set[str] = set()
    for finding in result.findings:
        if finding.outcome is Outcome.ALLOWED or finding.rule in shown:
            continue
        if finding.rule is None:
            if "default" not in shown:
                shown.add("default")
                console.print(Panel(Text(rulebook.default_rationale), title="default polarity", expand=False))
            continue
        shown.add(finding.rule)
        rule = rulebook.rules[finding.rule]
        body = Text.assemble(rule.statement, "\n\n", ("Why: ", "bold"), rule.rationale)
        console.print(Panel(body, title=as_text(f"{rule.id} — {rule.title}"), expand=False))


def kinds(console: Console) -> None:
    """The change-kind vocabulary."""
    table = Table(title="Change kinds")
    for column in ("kind", "parent", "meaning"):
        table.add_column(column, overflow="fold")
    for kind in all_kinds().values():
        table.add_row(
            kind.name, kind.parent or "", kind.meaning + ("" if kind.difference else " (not a difference)")
        )
    console.print(table)


def weights_table(console: Console, verdicts: list) -> None:
    """Per-tensor provenance: every tensor that is not identical, and how many are."""
    identical = sum(1 for v in verdicts if v.kind == WEIGHTS_IDENTICAL)
    table = Table(title=f"Weights: {len(verdicts)} matched tensors, {identical} identical")
    for column in (
        "candidate tensor",
        "reference tensor",
        "classification",
        "transforms",
        "max abs err",
        "scaled err",
        "detail",
    ):
        table.add_column(column, overflow="fold")
    for verdict in verdicts:
        if verdict.kind == WEIGHTS_IDENTICAL:
            continue
        m = verdict.metrics
        detail = ", ".join(
            f"{k}={v}" for k, v in verdict.details.items() if k in ("format", "scheme", "layout", "problem")
        )
        if "pruned_fraction" in m:
            detail = f"pruned {m['pruned_fraction']:.1%}"
        if "ks_pvalue" in m:
            detail = f"KS p={m['ks_pvalue']:.3g}"
        table.add_row(
            as_text(verdict.candidate[0]),
            as_text(verdict.reference[0]),
            verdict.kind.split(".")[1],
            as_text(",".join(verdict.transforms)),
            f"{m.get('max_abs_error', 0):.3g}",
            f"{m.get('scaled_error', 0):.3g}",
            as_text(detail),
        )
    if table.row_count:
        console.print(table)
    else:
        console.print(Text(f"Weights: all {len(verdicts)} matched tensors identical.", style="dim"))


def plain_text(draw: Callable[[Console], None]) -> str:
    """What ``draw`` prints, as plain text (no colour, 120 columns), for writing to a file."""
    from parity.report.console import make_console

    buffer = io.StringIO()
    draw(make_console(buffer, width=120, colour=False))
    return buffer.getvalue()
