"""The long fuzzing campaign: N mutants per loader through the real command, and the issue's table.

Usage: python scripts/fuzz_campaign.py [--count 10000] [--jobs 2] [--only onnx,npz] [--work DIR]

Every mutant runs in a forked child (see tests/fuzz/harness.py): exit code, lines on stderr, time, peak
memory, files opened outside the input, files modified, and whether printed JSON is strict. Mutants that
break a promise are kept under WORK/<loader>/<index> with a .problem report in WORK/reports; the table is
printed at the end (Markdown) and written to WORK/table.md. Exit code 1 if any run broke a promise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz.harness import run_campaign, table
from fuzz.loaders import loaders


def main() -> int:
    """Run the campaign and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="mutants per loader")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated loaders (default: all)")
    parser.add_argument("--work", type=Path, default=None, help="where mutants are written")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="parity-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    chosen = [
        loader for loader in loaders(work / "seeds") if not args.only or loader.name in args.only.split(",")
    ]
    start, done = time.perf_counter(), [0]
    problems: list = []

    def progress(outcome) -> None:
        done[0] += 1
        if outcome.problem():
            problems.append(outcome)
            print(
                f"PROBLEM {outcome.loader} #{outcome.index}: {sorted(outcome.columns())} "
                f"{outcome.stderr.strip()[:300]!r} ({outcome.folder})",
                flush=True,
            )
        if done[0] % 500 == 0:
            print(f"{done[0]} mutants, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    outcomes = run_campaign(chosen, args.count, work, args.jobs, on_row=progress)
    result = table(outcomes)
    slowest = max(outcomes, key=lambda outcome: outcome.elapsed)
    summary = (
        f"{len(outcomes)} mutants in {time.perf_counter() - start:.0f} s with {args.jobs} jobs; "
        f"slowest {slowest.elapsed:.1f} s ({slowest.loader} #{slowest.index}); "
        f"peak memory {max(o.peak_bytes for o in outcomes) / 1024**2:.0f} MiB above the parent"
    )
    print(result)
    print(summary)
    (work / "table.md").write_text(result + "\n\n" + summary + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
