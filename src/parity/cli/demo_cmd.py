"""`parity demo`: the first run. Audit the bundled example under both suites and write the HTML reports.

The same candidate (what onnxruntime's optimiser made of a small ResNet-style model) conforms under the
inference rules and violates the training rules; a second candidate with one activation swapped violates
the inference rules too. Seeing the three reports side by side is the quickest way to learn what parity
says and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from parity.cli import output, progress, terminal

#: the repository's examples folder, when running from a clone (built afresh otherwise)
CLONE_EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "cnn"


@dataclass(frozen=True)
class DemoAudit:
    """One audit of the tour: which candidate, under which rulebook, written where."""

    candidate: str
    rulebook: str
    report: str
    point: str


AUDITS = (
    DemoAudit("optimized", "mlperf-inference", "inference-optimized.html", "graph optimisations are allowed"),
    DemoAudit("optimized", "mlperf-training", "training-optimized.html", "the same changes alter training"),
    DemoAudit("swapped_activation", "mlperf-inference", "inference-swapped.html", "a different model"),
)


def _examples(out: Path) -> Path:
    needed = {f"{name}.onnx" for name in ("reference", *(a.candidate for a in AUDITS))}
    if all((CLONE_EXAMPLES / name).is_file() for name in needed):
        return CLONE_EXAMPLES
    from parity.examples.build import build

    build(out / "models")
    return out / "models" / "cnn"


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the reports.")] = Path("parity-demo"),
) -> int:
    """Audit the bundled example under both suites and write an HTML report of each."""
    from rich.table import Table
    from rich.text import Text

    from parity.audit import check
    from parity.engines.numeric import NumericOptions
    from parity.report.html import render_report

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from parity.errors import BadInput

        raise BadInput(f"cannot create the folder ({exc.strerror})", out) from None
    examples = _examples(out)
    table = Table("candidate", "rulebook", "verdict", "what it shows", "report", box=None)
    with progress.steps(len(AUDITS)) as announce:
        for audit in AUDITS:
            announce(f"auditing {audit.candidate} under {audit.rulebook}")
            result = check(
                examples / "reference.onnx",
                examples / f"{audit.candidate}.onnx",
                audit.rulebook,
                numeric=NumericOptions(),
            )
            output.write_file(out / audit.report, render_report(result))
            verdict = result.judgement.verdict.value
            style = {"conforms": "green", "violates": "red"}.get(verdict, "yellow")
            table.add_row(
                audit.candidate,
                audit.rulebook,
                Text(verdict, style=style),
                audit.point,
                str(out / audit.report),
            )
    console = terminal.console()
    console.print(table)
    console.print(
        Text.assemble("\nOpen ", (str(out / AUDITS[0].report), "bold"), " (and the others) in a browser.")
    )
    return 0
