"""`parity rcp check`: a benchmark's runs against the reference convergence points, and their seeds.

A fast command (see :mod:`parity.cli.entry`): argparse, compiled judge table, plain text.
"""

from __future__ import annotations

import os
import sys

from parity.cli import output, progress
from parity.cli.arguments import ArgumentParser, add_output_options

FORMATS = ("text", "json", "html")
METHODS = ("rules", "mlperf-logging")


def parser() -> ArgumentParser:
    """The command line of `parity rcp check`."""
    command = ArgumentParser(
        prog="parity rcp check",
        description="Test a benchmark's runs against the reference convergence points of its round, and "
        "(from round 4.1) their seeds against each other.",
    )
    command.add_argument("folder", help="a benchmark folder of result_*.txt logs")
    command.add_argument("--ruleset", help="round, e.g. 5.1.0 (default: from the path)")
    command.add_argument(
        "--method",
        choices=METHODS,
        default="rules",
        help="statistics: the training rules' (default) or mlperf-logging's",
    )
    add_output_options(command, FORMATS)
    return command


def main(argv: list[str]) -> int:
    """Run `parity rcp check ARGV...`; returns the exit code."""
    args = parser().parse_args(argv)
    output.refuse_overwriting_inputs(args.out, [args.folder])
    from parity.audit.rcp import check_rcp
    from parity.engines.convergence.runs import run_files
    from parity.report.logs_report import painter, rcp_payload, rcp_text

    files = run_files(args.folder) if os.path.isdir(args.folder) else None  # else check_rcp says why
    with progress.steps(len(files[0]) if files else 0) as announce:
        result = check_rcp(
            args.folder, args.ruleset, args.method, on_file=lambda p: announce(f"reading {p}"), files=files
        )
    verdict = result.judgement.verdict
    if args.format == "text":
        report = rcp_text(result, painter(None if args.out else sys.stdout))
    elif args.format == "json":
        from parity.report.json_output import to_json

        report = to_json(rcp_payload(result))
    else:
        from parity.report.html import render_convergence  # jinja2: imported only when asked for

        report = render_convergence(result)
    output.write_report(report, args.out, verdict.value, args.format)
    return verdict.exit_code
