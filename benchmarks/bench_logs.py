"""Training-log checking speed against mlperf-logging (the MLCommons checker), measured in the same run.

Run: ``python benchmarks/bench_logs.py`` (needs ``pip install mlperf-logging`` and the corpus in
``../shared/corpus/mlperf_logs``). Prints, with ratios:

1. All 30 corpus logs end to end: one ``parity logs check`` call on the two corpus folders, against
   mlperf-logging's compliance checker run once per file (as its CLI must be).
2. A single-log call, both tools as command lines (start-up included).
3. The RCP check of a benchmark folder: ``parity rcp check`` against ``mlperf_logging.rcp_checker``.
4. In-process throughput in MLLOG lines per second on the whole corpus.

Both tools run from compiled bytecode, as a regular ``pip install`` leaves them: mlperf-logging's was
compiled by pip; parity is usually installed editable in a checkout, so its ``src`` is compiled first
(otherwise, with PYTHONDONTWRITEBYTECODE set as on our machines, every start would recompile it). The
start-up floor (the interpreter importing ``json`` and ``argparse``, which the fast commands need) is
printed beside the single-log numbers.
"""

from __future__ import annotations

import compileall
import csv
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "mlperf_logs"
sys.path.insert(0, str(ROOT / "src"))


def _wall(command: list[str], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd="/tmp")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """All four measurements."""
    rows = list(csv.DictReader((CORPUS / "baseline" / "corpus_compliance_timings.csv").open()))
    compileall.compile_dir(ROOT / "src" / "parity", quiet=1)
    parity = [sys.executable, "-m", "parity"]
    checker = [sys.executable, "-m", "mlperf_logging.compliance_checker", "--usage", "training"]

    start = time.perf_counter()
    for row in rows:
        subprocess.run(
            [*checker, "--ruleset", row["ruleset"], str(CORPUS / row["file"])],
            capture_output=True,
            cwd="/tmp",
        )
    theirs = time.perf_counter() - start
    both_folders = [str(CORPUS / "singles"), str(CORPUS / "packages")]
    ours = _wall([*parity, "logs", "check", *both_folders, "-f", "json"], 5)
    print(f"== {len(rows)} corpus logs ==")
    print(
        f"mlperf-logging, one call per log: {theirs:.2f} s; parity, one call: {ours:.2f} s -> "
        f"{theirs / ours:.1f}x faster (target >= 10x)"
    )

    single = CORPUS / rows[0]["file"]
    theirs = _wall([*checker, "--ruleset", rows[0]["ruleset"], str(single)], 15)
    ours = _wall([*parity, "logs", "check", str(single), "--ruleset", rows[0]["ruleset"]], 15)
    floor = _wall([sys.executable, "-c", "import json, argparse"], 15)
    print("\n== one log, command line ==")
    print(
        f"mlperf-logging: {theirs:.3f} s; parity: {ours:.3f} s -> {theirs / ours:.1f}x faster "
        f"(target >= 3x); interpreter + json + argparse alone: {floor:.3f} s ({theirs / floor:.1f}x)"
    )

    folder = next((CORPUS / "packages" / "v5.1").glob("Dell/results/*/*"))
    theirs = _wall(
        [
            sys.executable,
            "-m",
            "mlperf_logging.rcp_checker",
            "--rcp_usage",
            "training",
            "--rcp_version",
            "5.1.0",
            str(folder),
        ],
        5,
    )
    ours = _wall([*parity, "rcp", "check", str(folder)], 5)
    print("\n== RCP check of a benchmark folder ==")
    print(
        f"mlperf-logging rcp_checker: {theirs:.3f} s; parity: {ours:.3f} s -> {theirs / ours:.1f}x faster "
        f"(target >= 10x)"
    )

    from mlperf_logging.compliance_checker.mlp_compliance import make_checker

    from parity.audit.logs import check_logs

    lines = sum(sum(1 for line in (CORPUS / row["file"]).open("rb") if b":::MLLOG" in line) for row in rows)
    start = time.perf_counter()
    for row in rows:
        check_logs([CORPUS / row["file"]], ruleset=row["ruleset"])
    ours = time.perf_counter() - start
    import logging

    logging.disable(logging.CRITICAL)
    start = time.perf_counter()
    for row in rows:
        checker = make_checker("training", row["ruleset"], True, False)
        checker.check_file(str(CORPUS / row["file"]), f"training_{row['ruleset']}/common.yaml")
    theirs = time.perf_counter() - start
    print("\n== in-process throughput ==")
    print(
        f"{lines} MLLOG lines: parity {lines / ours:,.0f} lines/s; "
        f"mlperf-logging {lines / theirs:,.0f} lines/s -> {theirs / ours:.1f}x"
    )


if __name__ == "__main__":
    main()
