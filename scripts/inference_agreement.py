"""Per-result agreement of `parity audit` with the official inference submission checker on a whole round.

Runs the official checker (``tools/submission/submission_checker.py`` of mlcommons/inference at a tag,
extracted beside the round) with ``--csv`` and reads which results it accepted (the CSV's rows) and
refused (its ``NoResults`` lines), runs ``parity audit -f json`` on the same tree, and counts per result:
both accept, both refuse, and each disagreement with the rule that decides it.

    python scripts/extract_mirror.py /work/.mirror/mlcommons+inference_results_v5.1/repo /tmp/ir closed
    git --git-dir /work/.mirror/mlcommons+inference/repo archive v5.1.1 tools/submission | tar -x -C /tmp/c
    python scripts/inference_agreement.py /tmp/ir/closed --checker /tmp/c/tools/submission --version v5.1
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import re
import subprocess
import sys
import tempfile

NO_RESULT = re.compile(r"NoResults (\S+)")


def official(tree: str, checker: str, version: str) -> tuple[set[str], set[str]]:
    """(accepted, refused) result folders, relative to the tree's parent (``closed/Org/results/...``)."""
    with tempfile.TemporaryDirectory() as work:
        table = os.path.join(work, "results.csv")
        run = subprocess.run(
            [
                sys.executable,
                "submission_checker.py",
                "--input",
                os.path.dirname(os.path.abspath(tree)),
                "--version",
                version,
                "--skip-extra-accuracy-files-check",
                "--csv",
                table,
            ],
            cwd=checker,
            capture_output=True,
            text=True,
            check=False,
        )
        with open(table, newline="", encoding="utf-8") as handle:
            accepted = {row["Location"] for row in csv.DictReader(handle)}
    refused = {m.group(1) for m in NO_RESULT.finditer(run.stdout + run.stderr)}
    division = os.path.basename(os.path.abspath(tree)) + "/"  # the checker reads every division beside it
    return {a for a in accepted if a.startswith(division)}, {r for r in refused if r.startswith(division)}


def ours(tree: str, round_name: str) -> dict[str, dict]:
    """Each result's verdict and its non-allowed findings, by folder relative to the tree's parent."""
    run = subprocess.run(
        [sys.executable, "-m", "parity", "-q", "audit", tree, "--ruleset", round_name, "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    data = json.loads(run.stdout)
    base = os.path.dirname(os.path.abspath(tree))
    found = {}
    for organisation in data["organisations"]:
        layout = [f for f in organisation["findings"] if f["outcome"] != "allowed"]
        for result in organisation["results"]:
            relative = os.path.relpath(result["folder"], base)
            problems = [f for f in result["findings"] if f["outcome"] != "allowed"]
            # a model missing a required scenario refuses its other results in the official count too
            model = os.path.dirname(result["folder"])
            problems += [
                f
                for f in layout
                if any(where.get("file") == model for where in f["evidence"].get("locations", []))
            ]
            verdict = (
                result["verdict"]
                if not problems
                else min((p["outcome"] for p in problems), key=["forbidden", "needs_review"].index)
            )
            found[relative] = {"verdict": verdict, "problems": problems}
    return found


def main() -> int:
    """Print the agreement tables (Markdown) for the round at the given tree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", help="the division folder (closed/)")
    parser.add_argument("--checker", required=True, help="tools/submission of mlcommons/inference at the tag")
    parser.add_argument("--version", default="v5.1")
    args = parser.parse_args()
    accepted, refused = official(args.tree, args.checker, args.version)
    verdicts = ours(args.tree, args.version.removeprefix("v"))
    counts = collections.Counter()
    rules = collections.Counter()
    examples: dict[tuple, str] = {}
    for folder, ours_found in sorted(verdicts.items()):
        theirs = "accepts" if folder in accepted else ("refuses" if folder in refused else "not listed")
        mine = {
            "conforms": "accepts",
            "allowed": "accepts",
            "forbidden": "refuses",
            "violates": "refuses",
        }.get(ours_found["verdict"], "needs review")
        counts[(theirs, mine)] += 1
        if theirs != mine:
            for problem in ours_found["problems"]:
                key = (theirs, mine, problem["rule"], problem["kind"])
                rules[key] += 1
                examples.setdefault(key, f"{folder}: {problem['summary']}")
    print(
        f"{len(verdicts)} results audited by parity; "
        f"official: {len(accepted)} accepted, {len(refused)} refused"
    )
    print("\n| official | parity | results |\n|---|---|---|")
    for (theirs, mine), count in sorted(counts.items()):
        print(f"| {theirs} | {mine} | {count} |")
    print("\n| official | parity | rule | change kind | findings | example |\n|---|---|---|---|---|---|")
    for (theirs, mine, rule, kind), count in sorted(rules.items(), key=lambda item: -item[1]):
        print(
            f"| {theirs} | {mine} | `{rule}` | `{kind}` | {count} | "
            f"{examples[(theirs, mine, rule, kind)][:160]} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
