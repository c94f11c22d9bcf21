"""Reports of `parity rules impact`: what switches verdict between rulebooks, why, and how often.

Text and Markdown give the table (subjects, and switches per scenario and rulebook), the directions, the
change kinds and rules that decide switches, one worked example per switch class, and the rules no engine
observes; JSON gives every subject; HTML is a self-contained brief with a chart of switches per change
kind and per scenario.
"""

from __future__ import annotations

from parity.report.json_output import envelope


def _classes(result) -> dict[tuple, object]:
    """One worked example per switch class: (rulebook, from verdict, to verdict) -> the first subject."""
    examples: dict[tuple, object] = {}
    for item, book, before, after in result.switched():
        examples.setdefault((book, before, after), item)
    return examples


def scenario_table(result) -> list[tuple[str, ...]]:
    """Rows of (scenario, subjects, switches under each other rulebook)."""
    by_kind: dict[str, int] = {}
    for item in result.subjects:
        by_kind[item.subject.kind] = by_kind.get(item.subject.kind, 0) + 1
    switched = result.by_scenario()
    rows = []
    for kind, count in sorted(by_kind.items()):
        rows.append((kind, str(count), *(str(switched.get((kind, b.id), 0)) for b in result.books[1:])))
    total = [str(sum(switched.get((k, b.id), 0) for k in by_kind)) for b in result.books[1:]]
    rows.append(("all", str(len(result.subjects)), *total))
    return rows


def impact_payload(result) -> dict:
    """The whole impact as JSON data."""
    kinds, rules = result.deciding()
    return envelope(
        "impact",
        {
            "rulebooks": [book.id for book in result.books],
            "subjects": [
                {
                    "name": item.subject.name,
                    "kind": item.subject.kind,
                    "division": item.subject.division,
                    "benchmark": item.subject.benchmark,
                    "verdicts": dict(
                        zip([b.id for b in result.books], [v.value for v in item.verdicts], strict=True)
                    ),
                    "switches": [switch.to_json() for switch in item.switches],
                }
                for item in result.subjects
            ],
            "directions": [
                {"rulebook": book, "from": before, "to": after, "subjects": count}
                for (book, before, after), count in sorted(result.directions().items())
            ],
            "deciding_kinds": dict(sorted(kinds.items())),
            "deciding_rules": dict(sorted(rules.items())),
            "unobservable_rules": result.unobservable,
        },
    )


def impact_markdown(result) -> str:
    """The impact for a working-group thread (also the text output: Markdown reads as plain text).

    Subject names, kinds and summaries come from evidence files and submission trees: each goes through
    :func:`parity.report.markdown.cell`.
    """
    from parity.report.markdown import cell

    base = result.books[0].id
    header = ("scenario", "subjects", *(f"switches under `{b.id}`" for b in result.books[1:]))
    lines = [f"## Rule impact: {len(result.subjects)} subjects, baseline `{base}`", ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in scenario_table(result)]
    lines += ["", "### Directions", ""]
    directions = result.directions()
    if not directions:
        lines.append("No subject changes verdict.")
    for (book, before, after), count in sorted(directions.items()):
        lines.append(f"- `{book}`: {count} subject(s) {before} → {after}")
    kinds, rules = result.deciding()
    if kinds:
        lines += ["", "### What decides the switches", ""]
        lines += [f"- change kind `{kind}`: {count}" for kind, count in kinds.most_common()]
        lines += [f"- rule `{rule}`: {count}" for rule, count in rules.most_common()]
    lines += ["", "### One worked example per switch class", ""]
    for (book, before, after), item in sorted(_classes(result).items()):
        lines.append(f"**{cell(item.subject.name)}**: `{base}` {before}, `{book}` {after}")
        index = [b.id for b in result.books].index(book)
        for switch in item.switches[:3]:
            first, other = switch.decisions[0], switch.decisions[index]
            lines.append(
                f"- `{switch.kind}` ({cell(switch.summary)}): `{base}` {first['outcome']} by "
                f"{first['rule'] or 'the default polarity'}; `{book}` {other['outcome']} by "
                f"{other['rule'] or 'the default polarity'}. Why: {cell(other['rationale'] or '-')}"
            )
        lines.append("")
    lines += ["### Rules no engine observes (a person checks them)", ""]
    for book, divisions in result.unobservable.items():
        counts = ", ".join(f"{division}: {len(rules)}" for division, rules in divisions.items())
        lines.append(f"- `{book}`: {counts}")
    return "\n".join(lines).rstrip() + "\n"


def _bars(counts: list[tuple[str, int]], width: int = 640) -> str:
    """An inline SVG bar chart (no script, no external resource)."""
    if not counts:
        return "<p>No switches.</p>"
    top = max(count for _, count in counts) or 1
    row, label = 22, 300
    height = row * len(counts) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for index, (name, count) in enumerate(counts):
        y = 4 + index * row
        length = (width - label - 40) * count / top
        parts.append(
            f'<text x="{label - 6}" y="{y + 15}" text-anchor="end" font-size="12">{_escape(name)}</text>'
        )
        parts.append(f'<rect x="{label}" y="{y + 3}" width="{length:.1f}" height="15" fill="#8a1212"/>')
        parts.append(f'<text x="{label + length + 4:.1f}" y="{y + 15}" font-size="12">{count}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _escape(text: str) -> str:
    from markupsafe import escape

    from parity.report.html import shown

    return str(escape(shown(text)))


def render_impact_html(result) -> str:
    """A self-contained brief: the table, the charts, a worked example per switch class."""
    from parity.report.html import _environment

    kinds, _rules = result.deciding()
    scenarios = result.by_scenario()
    return (
        _environment()
        .get_template("impact.html.j2")
        .render(
            result=result,
            base=result.books[0].id,
            header=("scenario", "subjects", *(f"switches under {b.id}" for b in result.books[1:])),
            table=scenario_table(result),
            directions=sorted(result.directions().items()),
            kinds_chart=_bars(kinds.most_common()),
            scenario_chart=_bars([(f"{kind} / {book}", n) for (kind, book), n in sorted(scenarios.items())]),
            classes=sorted(_classes(result).items()),
            book_ids=[b.id for b in result.books],
        )
    )
