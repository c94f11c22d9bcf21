"""Run every rule's examples through the real judge (semgrep's `--test`, ruff's fixture table).

A rule's example says which observations, in which division, must give which verdict under the rulebook
that contains the rule. This is how each rule proves the judge reads it the way its text says.
"""

from __future__ import annotations

from dataclasses import dataclass

from parity.judge.judging import judge
from parity.judge.model import Judgement
from parity.observations import Evidence, Observation
from parity.rulebook import Example, Rule, Rulebook


@dataclass(frozen=True)
class ExampleResult:
    """One example's expectation against what the judge said."""

    rulebook: str
    rule: str
    index: int
    example: Example
    judgement: Judgement

    @property
    def passed(self) -> bool:
        """True if the judge reached the expected verdict."""
        return self.judgement.verdict.value == self.example.expect

    def describe(self) -> str:
        """One line for a failing example."""
        return (
            f"{self.rulebook} {self.rule} example {self.index + 1} ({self.example.description}): "
            f"expected {self.example.expect}, judged {self.judgement.verdict.value}"
        )


def example_observations(example: Example) -> list[Observation]:
    """The example's observations as real Observation objects."""
    return [
        Observation(
            kind=item.kind,
            engine="example",
            evidence=Evidence(details=item.details, metrics=item.metrics),
        )
        for item in example.observations
    ]


def run_examples(rulebook: Rulebook) -> list[ExampleResult]:
    """Judge every machine-checkable example of every rule of ``rulebook``."""
    results = []
    for rule in rulebook.rules.values():
        for index, example in enumerate(rule.examples):
            if not example.observations:
                continue
            results.append(_run(rulebook, rule, index, example))
    return results


def _run(rulebook: Rulebook, rule: Rule, index: int, example: Example) -> ExampleResult:
    division = example.division or rule.divisions[0]
    benchmark = example.benchmark or (rule.benchmarks[0] if rule.benchmarks else None)
    judgement = judge(example_observations(example), rulebook, division, benchmark)
    return ExampleResult(rulebook.id, rule.id, index, example, judgement)
