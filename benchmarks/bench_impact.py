"""Re-judging cost of `parity rules impact`: 100,000 observations under 5 rulebooks, against observing them.

Run: ``python benchmarks/bench_impact.py [--observations 100000]``. The observations are the bundled
corpus's (real work: example models, training packages, inference results), repeated as whole subjects
until there are enough; the rulebooks are training v6.0, inference v6.1 and the three what-if overlays.
Prints the time of one full re-judge (best of 3) and, for scale, what observing the corpus once costs
(``scripts/build_impact_corpus.py``, timed in the same run unless ``--skip-observe``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from parity.judge.impact import Subject, impact
from parity.judge.subjects import CORPUS, load_subjects
from parity.rulebook import load_rulebook

ROOT = Path(__file__).resolve().parents[1]
BOOKS = (
    "mlperf-training-v6.0",
    "mlperf-inference-v6.1",
    "whatif-training-allow-by-default",
    "whatif-inference-deny-by-default",
    "whatif-training-inference-optimisations",
)


def main() -> int:
    """Print the re-judge time and the observe time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--skip-observe", action="store_true")
    args = parser.parse_args()
    corpus = [s for s in load_subjects([CORPUS]) if s.observations]
    subjects: list[Subject] = []
    total = 0
    while total < args.observations:
        for item in corpus:
            name = f"{item.name} #{len(subjects)}"
            subjects.append(Subject(name, item.kind, item.observations, item.division, item.benchmark))
            total += len(item.observations)
    books = [load_rulebook(name) for name in BOOKS]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = impact(subjects, books)
        times.append(time.perf_counter() - start)
    switched = sum(item.switched for item in result.subjects)
    print(f"re-judge: {total} observations in {len(subjects)} subjects under {len(books)} rulebooks: "
          f"{min(times):.3f} s (best of 3); {switched} subjects switch")  # fmt: skip
    if not args.skip_observe:
        start = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_impact_corpus.py")], check=True,
                       capture_output=True)  # fmt: skip
        observe = time.perf_counter() - start
        corpus_total = sum(len(s.observations) for s in corpus)
        print(f"observe: the corpus's {corpus_total} observations in {observe:.2f} s; re-judging "
              f"{total} costs {min(times) / observe:.3f} of that")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
