"""The judge: applies a rulebook to observations, with no knowledge of how they were made.

Names load on first use, so the compiled judge tables (:mod:`parity.judge.table`) run without pydantic.
"""

from parity._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "KindContrast": "contrast",
        "contrast": "contrast",
        "judge_bare": "contrast",
        "ExampleResult": "examples",
        "run_examples": "examples",
        "apply_rule": "judging",
        "judge": "judging",
        "judge_one": "judging",
        "verdict_of": "outcomes",
        "Finding": "model",
        "Judgement": "model",
        "Outcome": "outcomes",
        "Verdict": "outcomes",
    },
)
