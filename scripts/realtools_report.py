"""Build the real-tool corpus and audit it under both suites; print what parity got right, per tool and architecture.

Usage: python scripts/realtools_report.py [FOLDER] [--jobs N] [--arch A ...] [--tool T ...]

The corpus (tests/realtools) exports small PyTorch and transformers models, runs every tool on them and
injects violations; this script prints the installed versions, a table of expectations met per tool and
architecture, and every miss with parity's findings. Needs the dev extras (torch, transformers, ...).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from realtools.audit import SUITES, audit, table
from realtools.corpus import build, load, versions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--arch", action="append")
    parser.add_argument("--tool", action="append")
    parser.add_argument("--no-violations", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="audit the corpus already in FOLDER")
    parser.add_argument("--only", help="audit only cases whose id contains this")
    options = parser.parse_args()
    folder = options.folder or Path(tempfile.mkdtemp(prefix="parity-realtools-"))
    print("versions:", ", ".join(f"{k} {v}" for k, v in versions().items()))
    started = time.perf_counter()
    if options.reuse:
        cases, failed = load(folder)
    else:
        cases, failed = build(folder, options.arch, options.tool, not options.no_violations)
    if options.only:
        cases = [case for case in cases if options.only in case.id]
    print(f"corpus: {len(cases)} cases in {folder} ({time.perf_counter() - started:.0f} s)")
    for item in failed:
        print(f"  tool failed: {item['arch']} {item['tool']}: {item['error'][:200]}")
    started = time.perf_counter()
    jobs = [(case, suite) for case in cases for suite in SUITES]
    with ProcessPoolExecutor(options.jobs) as pool:
        outcomes = list(pool.map(audit, *zip(*jobs, strict=True)))
    print(f"audited {len(jobs)} in {time.perf_counter() - started:.0f} s")
    for suite in SUITES:
        mine = [o for o in outcomes if o.suite == suite]
        legal = [o for o in mine if o.expected != "violates"]
        bad = [o for o in mine if o.expected == "violates"]
        print(
            f"\n## {suite}: {sum(o.met for o in mine)}/{len(mine)} met; legal accepted as expected "
            f"{sum(o.met for o in legal)}/{len(legal)}; violations caught and located "
            f"{sum(o.met for o in bad)}/{len(bad)}; internal errors "
            f"{sum(o.verdict == 'internal_error' for o in mine)}\n"
        )
        print(table(mine, cases))
    print("\n## misses\n")
    for outcome in outcomes:
        if outcome.met:
            continue
        print(
            f"- {outcome.case} [{outcome.suite}] expected {outcome.expected}, got {outcome.verdict}"
            + (" (not located)" if outcome.located is False else "")
            + (f": {outcome.error}" if outcome.error else "")
        )
        for finding in outcome.findings[:6]:
            print(f"    {finding[0]:12} {finding[1]:40} {finding[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
