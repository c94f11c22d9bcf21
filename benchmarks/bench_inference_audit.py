"""`parity audit` of a whole inference division against the official submission checker, in the same run.

Run: ``python benchmarks/bench_inference_audit.py DIVISION --checker TOOLS_SUBMISSION [--version v5.1]``.
DIVISION is the ``closed/`` folder of an inference_results checkout (``scripts/extract_mirror.py`` writes
one from a mirror); TOOLS_SUBMISSION is ``tools/submission`` of mlcommons/inference at the round's tag
(v5.1.1 for v5.1). Without arguments it uses ``../shared/corpus/mlperf_inference/v5.1/closed`` and needs
``--checker``. The checker is run as its users run it (``--skip-extra-accuracy-files-check``: the
published trees strip SDXL's images), pinned to one core; parity runs pinned to one core with one
process, then on every core. Each tool runs ``--repeat`` times after one warm-up run (the page cache is
warm for both); the best time of each is reported with the ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "corpus" / "mlperf_inference" / "v5.1" / "closed"


def _timed(command: list[str], cwd: Path | None, cores: set[int] | None) -> float:
    def pin() -> None:
        if cores is not None:
            os.sched_setaffinity(0, cores)

    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, preexec_fn=pin, check=False)
    return time.perf_counter() - start


def _best(command: list[str], cwd: Path | None, cores: set[int] | None, repeat: int) -> float:
    _timed(command, cwd, cores)  # warm the page cache and the imports
    return min(_timed(command, cwd, cores) for _ in range(repeat))


def main() -> int:
    """Print each tool's best time and the ratios (official / parity)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("division", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--checker", type=Path, required=True, help="tools/submission at the round's tag")
    parser.add_argument("--version", default="v5.1")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    division = args.division.resolve()
    others = [p.name for p in division.parent.iterdir() if p.is_dir() and p != division]
    if others:  # the checker audits every division beside it; parity would audit only this one
        parser.error(
            f"{division.parent} holds more than {division.name}/ ({', '.join(others)}): not a fair race"
        )
    official = [
        sys.executable, "submission_checker.py", "--input", str(division.parent), "--version", args.version,
        "--skip-extra-accuracy-files-check",
    ]  # fmt: skip
    ours = [sys.executable, "-m", "parity", "-q", "audit", str(division), "--ruleset", args.version[1:]]
    one = {sorted(os.sched_getaffinity(0))[0]}
    cores = len(os.sched_getaffinity(0))
    checker = _best(official, args.checker, one, args.repeat)
    single = _best([*ours, "--jobs", "1"], None, one, args.repeat)
    every = _best([*ours, "--jobs", str(cores)], None, None, args.repeat)
    results = sum(1 for _ in division.glob("*/results/*/*/*/performance"))
    print(f"{division}: {results} results, best of {args.repeat}")
    print(f"official checker {args.version}.x, 1 core : {checker:7.2f} s")
    print(
        f"parity audit, 1 core, 1 process   : {single:7.2f} s  ({checker / single:.2f}x the checker's speed)"
    )
    print(f"parity audit, {cores} cores              : {every:7.2f} s  ({checker / every:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
