"""The seed rules across a benchmark's runs (training rules §Random numbers, from round 4.1).

Every run logs at least one seed through mllog, as an integer, and no two runs log the same seed at the
same source line (``metadata.file`` and ``metadata.lineno``): a submitter cannot rerun one lucky seed
and report it several times. mlperf-logging enforces this in ``package_checker/seed_checker.py``; parity
checks the same three things and names the log line of each problem.
"""

from __future__ import annotations

from parity.observations import plain

#: the first round whose rules require logged seeds
FIRST_ROUND = (4, 1, 0)


def applies(round_name: str) -> bool:
    """Whether the round's rules require logged, distinct seeds."""
    return tuple(int(part) for part in round_name.split(".")) >= FIRST_ROUND


def as_integer(value) -> int | None:
    """The seed as an integer, as mlperf-logging's int() accepts it (no floats with fractions)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return None


def seed_observations(runs: list) -> list[dict]:
    """Observations (JSON shape) for runs without a seed, with a non-integer seed, or repeating a seed."""
    found = []
    first_seen: dict[tuple, object] = {}
    for run in runs:
        if not run.seeds:
            found.append(_observation(run.path, None, "logs no seed (key `seed`)", {}))
        for event in run.seeds:
            seed = as_integer(event.value)
            if seed is None:
                found.append(
                    _observation(run.path, event.line, f"seed {event.value!r} is not an integer", {})
                )
                continue
            origin = (str(event.metadata.get("file")), str(event.metadata.get("lineno")), seed)
            if origin in first_seen:
                problem = (
                    f"seed {seed} at {origin[0]}:{origin[1]} is also logged there by {first_seen[origin]}"
                )
                found.append(
                    _observation(run.path, event.line, problem, {"same_as": str(first_seen[origin])})
                )
            else:
                first_seen[origin] = run.path
    return found


def _observation(path, line: int | None, problem: str, details: dict) -> dict:
    summary = f"{problem} (line {line})" if line else problem
    where = plain.location("log_line", "seed", str(path), line)
    return plain.observation(
        "log.seed_invalid", "convergence", summary, [where], {}, {"key": "seed", **details}
    )
