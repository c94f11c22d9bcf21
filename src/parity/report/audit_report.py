"""Reports of `parity audit`: one table per organisation (runs, failures, RCP, score), then the problems.

Text for a terminal, JSON for tools (``docs/json-format.md``). Both read the audit's fields only.
"""

from __future__ import annotations

import os

from parity.report.json_output import envelope
from parity.report.logs_report import other_method_payload


def _benchmark_row(benchmark) -> dict:
    rcp = benchmark.rcp
    failed = [os.path.basename(log.path) for log in benchmark.logs if log.verdict != "conforms"]
    return {
        "system": benchmark.folder.system,
        "benchmark": benchmark.folder.benchmark,
        "division": benchmark.division,
        "runs": len(benchmark.logs),
        "failed_runs": failed,
        "rcp": None
        if rcp is None
        else {
            "status": rcp.verdict.status,
            "message": rcp.verdict.message,
            "method": rcp.verdict.method,
            "other_method": other_method_payload(rcp.other),
        },
        "rcp_error": benchmark.rcp_error or None,
        "score_minutes": benchmark.score,
        "unnormalised_minutes": benchmark.raw_score,
        "normalisation": benchmark.normalisation,
        "logs": [
            {"file": log.path, "verdict": log.verdict, "minutes": log.minutes, "problems": log.problems}
            for log in benchmark.logs
        ],
        **benchmark.judgement,
    }


def audit_payload(audit) -> dict:
    """The whole audit as JSON data."""
    return envelope(
        "audit",
        {
            "path": audit.path,
            "ruleset": audit.ruleset,
            "method": audit.method,
            "rulebook": audit.rulebook,
            "verdict": audit.verdict.value,
            "organisations": [
                {
                    "organisation": organisation.organisation.name,
                    "folder": str(organisation.organisation.path),
                    "verdict": organisation.verdict.value,
                    "findings": organisation.judgement["findings"],
                    "benchmarks": [_benchmark_row(benchmark) for benchmark in organisation.benchmarks],
                }
                for organisation in audit.organisations
            ],
        },
    )


def audit_text(audit) -> str:
    """A table per organisation and every finding that is not allowed, with its rule."""
    lines = [
        f"parity audit of {audit.path}: round {audit.ruleset}, {audit.rulebook}, statistics: {audit.method}"
    ]
    for organisation in audit.organisations:
        lines.append("")
        lines.append(f"{organisation.organisation.name}: {organisation.verdict.value}")
        header = ("system", "benchmark", "runs", "failed", "RCP", "norm.", "score (min)", "verdict")
        rows = [header]
        for benchmark in organisation.benchmarks:
            rcp = benchmark.rcp.verdict.status if benchmark.rcp is not None else (benchmark.rcp_error or "-")
            score = f"{benchmark.score:.3f}" if benchmark.score is not None else "-"
            failed = sum(1 for log in benchmark.logs if log.verdict != "conforms")
            rows.append(
                (
                    benchmark.folder.system,
                    benchmark.folder.benchmark,
                    str(len(benchmark.logs)),
                    str(failed),
                    rcp[:40],
                    f"{benchmark.normalisation:.4g}",
                    score,
                    benchmark.judgement["verdict"],
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines += [
            "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows
        ]
        problems = [f for f in organisation.judgement["findings"] if f["outcome"] != "allowed"]
        for benchmark in organisation.benchmarks:
            problems += [f for f in benchmark.judgement["findings"] if f["outcome"] != "allowed"]
        for finding in problems:
            locations = finding["evidence"]["locations"]
            where = (locations[0]["file"] or locations[0]["name"]) if locations else ""
            rule = finding["rule"] or finding["basis"]
            lines.append(f"  {where}: {finding['outcome']} by {rule} [{finding['kind']}]")
            lines.append(f"    {finding['summary']}")
    lines.append("")
    lines.append(f"Verdict: {audit.verdict.value}")
    return "\n".join(lines) + "\n"
