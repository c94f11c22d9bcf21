"""`parity rules …`: list, explain, diff, render, kinds, schema and test the rulebooks."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from parity.cli.output import emit_json
from parity.cli.terminal import Format, OutOption, console
from parity.errors import BadInput, ExitCode
from parity.judge import contrast, run_examples
from parity.report import payloads, text
from parity.report.json_output import VERSION
from parity.rulebook import Division, Rule, Rulebook, aliases, load_rulebook, packaged_ids
from parity.rulebook.diff import diff_rulebooks
from parity.rulebook.schema import RulebookFile

app = typer.Typer(
    help="Read, explain, compare and render the rulebooks.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
RulebookOption = Annotated[
    list[str] | None,
    typer.Option(
        "--rulebook", "-r", help="Rulebook id, alias or YAML path (repeatable). Default: all packaged."
    ),
]


def _books(names: list[str] | None) -> list[Rulebook]:
    return [load_rulebook(name) for name in (names or packaged_ids())]


@app.command("list")
def list_rules(rulebook: RulebookOption = None, format: FormatOption = Format.TEXT) -> int:
    """List the rulebooks and their rules."""
    books = _books(rulebook)
    if format is Format.JSON:
        emit_json(payloads.rules_list(books, aliases()))
    else:
        text.rules_list(console(), books, aliases())
    return ExitCode.CONFORMS


def find_rule(rule_id: str, rulebook: str | None) -> tuple[Rule, Rulebook]:
    """The rule with this id: in the given rulebook, else in the latest rulebook that has it."""
    names = [rulebook] if rulebook else [*aliases(), *reversed(packaged_ids())]
    for name in names:
        book = load_rulebook(name)
        if rule_id in book.rules:
            return book.rules[rule_id], book
    where = rulebook or "any packaged rulebook"
    raise BadInput(f"no rule {rule_id!r} in {where} (see `parity rules list`)")


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. training.graph.batchnorm-folding.")],
    rulebook: Annotated[
        str | None, typer.Option("--rulebook", "-r", help="Look only in this rulebook.")
    ] = None,
    format: FormatOption = Format.TEXT,
) -> int:
    """Explain a rule: statement, why, examples, source, and how the other suite judges the same changes."""
    rule, book = find_rule(rule_id, rulebook)
    other = load_rulebook(book.counterpart) if book.counterpart else None
    rows = []
    if other is not None and rule.governs:
        division = next((d for d in rule.divisions if d in other.divisions), None)
        if division is not None:
            kinds = _expand(rule.governs)
            rows = contrast(book, other, division, kinds)
    if format is Format.JSON:
        emit_json(payloads.explain_payload(rule, book, other, rows))
    else:
        text.explain(console(), rule, book, other, rows)
    return ExitCode.CONFORMS


def _expand(patterns: list[str]) -> list[str]:
    from parity.observations import expand_pattern

    return list(dict.fromkeys(name for pattern in patterns for name in expand_pattern(pattern)))


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="First rulebook (id, alias or path).")],
    b: Annotated[str, typer.Argument(help="Second rulebook.")],
    division: Annotated[
        Division, typer.Option(help="Division to judge the change kinds in.")
    ] = Division.CLOSED,
    format: FormatOption = Format.TEXT,
) -> int:
    """Compare two rulebooks: default polarity, rules only in one, every change kind judged differently."""
    left, right = load_rulebook(a), load_rulebook(b)
    for book in (left, right):
        if division not in book.divisions:
            raise BadInput(f"rulebook {book.id} has no {division.value} division")
    result = diff_rulebooks(left, right)
    rows = contrast(left, right, division)
    if format is Format.JSON:
        emit_json(payloads.diff_payload(result, division.value, rows))
    else:
        text.diff(console(), result, division.value, rows)
    return ExitCode.CONFORMS


class RenderFormat(StrEnum):
    """Formats of a rendered rule book."""

    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"


@app.command()
def render(
    rulebook: Annotated[
        str, typer.Option("--rulebook", "-r", help="Rulebook to render.")
    ] = "mlperf-training",
    format: Annotated[
        RenderFormat, typer.Option("--format", "-f", help="Output format.")
    ] = RenderFormat.MARKDOWN,
    out: OutOption = None,
) -> int:
    """Render a readable rule book with the reason behind every rule."""
    from parity.cli.output import refuse_overwriting_inputs

    refuse_overwriting_inputs(out, [rulebook])
    book = load_rulebook(rulebook)
    if format is RenderFormat.JSON:
        from parity.report.json_output import to_json

        document = to_json(
            {
                "format": "parity-rulebook",
                "version": VERSION,
                **payloads.rulebook_summary(book),
                "rules": [payloads.rule_payload(rule, book) for rule in book.rules.values()],
            }
        )
    else:
        from parity.rulebook.render import render_rulebook

        document = render_rulebook(book, format.value)
    if out is None:
        typer.echo(document, nl=False)
    else:
        try:
            out.write_text(document, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot write ({exc.strerror})", out) from None
        typer.echo(f"wrote {out}", err=True)
    return ExitCode.CONFORMS


@app.command()
def kinds(format: FormatOption = Format.TEXT) -> int:
    """List the change kinds engines emit and rules govern."""
    if format is Format.JSON:
        emit_json(payloads.kinds_payload())
    else:
        text.kinds(console())
    return ExitCode.CONFORMS


@app.command()
def schema() -> int:
    """Print the JSON Schema of a rulebook file."""
    typer.echo(json.dumps(RulebookFile.model_json_schema(), indent=2, sort_keys=True))
    return ExitCode.CONFORMS


@app.command()
def test(rulebook: RulebookOption = None, format: FormatOption = Format.TEXT) -> int:
    """Judge every rule's examples and check each reaches its expected verdict (exit 1 if not)."""
    results = [result for book in _books(rulebook) for result in run_examples(book)]
    failed = [result for result in results if not result.passed]
    if format is Format.JSON:
        emit_json(
            {
                "format": "parity-rules-test",
                "version": VERSION,
                "examples": len(results),
                "failed": [result.describe() for result in failed],
            }
        )
    else:
        from rich.text import Text

        for result in failed:
            console().print(Text.assemble(("FAIL", "red"), " ", text.as_text(result.describe())))
        console().print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return ExitCode.VIOLATES if failed else ExitCode.CONFORMS


class ImpactFormat(StrEnum):
    """Formats of `parity rules impact`."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


@app.command()
def impact(
    evidence: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Evidence files, folders of them, or submission trees audited on the fly "
            "(default: the bundled corpus)."
        ),
    ] = None,
    rulebook: Annotated[
        list[str],
        typer.Option("--rulebook", "-r", help="Two or more rulebooks; the first is the baseline."),
    ] = ["mlperf-training", "mlperf-inference"],  # noqa: B006 (typer reads the default, never mutates it)
    format: Annotated[
        ImpactFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ImpactFormat.TEXT,
    out: OutOption = None,
) -> int:
    """Judge saved observations under several rulebooks: which subjects switch verdict, and why."""
    from parity.audit.subjects import tree_subjects
    from parity.cli.output import refuse_overwriting_inputs, write_report
    from parity.judge.impact import impact as rejudge
    from parity.judge.subjects import CORPUS, load_subjects
    from parity.report import impact_report
    from parity.report.json_output import to_json

    refuse_overwriting_inputs(out, [*(evidence or []), *rulebook])
    if len(rulebook) < 2:
        raise BadInput("rules impact needs two or more --rulebook (the first is the baseline)")
    books = [load_rulebook(name) for name in rulebook]
    subjects = []
    for path in evidence or [CORPUS]:
        audited = tree_subjects(path) if path.is_dir() and not path.is_symlink() else None
        subjects += audited if audited is not None else load_subjects([path])
    result = rejudge(subjects, books)
    if format is ImpactFormat.JSON:
        rendered = to_json(impact_report.impact_payload(result))
    elif format is ImpactFormat.HTML:
        rendered = impact_report.render_impact_html(result)
    else:
        rendered = impact_report.impact_markdown(result)
    write_report(rendered, out, "done", format.value)
    return ExitCode.CONFORMS
