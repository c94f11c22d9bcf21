"""Audit corpus cases with parity's API, as `parity check` does, and score them against their expectations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

SUITES = {"inference": "mlperf-inference", "training": "mlperf-training"}


@dataclass
class Outcome:
    """What parity said about one case under one suite."""

    case: str
    suite: str
    expected: str
    verdict: str  # conforms / violates / needs_review / bad_input / internal_error
    located: bool | None
    findings: list[tuple[str, str, str]]  # (outcome, kind, summary) of the findings that are not allowed
    error: str | None = None

    @property
    def met(self) -> bool:
        return self.verdict == self.expected and self.located is not False


def audit(case, suite: str) -> Outcome:
    """Run parity check (structure, weights, numerics on the case's inputs) under one suite."""
    from parity.audit import check
    from parity.engines.numeric import NumericOptions
    from parity.errors import BadInput

    expected = case.expected[suite]
    try:
        result = check(
            case.reference,
            case.candidate,
            SUITES[suite],
            numeric=NumericOptions(inputs=Path(case.inputs)),
        )
    except BadInput as exc:
        return Outcome(case.id, suite, expected, "bad_input", None, [], str(exc))
    except Exception as exc:  # an internal error is what the corpus exists to catch
        return Outcome(case.id, suite, expected, "internal_error", None, [], f"{type(exc).__name__}: {exc}")
    judgement = result.judgement
    bad = [f for f in judgement.findings if f.outcome.value != "allowed"]
    located = None
    if case.where is not None and judgement.verdict.value == "violates":
        names = [
            location.name
            for finding in bad
            if finding.outcome.value == "forbidden"
            for location in finding.evidence.locations
        ]
        located = any(case.where in name for name in names)
    return Outcome(
        case.id,
        suite,
        expected,
        judgement.verdict.value,
        located,
        [(f.outcome.value, f.kind, f.summary[:160]) for f in bad],
    )


def table(outcomes: list[Outcome], cases) -> str:
    """Accepted / caught counts per tool (rows) and architecture, both suites, as Markdown."""
    by_case = {case.id: case for case in cases}
    cells: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        case = by_case[outcome.case]
        cells[(case.name, case.arch)].append(outcome)
    archs = sorted({case.arch for case in cases}, key=[c.arch for c in cases].index)
    rows = sorted({case.name for case in cases}, key=[c.name for c in cases].index)
    lines = ["| candidate | " + " | ".join(archs) + " | met |", "|---" * (len(archs) + 2) + "|"]
    for row in rows:
        met = total = 0
        line = [row]
        for arch in archs:
            found = cells.get((row, arch), [])
            good = sum(o.met for o in found)
            met, total = met + good, total + len(found)
            line.append(f"{good}/{len(found)}" if found else "—")
        lines.append("| " + " | ".join(line) + f" | {met}/{total} |")
    return "\n".join(lines)


@dataclass
class Baseline:
    """What Polygraphy's plain output comparison says of one case: the outputs match within tolerance."""

    case: str
    passed: bool | None  # None: Polygraphy could not compare (a model did not run)
    error: str | None = None


def polygraphy(case, atol: float = 1e-3, rtol: float = 1e-3) -> Baseline:
    """Polygraphy comparing the two models' outputs on the case's inputs (onnxruntime, CPU).

    As a user runs it: both models through Polygraphy's onnxruntime runner on the same feeds (cast to
    each model's input types, as one would for an fp16 model), outputs compared with CompareFunc.simple
    at ``atol`` and ``rtol``; outputs paired by name, or by position where a tool renamed them.
    """
    import numpy as np
    import onnx
    from polygraphy.backend.onnxrt import OnnxrtRunner, SessionFromOnnx
    from polygraphy.comparator import Comparator, CompareFunc
    from polygraphy.logger import G_LOGGER

    G_LOGGER.module_severity = G_LOGGER.ERROR
    samples = dict(np.load(case.inputs))
    count = len(next(iter(samples.values())))
    results = []
    try:
        for path in (case.reference, case.candidate):
            model = onnx.load(path, load_external_data=False)
            types = {
                value.name: onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)
                for value in model.graph.input
            }
            names = list(types)
            feeds = [
                {
                    name: samples[key][i : i + 1].astype(types[name])
                    for name, key in zip(names, samples, strict=False)
                }
                for i in range(count)
            ]
            runner = OnnxrtRunner(SessionFromOnnx(path, providers=["CPUExecutionProvider"]))
            results.extend(Comparator.run([runner], data_loader=feeds))
    except Exception as exc:  # a model Polygraphy cannot run
        return Baseline(case.id, None, f"{type(exc).__name__}: {str(exc)[:200]}")
    run_results = _as_run_results(results)

    def find(name, index, result):
        keys = list(result.keys())
        return [name] if name in result else keys[index : index + 1]

    compare = CompareFunc.simple(atol=atol, rtol=rtol, find_output_func=find)
    accuracy = Comparator.compare_accuracy(run_results, compare_func=compare)
    return Baseline(case.id, bool(accuracy))


def _as_run_results(pairs):
    from polygraphy.comparator import RunResults

    found = RunResults()
    for index, (name, iterations) in enumerate(pairs):
        found.append((f"{index}-{name}", iterations))
    return found
