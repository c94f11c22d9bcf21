"""Running a model in a child process with a time and a memory limit.

A crash (signal), a hang (time limit), memory exhaustion (address-space limit) or a runtime error of the
model comes back as a :class:`RunFailure` with a one-line reason, never as a crash of parity.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_TIME_LIMIT_S = 300.0
DEFAULT_MEMORY_LIMIT_BYTES = 8 * 1024**3


@dataclass(frozen=True)
class RunFailure:
    """Why a model could not be run."""

    model: str
    reason: str


@dataclass
class RunOutputs:
    """Outputs of one model by tensor name, stacked over samples."""

    model: str
    arrays: dict[str, np.ndarray]


def start(
    model: Path,
    inputs: Path,
    samples: int,
    out: Path,
    outputs: list[str] | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT_S,
    memory_limit: int = DEFAULT_MEMORY_LIMIT_BYTES,
    threads: int = 1,
) -> subprocess.Popen:
    """Start the child process (call :func:`finish` for its result); two can run side by side."""
    job = {
        "model": str(model),
        "inputs": str(inputs),
        "samples": samples,
        "out": str(out),
        "outputs": outputs or [],
        "threads": threads,
    }

    def limits() -> None:  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    process = subprocess.Popen(
        [sys.executable, "-m", "parity.engines.numeric.runner", json.dumps(job)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limits,
        env=env,
    )
    process.job = job  # type: ignore[attr-defined]
    process.time_limit = time_limit  # type: ignore[attr-defined]
    return process


def finish(process: subprocess.Popen) -> RunOutputs | RunFailure:
    """Wait for the child within its time limit; read its outputs or say why there are none."""
    job = process.job  # type: ignore[attr-defined]
    model = Path(job["model"]).name
    try:
        stdout, stderr = process.communicate(timeout=process.time_limit)  # type: ignore[attr-defined]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return RunFailure(model, f"did not finish within the {process.time_limit:g} s time limit")  # type: ignore
    if process.returncode < 0:
        return RunFailure(model, f"crashed (signal {-process.returncode})")
    result = _last_json(stdout)
    if process.returncode != 0 or "error" in result:
        reason = (
            result.get("error") or (stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        )
        if "std::bad_alloc" in reason or "Failed to allocate" in reason:
            reason = f"ran out of memory within the limit ({reason[:200]})"
        return RunFailure(model, reason)
    with np.load(job["out"], allow_pickle=False) as stored:
        arrays = {name: stored[f"t{i}"] for i, name in enumerate(result["outputs"])}
    return RunOutputs(model, arrays)


def _last_json(stdout: bytes) -> dict:
    for line in reversed(stdout.decode(errors="replace").strip().splitlines()):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return {}
