"""Run mutants through the real command, one forked child each, and measure what the issue's table asks.

Each mutant runs in a child forked from a parent that has already imported parity, so a run costs the
work itself. The child writes its mutant, snapshots it, installs an audit hook that records every file
or folder opened under the planted ``outside`` folder, ``/etc`` or the user's home, calls the command
in-process and reports. The parent reaps it with ``os.wait4`` (its peak memory), kills it past the time
limit, snapshots the mutant again (modified?), and classifies the run. Folders that show a problem are
kept for reproduction; the rest are removed without recursion (a mutant may be a chain 1,000 deep).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import signal
import stat
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

#: what the table counts, in its order (the issue's columns, plus output that is not strict JSON)
COLUMNS = (
    "tried",
    "verdict",
    "clean error",
    "exit 4",
    "multi-line",
    "over time",
    "over memory",
    "escapes",
    "modified",
    "bad output",
)
TIME_LIMIT_S = 60.0
MEMORY_LIMIT = 2 * 1024**3


@dataclass
class Outcome:
    """What one mutant did."""

    loader: str
    index: int
    code: int | None = None
    stderr: str = ""
    elapsed: float = 0.0
    peak_bytes: int = 0
    input_bytes: int = 0
    escapes: list[str] = field(default_factory=list)
    modified: bool = False
    bad_output: str = ""
    killed: str = ""
    folder: str = ""

    def columns(self) -> set[str]:
        """The table columns this run counts in."""
        found = {"tried"}
        if self.code in (0, 1, 2):
            found.add("verdict")
        elif self.code == 3:
            found.add("clean error")
        elif self.code is not None:
            found.add("exit 4")
        if self.code is None and not self.killed:
            found.add("exit 4")  # the child died without reporting
        if self.stderr.count("\n") > 1:
            found.add("multi-line")
        if self.killed == "time" or self.elapsed > TIME_LIMIT_S:
            found.add("over time")
        if self.killed == "memory" or self.peak_bytes > MEMORY_LIMIT:
            found.add("over memory")
        if self.escapes:
            found.add("escapes")
        if self.modified:
            found.add("modified")
        if self.bad_output:
            found.add("bad output")
        return found

    def problem(self) -> bool:
        """A run that breaks a promise of the issue (kept for reproduction)."""
        return bool(self.columns() - {"tried", "verdict", "clean error"})


def snapshot(*folders: Path) -> dict[str, tuple]:
    """Every entry under ``folders`` without following links: type, size, mtime and content hash."""
    found: dict[str, tuple] = {}
    stack = [folder for folder in folders if folder.exists()]
    while stack:
        current = stack.pop()
        for entry in os.scandir(current):
            info = entry.stat(follow_symlinks=False)
            digest = ""
            if stat.S_ISREG(info.st_mode) and info.st_size < 64 * 1024**2:
                digest = hashlib.sha1(Path(entry.path).read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                digest = os.readlink(entry.path)
            found[entry.path] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, digest)
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
    return found


def remove_tree(folder: Path) -> None:
    """Remove ``folder`` bottom-up without recursion (and without following links)."""
    if not folder.exists():
        return
    order, stack = [], [folder]
    while stack:
        current = stack.pop()
        order.append(current)
        for entry in os.scandir(current):
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            else:
                os.unlink(entry.path)
    for current in reversed(order):
        os.rmdir(current)


def _under(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def _watch_opens(roots: list[str], found: list[str]) -> None:
    """Record every open or listing of a path under ``roots`` (resolved): reads outside the input.

    Python's own files (the interpreter, the environment, the repository) are not reads of the input.
    """
    busy = [False]
    own = [os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, *sys.path} if p]

    def hook(event: str, args: tuple) -> None:
        if busy[0] or event not in ("open", "os.listdir", "os.scandir") or not args:
            return
        path = args[0]
        if not isinstance(path, str | bytes | os.PathLike):
            return
        busy[0] = True
        try:
            resolved = os.path.realpath(os.fsdecode(path))
            if _under(resolved, roots) and not _under(resolved, own):
                found.append(resolved)
        finally:
            busy[0] = False

    sys.addaudithook(hook)


def _input_bytes(folder: Path) -> int:
    return sum(info[1] for info in snapshot(folder).values() if info[0] == stat.S_IFREG)


def _mutant(loader, seed: Path, index: int, folder: Path):
    """Write mutant ``index`` of ``seed`` into ``folder``; the command's arguments to run it.

    A mutation the harness itself cannot write (a value json cannot serialise) is drawn again with the
    next sub-seed, so the run measures parity, not the harness.
    """
    for attempt in range(5):
        remove_tree(folder)
        folder.mkdir(parents=True)
        rng = random.Random(f"{loader.name}:{seed.name}:{index}" + (f":{attempt}" if attempt else ""))
        try:
            target = loader.mutate(seed, folder, rng)
        except (ValueError, TypeError, RecursionError, OverflowError):
            continue
        return loader.arguments(target, rng)
    raise RuntimeError("no mutant could be written")


def _child(loader, seed: Path, index: int, folder: Path, outside: Path, report: Path) -> None:
    """In the forked child: write the mutant, watch, run, report; never returns."""
    try:
        argv = _mutant(loader, seed, index, folder)
        before = {path: list(info) for path, info in snapshot(folder).items()}
        report.with_suffix(".pre").write_text(json.dumps({"argv": [str(a) for a in argv], "before": before}))
        out, err = report.with_suffix(".out"), report.with_suffix(".err")
        for stream, path in ((1, out), (2, err)):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(handle, stream)
            os.close(handle)
        escapes: list[str] = []
        home = os.path.realpath(os.path.expanduser("~"))
        inside_home = [os.path.realpath(p) for p in (sys.prefix, os.getcwd())]
        roots = [os.path.realpath(outside), "/etc"]
        if not any(p.startswith(home) for p in inside_home):
            roots.append(home)
        _watch_opens(roots, escapes)
        resource.setrlimit(resource.RLIMIT_AS, (8 * 1024**3, 8 * 1024**3))  # a guard for the machine
        signal.alarm(int(TIME_LIMIT_S) + 5)
        start = time.perf_counter()
        code = loader.run(argv)
        elapsed = time.perf_counter() - start
        sys.stdout.flush()
        sys.stderr.flush()
        report.write_text(json.dumps({"code": int(code), "elapsed": elapsed, "escapes": escapes[:10]}))
    except BaseException as exc:
        report.write_text(json.dumps({"harness_error": f"{type(exc).__name__}: {exc}"[:500]}))
    os._exit(0)


def run_campaign(loaders, count: int, work: Path, jobs: int = 2, on_row=None) -> list[Outcome]:
    """``count`` mutants of every loader (seeds in turn), ``jobs`` at a time; every outcome."""
    outside = work / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.txt"
    secret.write_text(':::MLLOG {"key": "submission_org", "value": "SECRET-OUTSIDE", "time_ms": 1}\n')
    outside_before = snapshot(outside)
    pending = [(loader, index) for loader in loaders for index in range(count)]
    running: dict[int, tuple] = {}
    outcomes: list[Outcome] = []
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    while pending or running:
        while pending and len(running) < jobs:
            loader, index = pending.pop(0)
            seed = loader.seeds[index % len(loader.seeds)]
            folder, report = work / loader.name / str(index), work / "reports" / f"{loader.name}-{index}"
            report.parent.mkdir(parents=True, exist_ok=True)
            pid = os.fork()
            if pid == 0:
                _child(loader, seed, index, folder, outside, report)
            running[pid] = (loader, index, folder, report, time.perf_counter())
        _reap(running, outcomes, base_rss, outside, outside_before, on_row)
    return outcomes


def _reap(running, outcomes, base_rss, outside, outside_before, on_row) -> None:
    deadline = TIME_LIMIT_S + 15
    while True:
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        if pid:
            break
        now = time.perf_counter()
        for other, (_, _, _, _, started) in running.items():
            if now - started > deadline:
                os.kill(other, signal.SIGKILL)
        time.sleep(0.005)
    loader, index, folder, report, started = running.pop(pid)
    outcome = Outcome(loader.name, index, folder=str(folder))
    outcome.peak_bytes = max(0, usage.ru_maxrss * 1024 - base_rss)
    if os.WIFSIGNALED(status):
        outcome.killed = "time" if os.WTERMSIG(status) in (signal.SIGKILL, signal.SIGALRM) else "signal"
    data = json.loads(report.read_text()) if report.exists() else {}
    outcome.code = data.get("code")
    outcome.elapsed = data.get("elapsed", time.perf_counter() - started)
    outcome.escapes = data.get("escapes", [])
    if "harness_error" in data:
        outcome.stderr = "harness: " + data["harness_error"] + "\n"
        outcome.code = -1
    err = report.with_suffix(".err")
    if err.exists() and not outcome.stderr:
        outcome.stderr = err.read_text(errors="replace")[:100_000]
    if outcome.code is None and outcome.peak_bytes > MEMORY_LIMIT:
        outcome.killed = "memory"
    out = report.with_suffix(".out")
    outcome.bad_output = loader.check_output(out, outcome.code) if out.exists() else ""
    outcome.input_bytes = _input_bytes(folder) if folder.exists() else 0
    pre = report.with_suffix(".pre")
    before = json.loads(pre.read_text())["before"] if pre.exists() else None
    after = {path: list(info) for path, info in snapshot(folder).items()} if folder.exists() else {}
    outcome.modified = (before is not None and before != after) or snapshot(outside) != outside_before
    outcomes.append(outcome)
    with open(report.parent / "outcomes.jsonl", "a", encoding="utf-8") as rows:  # the table survives a stop
        rows.write(
            json.dumps(
                {"loader": outcome.loader, "index": outcome.index, "columns": sorted(outcome.columns())}
            )
            + "\n"
        )
    if outcome.problem():
        report.with_suffix(".problem").write_text(json.dumps(outcome.__dict__, default=str))
    else:
        remove_tree(folder)
        for suffix in (".out", ".err", ".pre", ""):
            report.with_suffix(suffix).unlink(missing_ok=True)
    if on_row is not None:
        on_row(outcome)


def table(outcomes: list[Outcome]) -> str:
    """The campaign's table in Markdown: one row per loader, the issue's columns."""
    by_loader: dict[str, Counter] = {}
    for outcome in outcomes:
        by_loader.setdefault(outcome.loader, Counter()).update(outcome.columns())
    lines = ["| loader | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, counts in by_loader.items():
        lines.append(f"| {name} | " + " | ".join(str(counts[column]) for column in COLUMNS) + " |")
    return "\n".join(lines)
