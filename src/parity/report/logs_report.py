"""Reports of `parity logs check` and `parity rcp check`: plain text and JSON.

The text is plain lines a terminal, a CI log and an editor all read (``file:line`` locations, one finding
per line, the rule and why it exists), coloured only on a terminal; building it needs no rich, so the
commands start fast. JSON shapes are documented in docs/json-format.md.
"""

from __future__ import annotations

import math
import os
import sys

from parity.errors import one_line
from parity.report.json_output import envelope

_COLOURS = {"conforms": "32", "violates": "31", "needs_review": "33", "forbidden": "31", "allowed": "32"}


def painter(stream):
    """A function that colours a word by its verdict or outcome for ``stream``.

    Colour only on a terminal and without NO_COLOR; ``None`` (a report written to a file) gets none.
    """
    if stream is None or os.environ.get("NO_COLOR") or not stream.isatty():
        return lambda word: word
    return lambda word: f"\x1b[{_COLOURS.get(word, '33')}m{word}\x1b[0m"


def logs_text(results: list, paint=None) -> str:
    """One line per log with its verdict, each problem below it, and a total."""
    paint = paint or painter(sys.stdout)
    lines: list[str] = []
    explained: set[str] = set()
    for result in results:
        check = result.check
        identity = ", ".join(str(item or "?") for item in (check.round, check.benchmark, check.division))
        lines.append(f"{paint(result.verdict)}  {one_line(check.path)}  ({one_line(identity)})")
        lines.extend(_findings(result.problems, paint, explained))
    tally: dict[str, int] = {}
    for result in results:
        tally[result.verdict] = tally.get(result.verdict, 0) + 1
    summary = ", ".join(f"{verdict} {count}" for verdict, count in sorted(tally.items()))
    lines.append(f"{len(results)} log(s) checked: {summary or 'none found'}")
    return "\n".join(lines) + "\n"


def _findings(findings: list, paint, explained: set[str]) -> list[str]:
    """``file:line: outcome rule [kind]``, the observation, and the rule's reason the first time."""
    lines = []
    for finding in findings:
        location = next(iter(finding.evidence.locations), None)
        where = (location.file or location.name or "") if location is not None else ""
        if location is not None and location.line:
            where += f":{location.line}"
        rule = finding.rule or "(default polarity)"
        lines.append(f"  {one_line(where)}: {paint(finding.outcome.value)} by {rule} [{finding.kind}]")
        lines.append(f"    {one_line(finding.summary)}")
        if finding.rationale and rule not in explained:
            explained.add(rule)
            lines.append(f"    why: {finding.rationale}")
    return lines


def logs_payload(results: list) -> dict:
    """`parity logs check`: one entry per log, with its verdict, findings and observations."""
    return envelope(
        "logs",
        {
            "logs": [
                {
                    "file": str(result.check.path),
                    "ruleset": result.check.round,
                    "benchmark": result.check.benchmark,
                    "division": result.check.division,
                    "lines": result.check.lines,
                    "events": result.check.events,
                    **result.judgement.to_json(),
                    "observations": [item.to_json() for item in result.check.observations],
                }
                for result in results
            ]
        },
    )


def _converged(value: float) -> str:
    return "did not converge" if math.isinf(value) else f"{value:g}"


def rcp_text(result, paint=None) -> str:
    """The runs, the reference used and the test's numbers, the findings, then the verdict."""
    paint = paint or painter(sys.stdout)
    verdict = result.verdict
    lines = [f"{one_line(verdict.benchmark)} runs (round {verdict.round}, batch size {verdict.batch_size:g})"]
    rows = [
        (one_line(os.path.basename(str(run.path))), _converged(run.converged_at), one_line(run.status))
        for run in result.runs
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(2)] if rows else [0, 0]
    lines += [f"  {name:<{widths[0]}}  {point:>{widths[1]}}  {status}" for name, point, status in rows]
    reference = verdict.reference
    if reference is not None:
        lines.append(
            f"RCP {reference.name}: mean {reference.mean:g}, stdev {reference.stdev:.4g}, "
            f"n {reference.count}{' (interpolated)' if reference.interpolated else ''}"
        )
    if verdict.submission_mean is not None and verdict.min_acceptable_mean is not None:
        lines.append(
            f"submission olympic mean {verdict.submission_mean:g}; minimum acceptable "
            f"{verdict.min_acceptable_mean:g} (max speedup {verdict.max_speedup:.4g}); "
            f"normalisation {verdict.normalisation or 1:.4g}; statistics: {verdict.method}"
        )
    lines.append(f"{verdict.status}: {one_line(verdict.message)}")
    if result.other is not None:
        other = result.other
        lines.append(
            f"the {other.method} method gives another result: {other.status}: {one_line(other.message)}; "
            f"normalisation {other.normalisation or 1:.6g}. {other.rules_text}"
        )
    lines.extend(_findings(result.problems, paint, set()))
    lines.append(f"Verdict: {paint(result.judgement.verdict.value)}")
    return "\n".join(lines) + "\n"


def other_method_payload(other) -> dict | None:
    """The other RCP method's verdict where it differs (None where it does not), with the rules' text."""
    if other is None:
        return None
    return {
        "method": other.method,
        "status": other.status,
        "message": other.message,
        "normalisation": other.normalisation,
        "min_acceptable_mean": other.min_acceptable_mean,
        "reference": None if other.reference is None else other.reference.name,
        "rules_text": other.rules_text,
    }


def rcp_payload(result) -> dict:
    """`parity rcp check`: runs, the statistics used, the verdict."""
    verdict = result.verdict
    reference = verdict.reference
    return envelope(
        "rcp",
        {
            "folder": str(result.folder),
            "benchmark": verdict.benchmark,
            "round": verdict.round,
            "method": verdict.method,
            "batch_size": verdict.batch_size,
            "status": verdict.status,
            "message": verdict.message,
            "runs": [
                {
                    "file": str(run.path),
                    "converged_at": None if math.isinf(run.converged_at) else run.converged_at,
                    "status": run.status,
                }
                for run in result.runs
            ],
            "submission_olympic_mean": verdict.submission_mean,
            "reference": None
            if reference is None
            else {
                "name": reference.name,
                "batch_size": reference.batch_size,
                "mean": reference.mean,
                "stdev": reference.stdev,
                "count": reference.count,
                "interpolated": reference.interpolated,
            },
            "min_acceptable_mean": verdict.min_acceptable_mean,
            "max_speedup": verdict.max_speedup,
            "normalisation": verdict.normalisation,
            "other_method": other_method_payload(result.other),
            **result.judgement.to_json(),
            "observations": [item.to_json() for item in result.observations],
        },
    )
