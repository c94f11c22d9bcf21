"""`parity audit` of a whole training round against mlperf-logging's package checker, in the same run.

Run: ``python benchmarks/bench_audit.py [ROUND_FOLDER] [--ruleset 5.1.0] [--jobs N]`` (needs
``pip install mlperf-logging``). ROUND_FOLDER is a training_results_vX.Y checkout or its results and
systems (default: the two organisations of ``../shared/corpus/mlperf_logs/packages/v5.1``). The package
checker runs as its users run it, one organisation after another, on a scratch copy (it writes
scaling.json into what it checks); parity audits the whole folder in one call. Prints both times, the
ratio, each tool's verdict per organisation, parity's peak memory, and how parity's time grows from one
organisation to the whole round.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "corpus" / "mlperf_logs" / "packages" / "v5.1"


def _package_checker(round_folder: Path, ruleset: str) -> tuple[float, dict[str, str]]:
    """Seconds for the package checker over every organisation, and its verdict for each."""
    verdicts = {}
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / round_folder.name
        shutil.copytree(round_folder, copy, symlinks=True)
        start = time.perf_counter()
        for organisation in sorted(p for p in copy.iterdir() if (p / "results").is_dir()):
            log = Path(scratch) / f"{organisation.name}.log"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "mlperf_logging.package_checker",
                    str(organisation),
                    "training",
                    ruleset,
                    "--log_output",
                    str(log),
                ],
                capture_output=True,
                cwd=scratch,
            )
            text = log.read_text(errors="replace") if log.exists() else ""
            verdicts[organisation.name] = "pass" if "FOUND NO ERRORS" in text else "fail"
        return time.perf_counter() - start, verdicts


def _parity(folder: Path, ruleset: str, jobs: int | None) -> tuple[float, dict[str, str], int]:
    """Seconds for one `parity audit` call, its verdict per organisation, and its peak memory (bytes)."""
    command = [sys.executable, "-m", "parity", "-q", "audit", str(folder), "--ruleset", ruleset, "-f", "json"]
    if jobs:
        command += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) * 1024
    report = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {"organisations": []}
    return seconds, {o["organisation"]: o["verdict"] for o in report["organisations"]}, peak


def main() -> None:
    """The comparison and the growth from one organisation to the round."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("round", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--ruleset", default=None)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    match = re.search(r"v(\d+)\.(\d+)", str(args.round))
    ruleset = args.ruleset or f"{match.group(1)}.{match.group(2)}.0"
    logs = list(args.round.glob("*/results/*/*/result_*.txt"))
    size = sum(p.stat().st_size for p in logs)
    print(f"== {args.round}: {len(logs)} logs, {size / 1e6:.0f} MB, ruleset {ruleset} ==")
    theirs, their_verdicts = _package_checker(args.round, ruleset)
    ours, our_verdicts, peak = _parity(args.round, ruleset, args.jobs)
    print(f"package checker, one organisation after another: {theirs:8.1f} s")
    print(f"parity audit, one call:                          {ours:8.1f} s  ({theirs / ours:.1f}x faster)")
    print(f"parity peak memory: {peak / 1024**2:.0f} MiB")
    for name in sorted(their_verdicts):
        print(f"  {name:30s} package checker {their_verdicts[name]:4s}  parity {our_verdicts.get(name, '-')}")
    organisations = sorted(p for p in args.round.iterdir() if (p / "results").is_dir())
    print("growth (parity, one call each):")
    for count in sorted(
        {1, max(1, len(organisations) // 4), max(1, len(organisations) // 2), len(organisations)}
    ):
        with tempfile.TemporaryDirectory() as scratch:
            subset = Path(scratch) / args.round.name
            subset.mkdir()
            for organisation in organisations[:count]:
                shutil.copytree(organisation, subset / organisation.name)  # parity follows no link
            seconds, _, _ = _parity(subset, ruleset, args.jobs)
        print(f"  {count:3d} organisation(s): {seconds:6.1f} s")


if __name__ == "__main__":
    main()
