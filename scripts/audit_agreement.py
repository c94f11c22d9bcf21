"""Scores of `parity audit` against mlperf-logging's result_summarizer, per benchmark folder of a round.

Usage: python scripts/audit_agreement.py ROUND_FOLDER [--ruleset 5.1.0]

For every benchmark folder: mlperf-logging's RCP checker writes scaling.json (on a scratch copy), then
result_summarizer's own function computes the score (olympic mean of the compliant runs' minutes, times
the factor); `parity audit` of the whole round gives its score. Prints the folders that differ by more
than 1e-6 minutes, and the counts. Needs mlperf-logging (and pandas, which result_summarizer imports).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

from parity.audit.submission import audit_submission


def summarizer_score(folder: Path, system: str, benchmark: str, ruleset: str, closed: bool) -> float | None:
    """result_summarizer's score of one folder, after the RCP checker's scaling.json."""
    from mlperf_logging.rcp_checker import rcp_checker
    from mlperf_logging.result_summarizer import result_summarizer

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / benchmark
        shutil.copytree(folder, copy)
        with contextlib.redirect_stdout(io.StringIO()):
            if closed:
                rcp_checker.check_directory(
                    str(copy), "training", ruleset, False, False, rcp_pass="pruned_rcps", set_scaling=True
                )
            score, _, _ = result_summarizer._compute_strong_score_standalone(
                benchmark, system, False, str(copy), "training", ruleset
            )
    return score


def main() -> int:
    """Compare every folder's score."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("round", type=Path)
    parser.add_argument("--ruleset", default=None)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    start = time.perf_counter()
    audit = audit_submission(args.round, args.ruleset, "mlperf-logging")
    print(f"parity audit: {time.perf_counter() - start:.1f} s, verdict {audit.verdict.value}")
    same = differ = 0
    for organisation in audit.organisations:
        for benchmark in organisation.benchmarks:
            folder = benchmark.folder
            try:
                closed = benchmark.division == "closed"
                theirs = summarizer_score(folder.path, folder.system, folder.benchmark, audit.ruleset, closed)
            except Exception as exc:  # the summarizer's own failure on a folder: reported, not fatal
                theirs = f"error {type(exc).__name__}"
            ours = benchmark.score
            if (theirs is None and ours is None) or (
                isinstance(theirs, float) and ours is not None and abs(theirs - ours) < 1e-6
            ):
                same += 1
            else:
                differ += 1
                print(f"{folder.path}: result_summarizer {theirs}, parity {ours}")
    print(f"scores equal: {same} of {same + differ} benchmark folders")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
