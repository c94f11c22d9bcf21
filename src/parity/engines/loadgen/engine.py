"""One inference result observed: its scored run, accuracy, measurements, power files and compliance tests."""

from __future__ import annotations

from parity.engines.loadgen.compliance import ModelFacts, check_compliance
from parity.engines.loadgen.findings import Findings
from parity.engines.loadgen.result_check import (
    ACCURACY_LOG,
    DETAIL,
    ResultPaths,
    ResultRow,
    check_accuracy,
    check_measurements,
    check_performance,
    check_power,
    check_run,
    check_summary_agrees,
    read_detail_or_note,
    result_metric,
)
from parity.engines.loadgen.rounds import load_inference_round
from parity.observations.kinds import RESULT_NOT_IN_ROUND

#: (logged, folder) scenarios the checker infers one from the other (submission_checker.py v5.1.1:1775-1823);
#: an Interactive run is logged as a Server one
INFERRED = frozenset(
    {
        ("SingleStream", "MultiStream"),
        ("SingleStream", "Offline"),
        ("MultiStream", "Offline"),
        ("Server", "Interactive"),
    }
)


class ResultCheck:
    """A result's observations and its row of the summary table."""

    __slots__ = ("observations", "paths", "row")

    def __init__(self, paths: ResultPaths, row: ResultRow, observations: list) -> None:
        self.paths, self.row, self.observations = paths, row, observations


def observe_result(paths: ResultPaths, round_name: str) -> ResultCheck:
    """Every check of one result (see the package's modules); unreadable files become observations.

    Content no check foresaw (a value of a type no reader expects) stops this result only: it is
    recorded as unverifiable evidence and the rest of the tree is audited.
    """
    round_data = load_inference_round(round_name)
    found = Findings()
    row = ResultRow(paths.system, paths.model, paths.scenario)
    try:
        return _observe(paths, round_data, found, row)
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError, RecursionError) as exc:
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        found.missing(paths.path, f"could not be audited ({reason})", "the result")
        row.notes = found.notes
        return ResultCheck(paths, row, found.observations)


def _observe(paths: ResultPaths, round_data, found: Findings, row: ResultRow) -> ResultCheck:
    named = round_data.model_named(paths.model, paths.extra_mapping)
    if named is None:  # the checker refuses it in every division (v5.1.1:2488-2512); the rest is checked
        mapped = (
            " (nor does the organisation's model_mapping.json map it)" if paths.division == "open" else ""
        )
        found.add(
            RESULT_NOT_IN_ROUND,
            f"{paths.model!r} is not a model of round {round_data.round}{mapped}",
            paths.path.parent,
            details={"model": paths.model, "round": round_data.round},
        )
    model_name, model = named if named is not None else (paths.model, None)
    scored = read_detail_or_note(paths.performance / DETAIL, found, "the scored performance run")
    if scored is not None:
        if model is not None:
            check_performance(scored, model_name, model, round_data, found, "scored run", paths.scenario)
        else:
            check_run(scored, round_data, found, "scored run")
        check_summary_agrees(scored, found, "scored run")
        row.metric, row.unit = result_metric(scored, model, found)
        row.valid = scored.values.get("result_validity") == "VALID"
        logged = scored.effective("scenario")
        if isinstance(logged, str) and logged != paths.scenario and (logged, paths.scenario) not in INFERRED:
            found.add(
                RESULT_NOT_IN_ROUND,
                f"the {paths.scenario} folder holds a {logged} run",
                scored.path,
                scored.line("effective_scenario"),
                "effective_scenario",
                details={"folder": paths.scenario, "logged": logged},
            )
    check_accuracy(paths, model_name, model, round_data, found, row)
    check_measurements(paths, found)
    check_power(paths, found)
    if paths.division != "open" and model is not None:  # compliance tests: Closed and Network only
        row.compliance = check_compliance(
            paths.compliance,
            model.compliance_tests,
            scored,
            paths.scenario,
            found,
            paths.accuracy / ACCURACY_LOG,
            ModelFacts(model_name, model, round_data),
        )
    row.notes = found.notes
    return ResultCheck(paths, row, found.observations)
