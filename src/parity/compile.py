"""Compile the data the fast paths read: each round's log rules and the judge tables of their rulebooks.

``parity logs check`` and ``parity rcp check`` start in milliseconds because they read JSON written here
instead of validating YAML with pydantic at every start. The YAML stays the source; run
``python -m parity.compile`` after changing a rule file or a rulebook (``--check`` reports stale files
without writing, and the test suite runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from parity.audit import rcp
from parity.audit.engines import InferenceLayoutEngine, InferenceResultEngine
from parity.audit.inference_submission import RULEBOOK as INFERENCE_RULEBOOK
from parity.engines.logs import rounds
from parity.engines.logs.expression_syntax import parse_expression
from parity.engines.logs.schema import KINDS as LOG_KINDS
from parity.engines.logs.schema import RoundRules
from parity.judge import table
from parity.judge.judging import deciding_rules, judge_one, reads_evidence, unobservable_rules
from parity.observations import Observation
from parity.report.json_output import to_json
from parity.rulebook import Rulebook, load_rulebook
from parity.rulebook.yaml_safe import read_yaml

#: fields of a finding that come from the rule, not from the observation
DECISION_FIELDS = ("outcome", "basis", "rule", "rule_title", "other_rules", "message", "rationale")


def compiled_round(source: Path) -> dict:
    """A round's YAML rules, validated, with every expression parsed into its program."""
    rules = RoundRules.model_validate(read_yaml(source))
    data = rules.model_dump(mode="json")
    texts = sorted({text for rule in rules.rules for text in (rule.check, rule.target) if text is not None})
    data["expressions"] = {text: parse_expression(text) for text in texts}
    return data


def compiled_table(book: Rulebook, kinds: tuple[str, ...]) -> dict:
    """What the judge decides for each kind, division and benchmark; None where evidence could matter."""
    named = sorted({benchmark for rule in book.rules.values() for benchmark in rule.benchmarks})
    divisions = {}
    for division in book.divisions:
        decisions = {}
        for kind in kinds:
            general = _decision(book, kind, division, None)
            specific = {b: _decision(book, kind, division, b) for b in named}
            decisions[kind] = {
                table.ANY_BENCHMARK: general,
                **{b: found for b, found in specific.items() if found != general},
            }
        divisions[division.value] = {
            "unobservable_rules": unobservable_rules(book, division),
            "kinds": decisions,
        }
    return {"format": "parity-judge-table", "rulebook": book.id, "kinds": list(kinds), "divisions": divisions}


def _decision(book: Rulebook, kind: str, division, benchmark: str | None) -> dict | None:
    if any(reads_evidence(rule) for rule in deciding_rules(kind, book, division, benchmark)):
        return None
    finding = judge_one(0, Observation(kind=kind), book, division, benchmark).to_json()
    return {name: finding[name] for name in DECISION_FIELDS}


def compiled_files() -> dict[Path, str]:
    """Every compiled file's path and content."""
    files: dict[Path, str] = {}
    books = {rcp.RULEBOOK}
    for source in sorted(Path(rounds.DATA_DIR).glob("training_*.yaml")):
        data = compiled_round(source)
        books.add(data["rulebook"])
        files[Path(rounds.COMPILED_DIR) / f"{source.stem}.json"] = to_json(data)
    kinds = tuple(dict.fromkeys((*LOG_KINDS, *rcp.KINDS.values())))
    for book_id in sorted(books):
        compiled = compiled_table(load_rulebook(book_id), kinds)
        files[Path(table.COMPILED_DIR) / f"{book_id}.json"] = to_json(compiled)
    inference = tuple(
        sorted({kind for engine in (InferenceResultEngine, InferenceLayoutEngine) for kind in engine.emits})
    )
    compiled = compiled_table(load_rulebook(INFERENCE_RULEBOOK), inference)
    files[Path(table.COMPILED_DIR) / f"{INFERENCE_RULEBOOK}.json"] = to_json(compiled)
    return files


def stale_files() -> list[Path]:
    """Compiled files that are missing or differ from what their sources compile to (or have no source)."""
    wanted = compiled_files()
    stale = [path for path, text in wanted.items() if not path.is_file() or path.read_text("utf-8") != text]
    folders = {path.parent for path in wanted}
    extra = [path for folder in folders for path in folder.glob("*.json") if path not in wanted]
    return sorted(stale + extra)


def main(argv: list[str] | None = None) -> int:
    """Write the compiled files, or with --check only report the stale ones (exit 1 if any)."""
    parser = argparse.ArgumentParser(prog="python -m parity.compile", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files; write nothing")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path} (run python -m parity.compile)")
        return 1 if stale else 0
    for path in stale_files():
        path.unlink(missing_ok=True)
    for path, text in compiled_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
