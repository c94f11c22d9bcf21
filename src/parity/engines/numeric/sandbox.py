"""Running models in a sandboxed child process.

The child is ``python -I runner.py`` of this interpreter, started from an allow-listed environment (no
variable of the reviewer's: tokens and cloud keys stay behind) in its own temporary home and working
folder, with limits on time, address space, file size, core dumps and (where the kernel applies it)
processes, each lowered to the caller's own hard limit, and without network where the platform allows
(bubblewrap, or a network namespace through util-linux's ``unshare``). :func:`isolation` says which held.

A crash (signal), a hang (time limit), memory exhaustion (address-space limit) or a runtime error of the
model comes back as a :class:`RunFailure` with a one-line reason, never as a crash of parity.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

RUNNER = Path(__file__).with_name("runner.py")
DEFAULT_TIME_LIMIT_S = 300.0
DEFAULT_MEMORY_LIMIT_BYTES = 8 * 1024**3
#: the largest file the child may write (it writes none; onnxruntime and numpy may cache a little)
FILE_SIZE_LIMIT_BYTES = 64 * 1024**2
#: tasks (processes and threads) the child may add to its user's: onnxruntime's and BLAS's thread pools
PROCESS_ALLOWANCE = 64
#: the only search path the child gets
CHILD_PATH = "/usr/bin:/bin"
#: passed on from the reviewer's environment when set (hardware workarounds, never secrets)
PASSED_ON = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: thread-count variables, all set to the job's thread count
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class RunFailure:
    """Why a run did not finish."""

    reason: str


@dataclass(frozen=True)
class Isolation:
    """What held around a model's child process, for the report."""

    #: the names of the only environment variables the child got
    environment: tuple[str, ...]
    #: resource limit -> bytes or count set in the child, or why none was
    limits: dict = field(default_factory=dict)
    #: "namespace (...)", "bubblewrap" or "none"
    network: str = "none"
    #: why there is no network isolation, or how it was made
    network_detail: str = ""

    def as_details(self) -> dict:
        """The record evidence and reports carry."""
        return {
            "environment": f"allow-listed: {', '.join(self.environment)}",
            "limits": dict(self.limits),
            "network": self.network,
            "network_detail": self.network_detail,
        }


def run_job(
    job: dict, time_limit: float = DEFAULT_TIME_LIMIT_S, memory_limit: int = DEFAULT_MEMORY_LIMIT_BYTES
) -> dict | RunFailure:
    """Run ``job`` (see runner.py) in a sandboxed child process; its JSON result, or why there is none."""
    threads = int(job.get("threads", 1))
    job = _absolute(job)  # the child runs in its own folder
    limits, _ = child_limits(memory_limit, threads)
    prefix, _, _ = network_isolation()

    def apply_limits() -> None:  # runs in the child before exec: values already within the hard limits
        for which, value in limits:
            resource.setrlimit(which, (value, value))

    with tempfile.TemporaryDirectory(prefix="parity-sandbox-home-") as home:
        env = child_environment(home, threads)
        command = [*prefix, sys.executable, "-I", str(RUNNER), "-"]
        return _run(command, job, time_limit, apply_limits, env, home)


def _absolute(job: dict) -> dict:
    """The job with its model and input paths absolute (regions' models too)."""

    def absolute(paths):
        return [os.path.abspath(path) if isinstance(path, str) else path for path in paths]

    found = dict(job)
    for key in ("models", "inputs"):
        if isinstance(found.get(key), list):
            found[key] = absolute(found[key])
    if isinstance(found.get("regions"), list):
        found["regions"] = [
            {**region, "models": absolute(region["models"])}
            if isinstance(region, dict) and isinstance(region.get("models"), list)
            else region
            for region in found["regions"]
        ]
    return found


def isolation(memory_limit: int = DEFAULT_MEMORY_LIMIT_BYTES, threads: int = 1) -> Isolation:
    """The isolation :func:`run_job` gives a child with these settings, here and now."""
    _, described = child_limits(memory_limit, threads)
    _, network, detail = network_isolation()
    names = sorted(child_environment("/nonexistent", threads))
    return Isolation(tuple(names), described, network, detail)


def child_environment(home: str, threads: int) -> dict[str, str]:
    """The child's whole environment: nothing of the reviewer's but hardware workarounds.

    A fresh home, temporary folder and cache inside ``home``, a minimal PATH, a fixed locale, the thread
    counts, and the folders of this interpreter's numpy and onnxruntime (the child runs ``python -I``,
    which ignores PYTHONPATH and the user's site-packages, so it is told where they are).
    """
    env = {
        "PATH": CHILD_PATH,
        "HOME": home,
        "TMPDIR": os.path.join(home, "tmp"),
        "XDG_CACHE_HOME": os.path.join(home, "cache"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PARITY_RUNNER_PATH": os.pathsep.join(_package_folders()),
    }
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    env.update({name: os.environ[name] for name in PASSED_ON if name in os.environ})
    return env


@functools.cache
def _package_folders() -> tuple[str, ...]:
    """The folders this interpreter imports numpy and onnxruntime from (without importing them)."""
    folders = []
    for name in ("numpy", "onnxruntime"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            folder = str(Path(next(iter(spec.submodule_search_locations))).parent)
            if folder not in folders:
                folders.append(folder)
    return tuple(folders)


def child_limits(memory_limit: int, threads: int) -> tuple[list[tuple[int, int]], dict]:
    """The (resource, value) pairs to set in the child, and what they mean for the report.

    Every limit is lowered to what the caller's own hard limit allows, never raised past it (a CI job
    under ``prlimit --as=...`` gets a child under the smaller of the two). RLIMIT_NPROC counts every task
    of the user, so it is the user's tasks now plus an allowance; the kernel does not apply it to root.
    """
    wanted = [
        (resource.RLIMIT_AS, "address_space_bytes", memory_limit),
        (resource.RLIMIT_FSIZE, "file_size_bytes", FILE_SIZE_LIMIT_BYTES),
        (resource.RLIMIT_CORE, "core_dump_bytes", 0),
    ]
    limits, described = [], {}
    for which, name, value in wanted:
        lowered = _within_hard_limit(which, value)
        limits.append((which, lowered))
        described[name] = lowered
    if os.geteuid() == 0:
        described["processes"] = "not limited: the kernel does not apply RLIMIT_NPROC to root"
    else:
        tasks = _user_tasks()
        if tasks is None:
            described["processes"] = "not limited: the user's tasks cannot be counted (no /proc)"
        else:
            value = _within_hard_limit(resource.RLIMIT_NPROC, tasks + PROCESS_ALLOWANCE + threads)
            limits.append((resource.RLIMIT_NPROC, value))
            described["processes"] = f"{value} tasks for the user ({tasks} running, {value - tasks} more)"
    return limits, described


def _within_hard_limit(which: int, value: int) -> int:
    _, hard = resource.getrlimit(which)
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def _user_tasks() -> int | None:
    """How many tasks (threads included: what RLIMIT_NPROC counts) the real user runs now."""
    uid, count = str(os.getuid()), 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as handle:
                status = handle.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [uid]:
            count += int(fields.get("Threads", "1").strip() or 1)
    return count


@functools.cache
def network_isolation() -> tuple[tuple[str, ...], str, str]:
    """(command prefix, network, detail): the first way to run the child without network that works.

    Tried in order, each with a real child: bubblewrap (``bwrap --unshare-net``), util-linux's ``unshare
    --net`` (privileged), then ``unshare --user --map-root-user --net`` (an unprivileged user namespace).
    In a new network namespace the child has only a loopback interface, down: no address is reachable.
    """
    tried = []
    true = shutil.which("true") or "/bin/true"
    bwrap = shutil.which("bwrap")
    unshare = shutil.which("unshare")
    candidates = []
    if bwrap:
        candidates.append(
            (
                (bwrap, "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent", "--"),
                "bubblewrap",
                "bwrap --unshare-net",
            )
        )
    else:
        tried.append("bwrap: not installed")
    if unshare:
        candidates.append(((unshare, "--net", "--"), "namespace", "unshare --net"))
        candidates.append(
            (
                (unshare, "--user", "--map-root-user", "--net", "--"),
                "namespace",
                "unshare --user --map-root-user --net",
            )
        )
    else:
        tried.append("unshare: not installed")
    for prefix, network, how in candidates:
        try:
            probe = subprocess.run(
                [*prefix, true],
                env={"PATH": CHILD_PATH},
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            tried.append(f"{how}: {type(exc).__name__}")
            continue
        if probe.returncode == 0:
            return prefix, network, how
        message = probe.stderr.decode(errors="replace").strip().splitlines()
        tried.append(f"{how}: {message[-1][:120] if message else f'exit {probe.returncode}'}")
    return (), "none", "not available: " + "; ".join(tried)


def _run(command: list[str], job: dict, time_limit: float, limits, env: dict, home: str):
    for folder in (env["TMPDIR"], env["XDG_CACHE_HOME"]):
        os.makedirs(folder, exist_ok=True)
    try:
        process = subprocess.Popen(
            command,  # the job arrives on stdin: no argument-length limit
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=limits,
            env=env,
            cwd=home,
            start_new_session=True,  # its own process group: a timeout ends everything it started
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return RunFailure(f"could not start the sandboxed child ({type(exc).__name__}: {exc})"[:300])
    try:
        stdout, stderr = process.communicate(json.dumps(job).encode(), timeout=time_limit)
    except subprocess.TimeoutExpired:
        _kill_group(process)
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


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the child's process group (the child is still there: its group id cannot have been reused)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


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
