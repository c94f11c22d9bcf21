"""The semantic fuzzing campaign: every meaningful mutant of the catalogue through the real command.

Usage: python scripts/semantic_fuzz_campaign.py [--combinations N] [--jobs 2] [--only inference,logs]
                                               [--match TEXT] [--work DIR]
       python scripts/semantic_fuzz_campaign.py --table-from WORK [WORK ...]

Each mutant (tests/fuzz/semantic.py) is a conforming published seed with one meaningful edit and the
verdict it must get; it runs in a forked child of the harness (tests/fuzz/harness.py) once per report
format. Prints one line per failing mutant and, at the end, the table per reader x mutation class
(Markdown, also written to WORK/table.md) and the list of failing mutants with their reasons
(WORK/failures.md). Failing mutants are kept under WORK/<seed>/<class>/<name>/0 with their outputs
(0.outputs) and WORK/reports/*.semantic.json for reproduction. Runs against whatever ``parity`` package
is importable (PYTHONPATH=<worktree>/src). Exit code 1 if any mutant failed. ``--table-from`` rebuilds
the table from earlier campaigns' folders, a later folder's run of a mutant replacing an earlier one (to
re-run a subset after a fix).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz.semantic import catalogue, combinations, corpus_present, results_from, run_mutants, table


def main() -> int:
    """Run the catalogue (and N seeded combinations) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--combinations", type=int, default=0, help="seeded pairs of edits, on top")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated readers: inference,training,logs,rcp")
    parser.add_argument(
        "--match", default="", help="only mutants whose label contains one of these (comma-separated)"
    )
    parser.add_argument("--work", type=Path, default=None, help="where mutants are written")
    parser.add_argument("--table-from", type=Path, nargs="+", default=None, help="earlier campaigns' folders")
    args = parser.parse_args()
    if args.table_from:
        results = results_from(*args.table_from)
        print(table(results))
        failures = [
            f"- `{r.mutant.label!r}` ({r.mutant.expect}): {r.reasons()}" for r in results if r.failed()
        ]
        print(f"{len(results)} mutants, {len(failures)} failing")
        print("\n".join(failures))
        return 1 if failures else 0
    if not corpus_present():
        print("the shared corpus (../shared/corpus) is not beside the repository", file=sys.stderr)
        return 3
    import parity

    work = args.work or Path(tempfile.mkdtemp(prefix="parity-semantic-"))
    work.mkdir(parents=True, exist_ok=True)
    mutants = catalogue() + combinations(args.combinations)
    if args.only:
        mutants = [m for m in mutants if m.reader in args.only.split(",")]
    if args.match:
        mutants = [m for m in mutants if any(part in m.label for part in args.match.split(","))]
    print(f"{len(mutants)} mutants against {Path(parity.__file__).parent}; work {work}", file=sys.stderr)
    start = time.perf_counter()

    def progress(result) -> None:
        if result.failed():
            print(f"FAIL {result.mutant.label!r}: {result.reasons()[:300]}", flush=True)

    results = run_mutants(mutants, work, args.jobs, on_result=progress)
    result = table(results)
    failures = [f"- `{r.mutant.label!r}` ({r.mutant.expect}): {r.reasons()}" for r in results if r.failed()]
    summary = f"{len(results)} mutants, {len(failures)} failing, in {time.perf_counter() - start:.0f} s"
    print(result)
    print(summary)
    (work / "table.md").write_text(result + "\n\n" + summary + "\n")
    (work / "failures.md").write_text("\n".join(failures) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
