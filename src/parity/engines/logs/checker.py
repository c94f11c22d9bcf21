"""Checking one parsed log against a round's rules: observations in the shared vocabulary.

Rules are evaluated after the whole log is read, so a rule may use any key's value whatever the order
the log wrote them in. Failures are consolidated to their root cause: a run that stops before
``run_stop`` is one finding (not one per missing event), and so is a log holding more than one run.

Events are counted as events: a key required exactly once whose records carry no value (``run_stop``,
``init_stop``, ...: :data:`parity.engines.logs.boundaries.ONCE_EVENTS`) is a finding when it occurs twice,
with every occurrence as witness; only a *value* repeated identically is tolerated, as mlperf-logging
does. The rules' ``t_run_start``, ``t_run_stop``, ``t_init_start`` and ``t_init_stop`` are the run's
boundaries (:func:`parity.engines.logs.boundaries.run_boundaries`), which the score and convergence read.
"""

from __future__ import annotations

from parity.engines.logs.boundaries import ONCE_EVENTS, run_boundaries
from parity.engines.logs.expressions import ExpressionError, run
from parity.engines.logs.parser import Event, ParsedLog
from parity.engines.logs.rules import Aggregation, LogRule, RoundRules
from parity.observations import plain
from parity.observations.kinds import (
    HPARAM_OUT_OF_RANGE,
    LOG_EVENT_MISSING,
    LOG_FILE_REFUSED,
    LOG_QUALITY_TARGET_MISSED,
)
from parity.untrusted import MAX_ECHO_CHARS, echo

ENGINE = "logs"


class LogCheck:
    """The result of checking one log: its identity and its observations."""

    __slots__ = ("benchmark", "division", "events", "lines", "observations", "path", "round")

    def __init__(
        self, path, round_name: str, benchmark: str | None, division: str | None, events: int, lines: int
    ) -> None:
        self.path = path
        self.round = round_name
        self.benchmark = benchmark
        self.division = division
        self.observations: list[plain.Observation] = []
        self.events = events
        self.lines = lines


def check_log(
    parsed: ParsedLog, rules: RoundRules, benchmark: str | None = None, division: str | None = None
) -> LogCheck:
    """Observations for ``parsed`` under ``rules``; benchmark and division default to what the log says."""
    grouped = parsed.by_key()
    division = division or _first_value(grouped, "submission_division")
    benchmark = benchmark or _first_value(grouped, "submission_benchmark")
    result = LogCheck(parsed.path, rules.round, None, None, len(parsed.events), parsed.lines)
    found: list[plain.Observation] = []
    if parsed.malformed:
        found.append(_malformed(parsed))
    problem = _identity(parsed, grouped, rules, division, benchmark)
    if problem is not None:
        result.observations = [*found, problem]
        return result
    result.division = division
    result.benchmark = benchmark
    for aggregation in rules.aggregations:
        if (not aggregation.divisions or division in aggregation.divisions) and (
            not aggregation.benchmarks or benchmark in aggregation.benchmarks
        ):
            aggregated = _aggregate(grouped.get(aggregation.source, []), aggregation)
            if aggregated:
                grouped[aggregation.key] = aggregated
    env = _environment(grouped, rules, division, benchmark)
    applicable = [rule for rule in rules.rules if _applies(rule, division, benchmark)]
    truncated = "run_stop" not in grouped
    several = len(grouped.get("run_start", ())) > 1
    for rule in applicable:
        found.extend(_check_rule(rule, grouped, env, rules.expressions, parsed.path, truncated, several))
    if truncated:
        found.insert(0, _truncated(parsed, grouped, applicable))
    if several:
        starts = grouped["run_start"]
        found.insert(
            0,
            _repeated(
                parsed.path,
                starts,
                f"the log holds {len(starts)} runs (run_start repeated at lines {_lines(starts)}); "
                "one result file must hold one run",
                {"key": "run_start", "rule": "exactly_one"},
            ),
        )
    result.observations = found
    return result


def refused_check(refused, rules: RoundRules, benchmark: str | None, division: str | None) -> LogCheck:
    """The check of a file that was not read (:class:`parity.engines.logs.files.Refused`): one finding."""
    result = LogCheck(refused.path, rules.round, benchmark, division, 0, 0)
    result.observations = [refused_observation(refused)]
    return result


def refused_observation(refused) -> plain.Observation:
    """``log.file_refused`` for a file the audit would not read, saying why."""
    where = plain.location("file", str(refused.path))
    summary = f"not read: {refused.reason}"
    return plain.observation(LOG_FILE_REFUSED, ENGINE, summary, [where], {}, {"reason": refused.reason})


def _identity(
    parsed: ParsedLog, grouped: dict[str, list[Event]], rules: RoundRules, division, benchmark
) -> dict | None:
    """A finding if the division or benchmark is not one of the round's (checked before any use)."""
    if not isinstance(division, str) or division not in rules.benchmarks:
        key, problem = (
            "submission_division",
            f"is {echo(division)}, expected one of {', '.join(rules.benchmarks)}",
        )
    elif not isinstance(benchmark, str) or benchmark not in rules.benchmarks[division]:
        key, problem = (
            "submission_benchmark",
            f"is {echo(benchmark)}, not a {division} benchmark of round {rules.round}",
        )
    else:
        return None
    return _observation(LOG_EVENT_MISSING, parsed.path, _line(grouped, key), f"{key} {problem}", {"key": key})


def _aggregate(events: list[Event], aggregation: Aggregation) -> list[Event]:
    """One virtual event per group: {name: value, ..., group_by: group}, at its last record's time."""
    groups: dict = {}
    last: dict = {}
    for event in events:
        if aggregation.name_by not in event.metadata or aggregation.group_by not in event.metadata:
            continue
        group = event.metadata[aggregation.group_by]
        if not isinstance(group, int | float | str):
            continue
        groups.setdefault(group, {aggregation.group_by: group})[str(event.metadata[aggregation.name_by])] = (
            event.value
        )
        if group not in last or event.time_ms >= last[group].time_ms:
            last[group] = event
    return [
        Event(aggregation.key, value, {}, last[group].time_ms, last[group].line)
        for group, value in groups.items()
    ]


def _first_value(grouped: dict[str, list[Event]], key: str):
    events = grouped.get(key)
    return events[0].value if events else None


def _line(grouped: dict[str, list[Event]], key: str) -> int | None:
    events = grouped.get(key)
    return events[0].line if events else None


def _applies(rule: LogRule, division: str, benchmark: str) -> bool:
    return (not rule.divisions or division in rule.divisions) and (
        not rule.benchmarks or benchmark in rule.benchmarks
    )


def _environment(grouped: dict[str, list[Event]], rules: RoundRules, division: str, benchmark: str) -> dict:
    env: dict = {key: events[0].value for key, events in grouped.items() if events}
    env.update({f"t_{key}": events[0].time_ms for key, events in grouped.items() if events})
    for rule in rules.rules:  # keys a rule names but the log lacks: t_<key> is None
        env.setdefault(f"t_{rule.key}", None)
    # the run's and initialisation's boundaries: the same events the score and convergence read
    for key, event in run_boundaries(grouped)._asdict().items():
        env[f"t_{key}"] = event.time_ms if event is not None else None
    env.update(
        {
            "init_limit_ms": rules.init_limit_minutes.get(division, 0) * 60_000,
            "division": division,
            "benchmark": benchmark,
            "round": rules.round,
        }
    )
    return env


def _is_event(key: str, occurrences: list[Event]) -> bool:
    """A record that marks a moment (its value null, or a run boundary): each occurrence counts."""
    return key in ONCE_EVENTS or all(event.value is None for event in occurrences)


def _count_ok(rule: LogRule, grouped: dict[str, list[Event]]) -> tuple[bool, str]:
    occurrences = grouped.get(rule.key, [])
    count, n = rule.count or "optional", len(occurrences)
    if count == "exactly_one":
        if n == 1:
            return True, ""
        if n == 0:
            return False, "missing"
        if _is_event(rule.key, occurrences):
            return False, f"logged {n} times (lines {_lines(occurrences)}); an event counts each time"
        if len({repr(e.value) for e in occurrences}) == 1:
            return True, ""  # a value repeated identically is a warning in mlperf-logging, not a failure
        return False, f"logged {n} times with different values (lines {_lines(occurrences)})"
    if count == "at_least_one":
        return n >= 1, "missing"
    if count.startswith("at_least:"):
        need = int(count.split(":")[1])
        return n >= need, f"logged {n} times, at least {need} required"
    if count.startswith("at_least_one_or:"):
        others = count.split(":")[1].split(",")
        return n + sum(
            len(grouped.get(o, [])) for o in others
        ) >= 1, f"missing (and so is {', '.join(others)})"
    return True, ""


def _check_rule(
    rule: LogRule,
    grouped: dict[str, list[Event]],
    env: dict,
    expressions: dict,
    path,
    truncated: bool,
    several: bool,
) -> list[plain.Observation]:
    found = []
    occurrences = grouped.get(rule.key, [])
    ok, problem = _count_ok(rule, grouped)
    if not ok and not (truncated and problem.startswith("missing")) and not (several and "times" in problem):
        details = {"key": rule.key, "rule": rule.count}
        summary = f"{rule.key}: {problem} ({rule.count})"
        if len(occurrences) > 1:  # every occurrence is the witness
            found.append(_repeated(path, occurrences, summary, details))
        else:
            found.append(_observation(LOG_EVENT_MISSING, path, None, summary, details))
    for event in occurrences:
        missing = [m for m in rule.metadata if not any(option in event.metadata for option in m.split("|"))]
        if missing:
            found.append(
                _observation(
                    LOG_EVENT_MISSING,
                    path,
                    event.line,
                    f"{rule.key}: metadata {', '.join(missing)} missing",
                    {"key": rule.key, "metadata": missing},
                )
            )
            break
        if rule.check is not None:
            verdict, reason = _holds(expressions[rule.check], event, env)
            if not verdict:
                found.append(
                    _observation(
                        rule.kind or HPARAM_OUT_OF_RANGE,
                        path,
                        event.line,
                        f"{rule.key} = {echo(event.value)} fails `{rule.check}`{reason}",
                        {
                            "key": rule.key,
                            "value": event.value,
                            "check": rule.check,
                            **({"why": rule.why} if rule.why else {}),
                        },
                    )
                )
                break
    reached = rule.target is None or any(
        _holds(expressions[rule.target], event, env)[0] for event in occurrences
    )
    if occurrences and not truncated and not reached:
        last = occurrences[-1]
        found.append(
            _observation(
                LOG_QUALITY_TARGET_MISSED,
                path,
                last.line,
                f"{rule.key} never satisfies `{rule.target}` (last: {echo(last.value)})",
                {
                    "key": rule.key,
                    "target": rule.target,
                    "last_value": last.value,
                    "evaluations": len(occurrences),
                },
            )
        )
    return found


def _holds(expression, event: Event, env: dict) -> tuple[bool, str]:
    scope = {**env, "value": event.value, "metadata": event.metadata, "timestamp": event.time_ms}
    try:
        return bool(run(expression, scope)), ""
    except ExpressionError as exc:
        return False, f" ({str(exc)[:MAX_ECHO_CHARS]})"


def _truncated(parsed: ParsedLog, grouped: dict[str, list[Event]], rules: list[LogRule]) -> plain.Observation:
    last = parsed.events[-1] if parsed.events else None
    missing = sorted(
        {
            rule.key
            for rule in rules
            if rule.count in ("exactly_one", "at_least_one") and rule.key not in grouped
        }
    )
    where = f"after {last.key} at line {last.line}" if last else "before any record"
    return _observation(
        LOG_EVENT_MISSING,
        parsed.path,
        last.line if last else None,
        f"run incomplete: the log ends {where} without run_stop",
        {"key": "run_stop", "truncated": True, "missing": missing},
    )


def _malformed(parsed: ParsedLog) -> plain.Observation:
    first = parsed.malformed[0]
    return _observation(
        LOG_EVENT_MISSING,
        parsed.path,
        first.line,
        f"{len(parsed.malformed)} malformed MLLOG line(s); first at line {first.line}: {first.problem}",
        {"malformed": len(parsed.malformed), "lines": [m.line for m in parsed.malformed[:20]]},
    )


MAX_WITNESSES = 20


def _lines(events: list[Event]) -> str:
    shown = ", ".join(str(event.line) for event in events[:MAX_WITNESSES])
    return shown + (f" and {len(events) - MAX_WITNESSES} more" if len(events) > MAX_WITNESSES else "")


def _repeated(path, events: list[Event], summary: str, details: dict) -> plain.Observation:
    """``log.event_missing`` for a record logged more often than allowed: each occurrence located."""
    where = [
        plain.location("log_line", str(details.get("key", "")), str(path), event.line)
        for event in events[:MAX_WITNESSES]
    ]
    details = {
        **details,
        "occurrences": len(events),
        "lines": [event.line for event in events[:MAX_WITNESSES]],
    }
    return plain.observation(LOG_EVENT_MISSING, ENGINE, summary, where, {}, details)


def _observation(kind: str, path, line: int | None, summary: str, details: dict) -> plain.Observation:
    where = plain.location("log_line", str(details.get("key", "")), str(path), line)
    return plain.observation(
        kind, ENGINE, summary + (f" (line {line})" if line else ""), [where], {}, details
    )


__all__ = ["LogCheck", "check_log"]
