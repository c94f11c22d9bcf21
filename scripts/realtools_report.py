"""Build the real-tool corpus, audit it under both suites, print what parity got right per tool and model.

Usage: python scripts/realtools_report.py [FOLDER] [--jobs N] [--arch A ...] [--tool T ...]
       python scripts/realtools_report.py [FOLDER] --families --baseline   (MLPerf's families, every tool)

The corpus (tests/realtools) exports small PyTorch and transformers models, runs every tool on them and
injects violations; this script prints the installed versions, a table of expectations met per tool and
architecture, and every miss with parity's findings. ``--families`` builds MLPerf's model families
(families.py) through every tool at every option; ``--baseline`` also runs Polygraphy's output comparison
(atol = rtol = 1e-3, and 1e-2) on the same pairs and inputs, in the same run, as the table's baseline row.
Needs the dev extras (torch, transformers, diffusers) and, for the baseline, polygraphy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from realtools.audit import SUITES, audit, polygraphy, table
from realtools.corpus import build, load, versions


def main() -> int:
    """Build (or reuse) the corpus, audit every case under both suites, print the tables and the misses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--arch", action="append")
    parser.add_argument("--tool", action="append")
    parser.add_argument("--no-violations", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="audit the corpus already in FOLDER")
    parser.add_argument("--only", help="audit only cases whose id contains this")
    parser.add_argument("--families", action="store_true", help="MLPerf's model families, every tool option")
    parser.add_argument("--baseline", action="store_true", help="Polygraphy on the same pairs, same run")
    options = parser.parse_args()
    registry = None
    if options.families:
        from realtools.families import FAMILIES
        from realtools.tools import family_tools

        registry = family_tools()
        options.arch = options.arch or list(FAMILIES)
    folder = options.folder or Path(tempfile.mkdtemp(prefix="parity-realtools-"))
    print("versions:", ", ".join(f"{k} {v}" for k, v in versions().items()))
    started = time.perf_counter()
    if options.reuse:
        cases, failed = load(folder)
    else:
        cases, failed = build(
            folder, options.arch, options.tool, not options.no_violations, registry=registry
        )
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
    if options.baseline:
        _baseline(cases, outcomes, options.jobs)
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


def _baseline(cases, outcomes, jobs: int) -> None:
    """Polygraphy's verdicts on the same pairs (outputs within tolerance: accepted), beside parity's."""
    started = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        strict = list(pool.map(polygraphy, cases))
        loose = list(pool.map(polygraphy, cases, [1e-2] * len(cases), [1e-2] * len(cases)))
    print(f"\n## baseline: Polygraphy output comparison ({time.perf_counter() - started:.0f} s)\n")
    print("| suite | tool | legal accepted | violations caught | could not run |")
    print("|---|---|---|---|---|")
    for suite in SUITES:
        mine = {o.case: o for o in outcomes if o.suite == suite}
        legal = [c for c in cases if c.expected[suite] != "violates"]
        bad = [c for c in cases if c.expected[suite] == "violates"]
        print(
            f"| {suite} | parity | {sum(mine[c.id].met for c in legal)}/{len(legal)} | "
            f"{sum(mine[c.id].met for c in bad)}/{len(bad)} | "
            f"{sum(mine[c.id].verdict in ('bad_input', 'internal_error') for c in cases)} |"
        )
        for label, results in (("Polygraphy 1e-3", strict), ("Polygraphy 1e-2", loose)):
            by_case = {r.case: r for r in results}
            print(
                f"| {suite} | {label} | {sum(by_case[c.id].passed is True for c in legal)}/{len(legal)} | "
                f"{sum(by_case[c.id].passed is False for c in bad)}/{len(bad)} | "
                f"{sum(r.passed is None for r in results)} |"
            )


if __name__ == "__main__":
    sys.exit(main())
