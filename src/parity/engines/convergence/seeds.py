"""The seed rules across a benchmark's runs (training rules §Random numbers, from round 4.1).

Every run logs at least one seed through mllog, as an integer, and no two runs log the same seed at the
same source line (``metadata.file`` and ``metadata.lineno``): a submitter cannot rerun one lucky seed
and report it several times. mlperf-logging enforces this in ``package_checker/seed_checker.py``; parity
checks the same three things and names the log line of each problem.
"""

from __future__ import annotations

from parity.observations import plain
from parity.observations.kinds import LOG_SEED_INVALID
from parity.untrusted import echo

#: the first round whose rules require logged seeds
FIRST_ROUND = (4, 1, 0)


def applies(round_name: str) -> bool:
    """Whether the round's rules require logged, distinct seeds."""
    return tuple(int(part) for part in round_name.split(".")) >= FIRST_ROUND


def as_integer(value) -> int | None:
    """The seed as an integer, or None: ints, integral floats and integer strings, as the rules ask.

    mlperf-logging accepts whatever ``int()`` does, which also truncates 1.5 and takes True as 1.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    try:
        return int(value)
    except (ValueError, OverflowError):
        return None


def seed_observations(runs: list) -> list[plain.Observation]:
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
                    _observation(run.path, event.line, f"seed {echo(event.value)} is not an integer", {})
                )
                continue
            source = f"{echo(event.metadata.get('file'))}:{echo(event.metadata.get('lineno'))}"
            origin = (source, seed)
            if origin in first_seen:
                earlier = str(first_seen[origin])
                problem = f"seed {seed} at {source} is also logged there by {earlier}"
                found.append(_observation(run.path, event.line, problem, {"same_as": earlier}))
            else:
                first_seen[origin] = run.path
    return found


def _observation(path, line: int | None, problem: str, details: dict) -> plain.Observation:
    summary = f"{problem} (line {line})" if line else problem
    where = plain.location("log_line", "seed", str(path), line)
    return plain.observation(
        LOG_SEED_INVALID, "convergence", summary, [where], {}, {"key": "seed", **details}
    )
