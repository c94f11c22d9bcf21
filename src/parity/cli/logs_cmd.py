"""`parity logs …` and `parity rcp …`: training logs and reference convergence points."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from parity.cli import progress
from parity.cli.output import OutOption, deliver
from parity.errors import ExitCode
from parity.report.json_output import to_json


class LogsFormat(StrEnum):
    """Report formats of `parity logs check`."""

    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"


logs_app = typer.Typer(help="Check MLPerf training result logs (MLLOG).", no_args_is_help=True)


@logs_app.command("check")
def logs_check(
    paths: Annotated[
        list[Path], typer.Argument(help="Log files or folders (result_*.txt inside are checked).")
    ],
    ruleset: Annotated[
        str | None, typer.Option(help="Round, e.g. 5.1.0 (default: from the path, else latest).")
    ] = None,
    benchmark: Annotated[str | None, typer.Option(help="Override the logged submission_benchmark.")] = None,
    division: Annotated[str | None, typer.Option(help="Override the logged submission_division.")] = None,
    format: Annotated[LogsFormat, typer.Option("--format", "-f", help="Output format.")] = LogsFormat.TEXT,
    out: OutOption = None,
) -> int:
    """Check training logs against their round's rules; the exit code is the worst verdict."""
    from parity.audit.logs import check_logs, log_files
    from parity.report import payloads, text
    from parity.report.junit import render_logs_junit
    from parity.rulebook import load_rulebook

    files = log_files(paths)
    with progress.steps(len(files)) as announce:
        results = check_logs(
            files, ruleset, benchmark, division, on_file=lambda path: announce(f"checking {path.name}")
        )
    worst = max((r.judgement.verdict for r in results), key=lambda v: v.exit_code, default=None)
    renderers = {
        LogsFormat.JSON: lambda: to_json(payloads.logs_payload(results)),
        LogsFormat.JUNIT: lambda: render_logs_junit(results, load_rulebook),
    }
    deliver(
        format.value,
        out,
        worst.value if worst else "conforms",
        lambda shown: text.logs(shown, results),
        lambda: renderers[format](),
    )
    return max((result.judgement.verdict.exit_code for result in results), default=ExitCode.CONFORMS)


rcp_app = typer.Typer(
    help="Reference convergence points: are the runs no faster than the reference?", no_args_is_help=True
)


class RcpFormat(StrEnum):
    """Report formats of `parity rcp check`."""

    TEXT = "text"
    JSON = "json"
    HTML = "html"


@rcp_app.command("check")
def rcp_check(
    folder: Annotated[Path, typer.Argument(help="A benchmark folder of result_*.txt logs.")],
    ruleset: Annotated[str | None, typer.Option(help="Round, e.g. 5.1.0 (default: from the path).")] = None,
    method: Annotated[
        str, typer.Option(help="'rules' (the training rules' statistics) or 'mlperf-logging'.")
    ] = ("rules"),
    format: Annotated[RcpFormat, typer.Option("--format", "-f", help="Output format.")] = RcpFormat.TEXT,
    out: OutOption = None,
) -> int:
    """Test a benchmark's runs against the reference convergence points of its round."""
    from parity.audit.rcp import check_rcp
    from parity.engines.convergence.runs import run_files
    from parity.errors import BadInput
    from parity.report import payloads, text

    if method not in ("rules", "mlperf-logging"):
        raise BadInput(f"--method must be 'rules' or 'mlperf-logging', not {method!r}")
    files = run_files(folder) if folder.is_dir() else []
    with progress.steps(len(files)) as announce:
        result = check_rcp(folder, ruleset, method, on_file=lambda path: announce(f"reading {path.name}"))

    def html() -> str:
        from parity.report.html import render_convergence  # jinja2: imported only when asked for

        return render_convergence(result)

    renderers = {RcpFormat.JSON: lambda: to_json(payloads.rcp_payload(result)), RcpFormat.HTML: html}
    deliver(
        format.value,
        out,
        result.judgement.verdict.value,
        lambda shown: text.rcp(shown, result),
        lambda: renderers[format](),
    )
    return result.judgement.verdict.exit_code
