"""`parity logs check`: MLPerf training result logs (MLLOG) against their round's rules.

A fast command (see :mod:`parity.cli.entry`): argparse, compiled rules, plain text.
"""

from __future__ import annotations

import sys

from parity.cli import output, progress
from parity.cli.arguments import ArgumentParser, add_output_options
from parity.judge.outcomes import worst_verdict

FORMATS = ("text", "json", "junit")


def parser() -> ArgumentParser:
    """The command line of `parity logs check`."""
    command = ArgumentParser(
        prog="parity logs check",
        description="Check training logs against their round's rules; the exit code is the worst verdict.",
    )
    command.add_argument(
        "paths", nargs="*", metavar="PATH", help="log files or folders (result_*.txt inside)"
    )
    command.add_argument(
        "--ruleset", help="round: 5.1, v5.1 or 5.1.0 (default: from the path, else the latest)"
    )
    command.add_argument("--benchmark", help="override the logged submission_benchmark")
    command.add_argument(
        "--division", choices=("closed", "open"), help="override the logged submission_division"
    )
    add_output_options(command, FORMATS)
    return command


def main(argv: list[str]) -> int:
    """Run `parity logs check ARGV...`; returns the exit code."""
    args = parser().parse_paths_anywhere(argv, "paths")  # options may come between the paths
    from parity.audit.logs import check_logs, log_files, require_ruleset
    from parity.report.logs_report import logs_payload, logs_text, painter

    output.refuse_overwriting_inputs(args.out, args.paths)
    args.ruleset = require_ruleset(args.ruleset)
    files = log_files(args.paths)
    with progress.steps(len(files)) as announce:
        results = check_logs(
            files,
            args.ruleset,
            args.benchmark,
            args.division,
            on_file=lambda path: announce(f"checking {path}"),
        )
    worst = worst_verdict(result.verdict for result in results)
    if args.format == "text":
        report = logs_text(results, painter(None if args.out else sys.stdout))
    elif args.format == "json":
        from parity.report.json_output import to_json

        report = to_json(logs_payload(results))
    else:
        from parity.report.junit import render_logs_junit
        from parity.rulebook import load_rulebook

        report = render_logs_junit(results, load_rulebook)
    output.write_report(report, args.out, worst.value, args.format)
    return worst.exit_code
