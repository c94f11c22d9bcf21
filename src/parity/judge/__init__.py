"""The judge: applies a rulebook to observations, with no knowledge of how they were made."""

from parity.judge.contrast import KindContrast, contrast, judge_bare
from parity.judge.examples import ExampleResult, run_examples
from parity.judge.judging import apply_rule, judge, judge_one, verdict_of
from parity.judge.model import Finding, Judgement, Outcome, Verdict

__all__ = [
    "ExampleResult",
    "Finding",
    "Judgement",
    "KindContrast",
    "Outcome",
    "Verdict",
    "apply_rule",
    "contrast",
    "judge",
    "judge_bare",
    "judge_one",
    "run_examples",
    "verdict_of",
]
