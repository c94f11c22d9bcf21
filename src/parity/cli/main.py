"""The typer app: every command except the fast ones (see :mod:`parity.cli.entry`), and its help."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from parity.cli import demo_cmd, output, progress, rules_cmd
from parity.cli.entry import FAST_COMMANDS, exit_codes, fail, refuse_option_files
from parity.cli.output import emit_json, refuse_overwriting_inputs, write_file
from parity.cli.terminal import Format, OutOption, console, deliver
from parity.errors import ExitCode

app = typer.Typer(
    name="parity",
    help="Audit an ML benchmark implementation against its reference, rule by rule.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def main_options(
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display and no notes on stderr (for CI).")
    ] = False,
) -> None:
    """Audit an ML benchmark implementation against its reference, rule by rule."""
    output.set_quiet(quiet)


app.command("demo")(demo_cmd.demo)
app.add_typer(rules_cmd.app, name="rules")
GROUP_HELP = {
    "logs": "Check MLPerf training result logs (MLLOG).",
    "rcp": "A benchmark folder's runs: reference convergence points (RCP) and seed rules.",
}


def _fast(module_name: str, summary: str):
    """A typer stand-in for a fast command, so help lists it; arguments go to its own parser."""

    def command(ctx: typer.Context) -> int:
        from importlib import import_module

        return import_module(module_name).main(list(ctx.args))

    command.__doc__ = summary
    return command


for (group, name), module_name in FAST_COMMANDS.items():
    sub_app = typer.Typer(
        help=GROUP_HELP[group], no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]}
    )
    sub_app.command(
        name,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )(_fast(module_name, f"{GROUP_HELP[group]} (`parity {group} {name} --help` for its options)"))
    app.add_typer(sub_app, name=group)


@app.command("judge")
def judge_command(
    evidence: Annotated[Path, typer.Argument(help="Evidence file (or a JSON report) with observations.")],
    rulebook: Annotated[str, typer.Option("--rulebook", "-r", help="Rulebook id, alias or path.")],
    division: Annotated[
        str | None, typer.Option(help="closed, open or network (default: the evidence's, else closed).")
    ] = None,
    benchmark: Annotated[
        str | None, typer.Option(help="Benchmark, for benchmark-specific rules (default: the evidence's).")
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.TEXT,
) -> int:
    """Re-judge saved observations under a rulebook, without running anything."""
    from parity.judge import judge
    from parity.observations import load_evidence
    from parity.report import payloads, text
    from parity.rulebook import load_rulebook

    saved = load_evidence(evidence)
    book = load_rulebook(rulebook)
    division = division or saved.subject.division or "closed"
    judgement = judge(saved.observations, book, division, benchmark or saved.subject.benchmark)
    if format is Format.JSON:
        emit_json(payloads.judgement_payload(judgement, saved.observations))
    else:
        text.judgement(console(), judgement, book)
    return judgement.verdict.exit_code


class CheckFormat(StrEnum):
    """Report formats of `parity check`."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"
    JUNIT = "junit"


class Localise(StrEnum):
    """When the numeric engine looks inside the models."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


@app.command("check")
def check_command(
    reference: Annotated[Path, typer.Option("--reference", help="The reference ONNX model.")],
    candidate: Annotated[Path, typer.Option("--candidate", help="The candidate ONNX model.")],
    rulebook: Annotated[str, typer.Option("--rulebook", "-r", help="Rulebook id, alias or path.")],
    division: Annotated[str, typer.Option(help="closed, open or network.")] = "closed",
    benchmark: Annotated[str | None, typer.Option(help="Benchmark, for benchmark-specific rules.")] = None,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", help="Report format.")] = CheckFormat.TEXT,
    out: OutOption = None,
    save_evidence: Annotated[
        Path | None,
        typer.Option("--save-evidence", help="Also write the observations here, to re-judge later."),
    ] = None,
    max_model_bytes: Annotated[
        int, typer.Option(help="Refuse larger models (bytes, external data included).")
    ] = (4 * 1024**3),
    reference_weights: Annotated[
        Path | None,
        typer.Option(help="A .safetensors file whose tensors replace the reference's initializers."),
    ] = None,
    candidate_weights: Annotated[
        Path | None,
        typer.Option(help="A .safetensors file whose tensors replace the candidate's initializers."),
    ] = None,
    numeric: Annotated[bool, typer.Option(help="Run both models (sandboxed) and compare outputs.")] = True,
    inputs: Annotated[
        Path | None,
        typer.Option(
            help="Samples .npz, one array per model input: [N, *input_shape[1:]] (samples on the batch "
            "axis) or [N, *input_shape] (one full feed per sample)."
        ),
    ] = None,
    samples: Annotated[int, typer.Option(help="Random samples when --inputs is not given.", min=1)] = 4,
    seed: Annotated[int, typer.Option(help="Seed of the random samples.")] = 0,
    labels: Annotated[
        Path | None, typer.Option(help=".npz with a 'labels' array: top-1 accuracy against the reference.")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds each model may run.", min=1)] = 300.0,
    memory_limit: Annotated[int, typer.Option(help="Bytes of address space each model may use.")] = 8
    * 1024**3,
    divergence_inputs: Annotated[
        Path | None, typer.Option(help="Write the samples that show a numeric difference here (.npz).")
    ] = None,
    localise: Annotated[
        Localise,
        typer.Option(help="Expose matched intermediate tensors: when outputs differ, always, or never."),
    ] = "auto",
) -> int:
    """Audit a candidate model against its reference under a rulebook; the exit code is the verdict."""
    from parity.audit import check
    from parity.audit.artifacts import MODEL_PAIR
    from parity.audit.engines import engines_for
    from parity.engines.numeric import NumericOptions
    from parity.observations import EvidenceFile, EvidenceSubject
    from parity.observations.plain import known_division
    from parity.report.formats import render_check, show_text
    from parity.report.json_output import to_json

    read = [reference, candidate, reference_weights, candidate_weights, inputs, labels, rulebook]
    for option, path in (
        ("--out", out),
        ("--save-evidence", save_evidence),
        ("--divergence-inputs", divergence_inputs),
    ):
        refuse_overwriting_inputs(path, read, option)
    options = NumericOptions(
        inputs, samples, seed, labels, time_limit, memory_limit, Localise(localise).value, divergence_inputs
    )
    with progress.steps(len(engines_for(MODEL_PAIR))) as announce:
        result = check(
            reference,
            candidate,
            rulebook,
            division,
            benchmark,
            max_model_bytes,
            reference_weights,
            candidate_weights,
            options if numeric else None,
            announce,
        )
    if save_evidence is not None:
        subject = EvidenceSubject(
            f"{reference} vs {candidate}",
            "model pair",
            result.rulebook.round,
            known_division(division),
            benchmark,
        )
        evidence = EvidenceFile(subject=subject, observations=result.observations)
        write_file(save_evidence, to_json(evidence.to_json()))
    deliver(
        format.value,
        out,
        result.judgement.verdict.value,
        lambda shown: show_text(result, shown),
        lambda: render_check(result, format.value),
    )
    return result.judgement.verdict.exit_code


class AuditFormat(StrEnum):
    """Report formats of `parity audit`."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"
    JUNIT = "junit"


class Method(StrEnum):
    """RCP statistics: the rules' text, or mlperf-logging's."""

    RULES = "rules"
    MLPERF_LOGGING = "mlperf-logging"


@app.command("audit")
def audit_command(
    path: Annotated[
        Path,
        typer.Argument(help="An organisation folder (results/, systems/), a division or a round of them."),
    ],
    ruleset: Annotated[
        str | None,
        typer.Option(help="Round: 5.1.0 for training, 5.1 for inference (default: from the path)."),
    ] = None,
    method: Annotated[Method, typer.Option(help="RCP statistics.")] = Method.RULES,
    jobs: Annotated[int | None, typer.Option(help="Processes (default: the cores).", min=1)] = None,
    format: Annotated[AuditFormat, typer.Option("--format", "-f", help="Report format.")] = AuditFormat.TEXT,
    out: OutOption = None,
    save_evidence: Annotated[
        Path | None,
        typer.Option("--save-evidence", help="Also write every observation here, to re-judge later."),
    ] = None,
) -> int:
    """Audit a whole submission, training or inference (told by its layout), against its round's rules.

    Training: systems, logs, run counts, RCPs, seeds and scores. Inference: LoadGen results, accuracy,
    settings, latencies and the compliance tests recomputed from the logs.
    """
    from parity.audit.inference_tree import is_inference_tree
    from parity.audit.subjects import evidence_subject
    from parity.audit.submission import audit_submission
    from parity.observations import EvidenceFile
    from parity.report.json_output import to_json

    for option, written in (("--out", out), ("--save-evidence", save_evidence)):
        refuse_overwriting_inputs(written, [path], option)
    if is_inference_tree(path):
        return _audit_inference(path, ruleset, jobs, format, out, save_evidence)
    with progress.phases() as phase:
        result = audit_submission(path, ruleset, method.value, jobs, phase)
    if save_evidence is not None:
        subject = evidence_subject(path, result)
        write_file(save_evidence, to_json(EvidenceFile(result.observations(), subject).to_json()))
    output.write_report(_audit_report(result, format), out, result.verdict.value, format.value)
    return result.verdict.exit_code


def _audit_inference(path, ruleset, jobs, format: AuditFormat, out, save_evidence) -> int:
    from parity.audit.inference_submission import audit_inference
    from parity.audit.subjects import evidence_subject
    from parity.observations import EvidenceFile
    from parity.report import inference_report as report
    from parity.report.json_output import to_json

    with progress.phases() as phase:
        result = audit_inference(path, ruleset, jobs, phase)
    if save_evidence is not None:
        subject = evidence_subject(path, result)
        write_file(save_evidence, to_json(EvidenceFile(result.observations(), subject).to_json()))
    if format is AuditFormat.JSON:
        text = to_json(report.inference_payload(result))
    elif format is AuditFormat.HTML:
        text = report.render_inference_html(result)
    elif format is AuditFormat.MARKDOWN:
        from parity.rulebook import load_rulebook

        text = report.inference_markdown(result, load_rulebook(result.rulebook))
    elif format is AuditFormat.JUNIT:
        text = report.inference_junit(result)
    else:
        text = report.inference_text(result)
    output.write_report(text, out, result.verdict.value, format.value)
    return result.verdict.exit_code


def _audit_report(result, format: AuditFormat) -> str:
    from parity.report import audit_report

    if format is AuditFormat.JSON:
        from parity.report.json_output import to_json

        return to_json(audit_report.audit_payload(result))
    if format is AuditFormat.HTML:
        from parity.report.html import render_audit

        return render_audit(result)
    if format is AuditFormat.MARKDOWN:
        from parity.rulebook import load_rulebook

        return audit_report.audit_markdown(result, load_rulebook(result.rulebook))
    if format is AuditFormat.JUNIT:
        return audit_report.audit_junit(result)
    return audit_report.audit_text(result)


def _is_click_error(exc: Exception) -> bool:
    """Click's ClickException (typer vendors click in newer releases, so match its interface)."""
    return hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int)


def run(argv: list[str] | None = None) -> NoReturn:
    """Run the typer app and exit with DESIGN.md's codes; no traceback reaches the user."""
    with exit_codes():
        refuse_option_files(list(sys.argv[1:] if argv is None else argv))
        try:
            result = app(args=argv, prog_name="parity", standalone_mode=False)
        except typer.Abort:
            fail("aborted", ExitCode.BAD_INPUT)
        except Exception as exc:
            if _is_click_error(exc):
                fail(f"usage error: {exc.format_message()}", ExitCode.BAD_INPUT)
            raise
    sys.exit(int(result) if isinstance(result, int) else ExitCode.CONFORMS)


if __name__ == "__main__":
    from parity.cli.entry import main

    main()
