"""Compiled judge tables decide exactly as the judge does, and hand evidence-dependent cases back to it."""

import itertools

import pytest

from parity.compile import compiled_table, stale_files
from parity.judge import judge
from parity.judge.table import ANY_BENCHMARK, JudgeTable, judge_by_table, load_table, table_ids
from parity.observations import Observation
from parity.rulebook import load_rulebook


def _observation(kind, metrics=None, details=None):
    location = {"where": "log_line", "name": "k", "side": "candidate", "file": "result_0.txt", "line": 7}
    return Observation.from_json(
        {
            "kind": kind,
            "engine": "logs",
            "summary": f"a {kind}",
            "evidence": {"locations": [location], "metrics": metrics or {}, "details": details or {}},
        }
    )


def _by_the_judge(observations, book, division, benchmark):
    return judge(observations, book, division, benchmark)


def test_the_compiled_files_are_what_their_sources_compile_to():
    assert stale_files() == [], "run `python -m parity.compile`"


@pytest.mark.parametrize("book_id", table_ids())
def test_every_entry_of_every_packaged_table_matches_the_judge(book_id):
    table, book = load_table(book_id), load_rulebook(book_id)
    for division, compiled in table.divisions.items():
        benchmarks = {b for entries in compiled["kinds"].values() for b in entries} - {ANY_BENCHMARK}
        for kind, benchmark in itertools.product(compiled["kinds"], [None, "no-such-benchmark", *benchmarks]):
            observations = [_observation(kind), _observation("log.event_missing")]
            assert judge_by_table(observations, table, division, benchmark) == _by_the_judge(
                observations, book, division, benchmark
            ), (kind, division, benchmark)


def test_rules_that_read_evidence_are_left_to_the_judge():
    book = load_rulebook("mlperf-inference-v0.7")
    kinds = ("accuracy.below_target", "weights.quantized", "weights.pruned", "graph.batchnorm_folded")
    table = JudgeTable(compiled_table(book, kinds))
    closed = table.divisions["closed"]["kinds"]
    assert closed["accuracy.below_target"][ANY_BENCHMARK] is None  # a threshold on accuracy_ratio
    assert closed["weights.quantized"][ANY_BENCHMARK] is None  # allowed given calibration evidence
    assert closed["weights.pruned"][ANY_BENCHMARK]["outcome"] == "forbidden"
    cases = [
        _observation("accuracy.below_target", {"accuracy_ratio": 0.985}),
        _observation("accuracy.below_target", {"accuracy_ratio": 0.995}),
        _observation("accuracy.below_target", {"accuracy_ratio": 0.995}, {"benchmark": "bert-99.9"}),
        _observation(
            "weights.quantized",
            details={"format": "int8", "calibration_dataset": "x", "quantization_method": "minmax"},
        ),
        _observation("weights.quantized"),
        _observation("weights.pruned"),
    ]
    for benchmark in (None, "bert-99.9"):
        plain = judge_by_table(cases, table, "closed", benchmark)
        assert plain == _by_the_judge(cases, book, "closed", benchmark)
    assert [f.outcome for f in judge_by_table(cases, table, "closed", None).findings] == [
        "forbidden",
        "allowed",
        "forbidden",
        "allowed",
        "needs_review",
        "forbidden",
    ]


def test_a_division_the_rulebook_lacks_is_bad_input():
    from parity.errors import BadInput

    with pytest.raises(BadInput, match="has no network division"):
        judge_by_table([], load_table("mlperf-training-v6.0"), "network", None)


def test_the_worst_verdict_is_by_severity_not_by_exit_code():
    """Violates (exit 1) outranks needs review (exit 2): a submission with both violates."""
    from parity.judge.outcomes import Verdict, worst_verdict

    assert worst_verdict(["needs_review", "violates", "conforms"]) is Verdict.VIOLATES
    assert worst_verdict([Verdict.CONFORMS, Verdict.NEEDS_REVIEW]) is Verdict.NEEDS_REVIEW
    assert worst_verdict([]) is Verdict.CONFORMS
