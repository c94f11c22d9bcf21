"""A self-contained HTML audit report: one file, no scripts, no external assets (inline CSS and SVG).

Order follows what a reader needs first: the verdict, then every finding that is not allowed with its
rule's statement, reason and source, then where the graphs differ (drawn), the weights, the numbers.
"""

from __future__ import annotations

import math
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from parity.errors import printable
from parity.judge import Outcome
from parity.observations.kinds import WEIGHTS_IDENTICAL
from parity.report.graph_picture import BOX_HEIGHT, BOX_WIDTH, explained_pictures, region_pictures
from parity.report.payloads import reading_notes
from parity.rulebook import load_rulebook

ORDER = {Outcome.FORBIDDEN: 0, Outcome.NEEDS_REVIEW: 1, Outcome.ALLOWED: 2}


def _environment() -> Environment:
    """Every template autoescaped, and every value it prints through :func:`shown`."""
    return Environment(
        loader=PackageLoader("parity.report", "templates"),
        autoescape=select_autoescape(["j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=shown,
    )


def shown(value):
    r"""A value as a template prints it: the one escape of the HTML reports, with jinja's autoescape.

    Text has its control characters (C0 but newline and tab, DEL, C1), bidirectional overrides and lone
    surrogates as the visible text of their escapes (:func:`parity.errors.printable`); autoescape then
    makes ``<``, ``&`` and quotes inert. Markup that parity built (an inline SVG chart) is left as it is.
    """
    return printable(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def render_report(result: Any) -> str:
    """The HTML report of a `parity check` result."""
    judgement, book = result.judgement, result.rulebook
    groups: dict[str, dict] = {}
    ordered = sorted(judgement.findings, key=lambda f: (ORDER[f.outcome], f.observation))
    for finding in ordered:
        key = finding.rule or "(default polarity)"
        group = groups.setdefault(
            key,
            {
                "rule": book.rules.get(finding.rule) if finding.rule else None,
                "outcome": finding.outcome,
                "findings": [],
            },
        )
        group["findings"].append(finding)
    numeric, graph = result.numeric, result.graph
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            result=result,
            judgement=judgement,
            book=book,
            groups=groups,
            regions=(region_pictures(graph) + explained_pictures(graph, ordered)) if graph else [],
            matched=len(graph.correspondence.nodes) if graph else 0,
            weights=[v for v in result.weights if v.kind != WEIGHTS_IDENTICAL],
            identical=sum(1 for v in result.weights if v.kind == WEIGHTS_IDENTICAL),
            numeric=[o for o in result.observations if o.engine == "numeric"],
            divergence=_divergence_plot(numeric.divergence if numeric else None),
            default_rationale=book.default_rationale,
            forbidden_kinds={f.kind for f in judgement.findings if f.outcome is Outcome.FORBIDDEN},
            box={"width": BOX_WIDTH, "height": BOX_HEIGHT},
            reading=reading_notes(result),
        )
    )


def _divergence_plot(divergence: dict | None) -> dict | None:
    """Scaled error along the matched tensors in depth order, the first failing one marked.

    The scaled error is the largest difference over the largest reference magnitude; above the bound
    (rtol + atol fraction) a tensor is certainly outside tolerance.
    """
    if not divergence or not divergence.get("profile"):
        return None
    errors = [max(float(error or 0.0), 1e-6) for error in divergence["profile"]]
    width, height, margin = 640, 200, 48
    bound = float(divergence.get("profile_bound") or 1.0)
    low = math.floor(math.log10(min(*errors, bound / 10)))
    high = math.ceil(math.log10(max(*errors, bound * 10)))

    def y(value: float) -> float:
        return height - 20 - (height - 40) * (math.log10(value) - low) / (high - low)

    points = [
        (margin + (width - margin - 20) * i / max(len(errors) - 1, 1), y(e)) for i, e in enumerate(errors)
    ]
    failing = points[min(divergence.get("profile_failing", len(points) - 1), len(points) - 1)]
    return {
        "width": width,
        "height": height,
        "margin": margin,
        "points": " ".join(f"{px:.1f},{py:.1f}" for px, py in points),
        "failing": failing,
        "tolerance_y": y(bound),
        "ticks": [(f"1e{power}", y(10.0**power)) for power in range(low, high + 1)],
        "tensor": divergence.get("reference_tensor"),
        "count": len(errors),
    }


def render_convergence(result: Any) -> str:
    """The HTML report of a `parity rcp check` result: quality curves and the RCP test, drawn."""
    from parity.report import convergence_picture as pictures

    judgement = result.judgement
    return (
        _environment()
        .get_template("convergence.html.j2")
        .render(
            result=result,
            verdict=result.verdict,
            judgement=judgement,
            book=load_rulebook(judgement.rulebook),
            quality=pictures.quality_plot(result),
            rcp=pictures.rcp_plot(result),
            **pictures.FRAME,
        )
    )


def render_audit(audit: Any) -> str:
    """The HTML report of a `parity audit`: results per organisation, findings by rule, convergence."""
    from parity.report import convergence_picture as pictures
    from parity.report.audit_report import SUMMARY_HEADER, findings_by_rule, summary_row

    folders = [b for o in audit.organisations for b in o.benchmarks]
    return (
        _environment()
        .get_template("audit.html.j2")
        .render(
            audit=audit,
            book=load_rulebook(audit.rulebook),
            header=SUMMARY_HEADER,
            summary_row=summary_row,
            groups=findings_by_rule(audit),
            folders=len(folders),
            drawn=any(b.rcp is not None for b in folders),
            failed_logs=[
                (organisation.organisation.name, benchmark, log)
                for organisation in audit.organisations
                for benchmark in organisation.benchmarks
                for log in benchmark.logs
                if log.verdict != "conforms"
            ],
            quality_plot=pictures.quality_plot,
            rcp_plot=pictures.rcp_plot,
            **pictures.FRAME,
        )
    )
