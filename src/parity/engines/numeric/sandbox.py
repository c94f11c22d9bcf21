"""Running models in a child process with a time and a memory limit.

A crash (signal), a hang (time limit), memory exhaustion (address-space limit) or a runtime error of the
model comes back as a :class:`RunFailure` with a one-line reason, never as a crash of parity.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

RUNNER = Path(__file__).with_name("runner.py")
DEFAULT_TIME_LIMIT_S = 300.0
DEFAULT_MEMORY_LIMIT_BYTES = 8 * 1024**3


@dataclass(frozen=True)
class RunFailure:
    """Why a run did not finish."""

    reason: str


def run_job(
    job: dict, time_limit: float = DEFAULT_TIME_LIMIT_S, memory_limit: int = DEFAULT_MEMORY_LIMIT_BYTES
) -> dict | RunFailure:
    """Run ``job`` (see runner.py) in a child process; its JSON result, or why there is none."""

    def limits() -> None:  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    with tempfile.TemporaryDirectory(prefix="parity-sandbox-home-") as home:
        # the child's own home: onnxruntime and numpy write caches there, never into the user's
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(job.get("threads", 1)),
            "HOME": home,
            "XDG_CACHE_HOME": home,
            "TMPDIR": home,
        }
        return _run(job, time_limit, limits, env)


def _run(job: dict, time_limit: float, limits, env: dict) -> dict | RunFailure:
    process = subprocess.Popen(
        [sys.executable, str(RUNNER), "-"],  # the job arrives on stdin: no argument-length limit
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limits,
        env=env,
    )
    try:
        stdout, stderr = process.communicate(json.dumps(job).encode(), timeout=time_limit)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return RunFailure(f"did not finish within the {time_limit:g} s time limit")
    if process.returncode < 0:
        return RunFailure(f"crashed (signal {-process.returncode})")
    result = _last_json(stdout)
    if process.returncode != 0 or "error" in result:
        reason = (
            result.get("error") or (stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        )
        if "bad_alloc" in reason or "Failed to allocate" in reason:
            reason = f"ran out of memory within the limit ({reason[:200]})"
        return RunFailure(reason)
    return result


def _last_json(stdout: bytes) -> dict:
    for line in reversed(stdout.decode(errors="replace").strip().splitlines()):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return {}


def model_name(path: str | Path) -> str:
    """The file name, for messages."""
    return Path(path).name
