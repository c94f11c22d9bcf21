"""A readable rule book in Markdown or self-contained HTML.

It is rendered from the same rule objects that `rules explain` and the judge use.
"""

from __future__ import annotations

from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from parity.rulebook.model import Rulebook
from parity.rulebook.schema import RuleKind


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("parity.rulebook", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = lambda text: " ".join(str(text).split()).replace("|", "\\|")
    return env


def render_rulebook(book: Rulebook, fmt: Literal["markdown", "html"]) -> str:
    """The whole rulebook: polarity and its reason, then every rule with its rationale and source."""
    template = _environment().get_template("rulebook.md.j2" if fmt == "markdown" else "rulebook.html.j2")
    groups: dict[str, list] = {kind.value: [] for kind in RuleKind}
    for rule in book.rules.values():
        groups[rule.kind.value].append(rule)
    return template.render(book=book, groups=groups, history=book.rule_history)
