"""Agreement of `parity rcp check --method mlperf-logging` with mlperf-logging's RCP checker, per folder.

Usage: python scripts/rcp_agreement.py ROUND_FOLDER... [--show N]

Each ROUND_FOLDER is a training_results_vX.Y checkout (or its results and systems extracted): every
benchmark folder ``<org>/results/<system>/<benchmark>`` of a closed-division system is checked by both
tools in this process, on a scratch copy (mlperf-logging writes scaling.json into what it checks). A
folder agrees when both pass or both fail and, for passing folders, the normalisation factors agree to
1e-6. mlperf-logging must be importable (``pip install mlperf-logging``, or PYTHONPATH to a checkout).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from parity.audit.rcp import check_rcp


def closed_folders(root: Path):
    """(benchmark folder, ruleset) of every closed-division system of a round folder."""
    match = re.search(r"v(\d+)\.(\d+)", str(root))
    ruleset = f"{match.group(1)}.{match.group(2)}.0"
    for system in sorted(root.glob("*/systems/*.json")):
        try:
            division = json.loads(system.read_text(errors="replace")).get("division", "")
        except ValueError:
            continue
        if str(division).strip().lower() != "closed":
            continue
        results = system.parent.parent / "results" / system.stem
        for benchmark in sorted(p for p in results.glob("*") if p.is_dir() and any(p.glob("result_*.txt"))):
            yield benchmark, ruleset


def mlperf_logging(folder: Path, ruleset: str) -> tuple[bool, str, float]:
    """mlperf-logging's verdict, message and normalisation, as its package checker asks for them."""
    from mlperf_logging.rcp_checker import rcp_checker

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / folder.name
        shutil.copytree(folder, copy)
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                passed, message, _ = rcp_checker.check_directory(
                    str(copy), "training", ruleset, False, False, rcp_pass="pruned_rcps", set_scaling=True
                )
            except Exception as exc:  # the checker's own crash is its verdict here
                return False, f"crash: {type(exc).__name__}: {exc}"[:200], 1.0
        scaling = copy / "scaling.json"
        factor = json.loads(scaling.read_text())["scaling_factor"] if scaling.exists() else 1.0
    return bool(passed), message, float(factor)


def ours(folder: Path, ruleset: str, method: str = "mlperf-logging") -> tuple[bool, str, float]:
    """The verdict, message and normalisation of parity with ``--method``."""
    try:
        result = check_rcp(folder, ruleset, method)
    except Exception as exc:  # reported as a disagreement, with its reason
        return False, f"error: {exc}"[:200], 1.0
    verdict = result.verdict
    return verdict.status == "passed", verdict.message, float(verdict.normalisation or 1.0)


def main() -> int:
    """Check every closed folder with both tools and print the agreement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="+", type=Path)
    parser.add_argument("--show", type=int, default=20, help="disagreements to print")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    counts, shown = Counter(), 0
    for root in args.rounds:
        for folder, ruleset in closed_folders(root):
            theirs, mine = mlperf_logging(folder, ruleset), ours(folder, ruleset)
            verdict_agrees = theirs[0] == mine[0]
            factor_agrees = not theirs[0] or abs(theirs[2] - mine[2]) < 1e-6
            counts["folders"] += 1
            counts[f"{ruleset} folders"] += 1
            counts["verdict agrees"] += verdict_agrees
            counts["verdict and factor agree"] += verdict_agrees and factor_agrees
            by_rules = ours(folder, ruleset, "rules")
            if by_rules[0] != mine[0]:
                counts[f"the rules' text gives another verdict ({'pass' if by_rules[0] else 'fail'})"] += 1
            elif by_rules[0] and abs(by_rules[2] - mine[2]) >= 1e-6:
                counts["the rules' text gives another normalisation factor"] += 1
            if not (verdict_agrees and factor_agrees):
                counts[f"{ruleset} disagree"] += 1
                if shown < args.show:
                    shown += 1
                    print(f"{folder}\n  mlperf-logging: {theirs}\n  parity:         {mine}")
    for key, value in sorted(counts.items()):
        print(f"{key}: {value}")
    return 0 if counts["verdict and factor agree"] == counts["folders"] else 1


if __name__ == "__main__":
    sys.exit(main())
