"""Pictures of convergence: each run's quality over training against the target, and the RCP test.

The first plot shows what the logs say (evaluation quality per epoch or sample count, one line per run,
the round's quality target dashed). The second puts the submission's runs and its mean next to the
reference runs, their mean and the smallest mean the rules accept: a submission to the left of that line
converged faster than the reference allows.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT, LEFT, BOTTOM = 680, 260, 56, 28
#: the plot frame, as the convergence templates' macro takes it
FRAME = {"width": WIDTH, "height": HEIGHT, "left": LEFT, "bottom": BOTTOM}
PALETTE = ("#2b5fad", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#be185d")
TARGET = re.compile(r"value\s*(?:>=|>|<=|<)\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)")


@dataclass
class Axis:
    """A linear mapping from data to pixels, and its tick labels."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        """The pixel coordinate of ``value``."""
        span = (self.high - self.low) or 1.0
        return self.start + (self.end - self.start) * (value - self.low) / span

    def ticks(self, count: int = 5) -> list[tuple[str, float]]:
        """``count`` evenly spaced labels (four significant digits) and their pixel positions."""
        step = (self.high - self.low) / (count - 1) if self.high > self.low else 1.0
        values = [self.low + i * step for i in range(count)]
        return [(f"{v:.4g}", self(v)) for v in values]


@dataclass
class Curve:
    """One run's evaluations as a polyline."""

    name: str
    colour: str
    points: str
    converged: bool


@dataclass
class QualityPlot:
    """Quality over training for every run."""

    x_label: str
    curves: list[Curve]
    x_ticks: list[tuple[str, float]]
    y_ticks: list[tuple[str, float]]
    target: str | None = None
    target_y: float | None = None


@dataclass
class RcpPlot:
    """The RCP test on one axis: reference runs, submission runs, the means and the acceptance line."""

    x_label: str
    reference: list[float] = field(default_factory=list)
    submission: list[float] = field(default_factory=list)
    marks: list[tuple[str, float, str]] = field(default_factory=list)
    ticks: list[tuple[str, float]] = field(default_factory=list)


def quality_plot(result: Any) -> QualityPlot | None:
    """Quality over training for each run of an RCP check (None if no run logged a numeric quality)."""
    series = [(run, run.evaluations) for run in result.runs if run.evaluations]
    if not series:
        return None
    xs = [x for _, points in series for x, _ in points]
    ys = [y for _, points in series for _, y in points]
    target = result.quality_target
    found = TARGET.search(target or "")
    target_value = float(found.group(1)) if found else None
    if target_value is not None:
        ys.append(target_value)
    x_axis = Axis(min(xs), max(xs), LEFT, WIDTH - 30)
    y_axis = Axis(min(ys), max(ys), HEIGHT - BOTTOM, 12)
    curves = [
        Curve(
            os.path.basename(run.path),
            PALETTE[i % len(PALETTE)],
            " ".join(f"{x_axis(x):.1f},{y_axis(y):.1f}" for x, y in points),
            math.isfinite(run.converged_at),
        )
        for i, (run, points) in enumerate(series)
    ]
    return QualityPlot(
        result.verdict.unit,
        curves,
        x_axis.ticks(),
        y_axis.ticks(),
        target,
        y_axis(target_value) if target_value is not None else None,
    )


def rcp_plot(result: Any) -> RcpPlot | None:
    """The RCP test drawn on one axis (None when the round has no reference for the benchmark)."""
    verdict = result.verdict
    if verdict.reference is None:
        return None
    submission = [r for r in verdict.runs if math.isfinite(r)]
    marks = [("reference mean", verdict.reference.mean, "#555")]
    if verdict.min_acceptable_mean is not None:
        marks.append(("smallest accepted mean", verdict.min_acceptable_mean, "#b3261e"))
    if verdict.submission_mean is not None:
        marks.append(("submission mean", verdict.submission_mean, "#2b5fad"))
    values = [*verdict.reference.runs, *submission, *(value for _, value, _ in marks)]
    axis = Axis(min(values), max(values), LEFT, WIDTH - 30)
    unit = verdict.unit
    return RcpPlot(
        f"{unit} to converge (batch size {verdict.batch_size:g}; reference {verdict.reference.name})",
        [axis(v) for v in verdict.reference.runs],
        [axis(v) for v in submission],
        [(label, axis(value), colour) for label, value, colour in marks],
        axis.ticks(),
    )
