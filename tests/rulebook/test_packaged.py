"""Every packaged rulebook loads, is complete, and every rule's examples hold under the real judge."""

import pytest

from parity.judge import run_examples
from parity.rulebook import RuleKind, aliases, load_rulebook, packaged_ids

PACKAGED = ["mlperf-training-v0.7", "mlperf-training-v6.0", "mlperf-inference-v0.7", "mlperf-inference-v6.1"]
#: what-if rulebooks (issue 14): packaged so that `rules diff` and `rules explain` read them like any other
WHATIFS = [
    "whatif-training-allow-by-default",
    "whatif-training-inference-optimisations",
    "whatif-inference-deny-by-default",
]


def test_the_four_rulebooks_the_what_ifs_and_their_aliases_are_packaged():
    assert packaged_ids() == sorted(PACKAGED + WHATIFS)
    assert aliases() == {
        "mlperf-training": "mlperf-training-v6.0",
        "mlperf-inference": "mlperf-inference-v6.1",
    }
    assert load_rulebook("mlperf-training").id == "mlperf-training-v6.0"
    assert load_rulebook("mlperf-inference").id == "mlperf-inference-v6.1"


@pytest.mark.parametrize(
    ("rulebook", "closed", "open_", "divisions", "lineage"),
    [
        ("mlperf-training-v0.7", "deny", "allow", ["closed", "open"], ["mlperf-training-v0.7"]),
        (
            "mlperf-training-v6.0",
            "deny",
            "allow",
            ["closed", "open"],
            ["mlperf-training-v0.7", "mlperf-training-v6.0"],
        ),
        ("mlperf-inference-v0.7", "allow", "allow", ["closed", "open"], ["mlperf-inference-v0.7"]),
        (
            "mlperf-inference-v6.1",
            "allow",
            "allow",
            ["closed", "open", "network"],
            ["mlperf-inference-v0.7", "mlperf-inference-v6.1"],
        ),
    ],
)
def test_polarity_divisions_and_lineage(rulebook, closed, open_, divisions, lineage):
    book = load_rulebook(rulebook)
    assert [d.value for d in book.divisions] == divisions
    assert book.polarity("closed").value == closed and book.polarity("open").value == open_
    assert list(book.lineage) == lineage
    assert book.default_rationale and book.source and book.counterpart
    load_rulebook(book.counterpart)


@pytest.mark.parametrize("rulebook", PACKAGED)
def test_every_rule_has_statement_rationale_source_and_examples(rulebook):
    book = load_rulebook(rulebook)
    assert len(book.rules) >= 25
    for rule in book.rules.values():
        assert rule.statement and rule.rationale and rule.examples, rule.id
        assert rule.source.document and rule.source.section, rule.id
        assert rule.id.startswith(book.suite + "."), rule.id


@pytest.mark.parametrize("rulebook", PACKAGED)
def test_rulebooks_use_every_rule_kind(rulebook):
    kinds = {rule.kind for rule in load_rulebook(rulebook).rules.values()}
    assert {RuleKind.ALLOWED, RuleKind.PROHIBITED, RuleKind.REQUIRED} <= kinds


def _example_cases():
    for rulebook in PACKAGED:
        for result in run_examples(load_rulebook(rulebook)):
            yield pytest.param(result, id=f"{rulebook}:{result.rule}:{result.index + 1}")


@pytest.mark.parametrize("result", list(_example_cases()))
def test_rule_example_reaches_its_expected_verdict(result):
    assert result.passed, result.describe()


@pytest.mark.parametrize("rulebook", PACKAGED)
def test_rules_that_govern_kinds_show_both_a_conforming_or_reviewed_and_a_governed_case(rulebook):
    book = load_rulebook(rulebook)
    for rule in book.rules.values():
        if rule.governs:
            checked = [example for example in rule.examples if example.observations]
            assert checked, f"{rule.id} governs kinds but has no machine-checked example"


def test_extending_rounds_record_what_they_add_change_and_remove():
    for rulebook in ("mlperf-training-v6.0", "mlperf-inference-v6.1"):
        actions = {entry.action for entry in load_rulebook(rulebook).history if entry.rulebook == rulebook}
        assert {"added", "changed", "removed"} <= actions, rulebook
