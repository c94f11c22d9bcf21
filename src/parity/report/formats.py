"""The registry of `parity check` report formats: one renderer per name, each returning the whole text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console


def show_text(result: Any, console: Console) -> None:
    """The terminal report of an audit: findings by rule, then the weight table if there is one."""
    from rich.text import Text

    from parity.report import text
    from parity.report.payloads import reading_notes

    text.judgement(console, result.judgement, result.rulebook)
    for side, notes in reading_notes(result).items():
        for note in notes:
            console.print(Text(f"Read {side}: {note}.", style="dim"))
    if result.weights:
        text.weights_table(console, result.weights)


def _text(result: Any) -> str:
    from parity.report import text

    return text.plain_text(lambda console: show_text(result, console))


def _json(result: Any) -> str:
    from parity.report import payloads
    from parity.report.json_output import to_json

    return to_json(payloads.report_payload(result))


def _markdown(result: Any) -> str:
    from parity.report.markdown import judgement_markdown

    return judgement_markdown(
        result.judgement, result.rulebook, {"reference": result.reference, "candidate": result.candidate}
    )


def _html(result: Any) -> str:
    from parity.report.html import render_report

    return render_report(result)


def _junit(result: Any) -> str:
    from parity.report.junit import render_junit

    return render_junit(result.judgement, result.rulebook)


RENDERERS: dict[str, Callable[[Any], str]] = {
    "text": _text,
    "json": _json,
    "markdown": _markdown,
    "html": _html,
    "junit": _junit,
}


def render_check(result: Any, format_name: str) -> str:
    """The report of an audit in one of RENDERERS' formats."""
    return RENDERERS[format_name](result)
