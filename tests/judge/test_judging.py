"""The judge's mechanics on small rulebooks the tests write: lookup order, outcomes, verdicts."""

import pytest

from conftest import make_book, make_rule
from parity.errors import BadInput
from parity.judge import Outcome, Verdict, judge
from parity.observations import Evidence, Observation
from parity.rulebook import load_rulebook


def _obs(kind, details=None, metrics=None):
    return Observation(kind=kind, evidence=Evidence(details=details or {}, metrics=metrics or {}))


def _example(kind, expect="conforms"):
    return [{"description": kind, "observations": [kind], "expect": expect}]


@pytest.fixture
def book(write_yaml):
    rules = [
        make_rule(
            id="demo.graph.op-removed",
            kind="prohibited",
            governs=["graph.op_removed"],
            examples=_example("graph.op_removed", "violates"),
        ),
        make_rule(
            id="demo.graph.identity",
            governs=["graph.identity_removed"],
            examples=_example("graph.identity_removed"),
        ),
        make_rule(id="demo.weights.any", governs=["weights.*"], examples=_example("weights.folded")),
        make_rule(
            id="demo.weights.quantized",
            governs=["weights.quantized"],
            enforcement="needs_evidence",
            needs_evidence=["calibration_dataset"],
            examples=_example("weights.quantized", "needs_review"),
        ),
        make_rule(
            id="demo.graph.precision",
            governs=["graph.precision_changed"],
            allowed_values={"format": ["fp16", "bf16"]},
            examples=_example("graph.precision_changed", "needs_review"),
        ),
        make_rule(
            id="demo.accuracy.target",
            kind="threshold",
            governs=["accuracy.below_target"],
            threshold={"metric": "accuracy_ratio", "min": 0.99},
            examples=_example("accuracy.below_target", "needs_review"),
        ),
        make_rule(
            id="demo.hparam.approval",
            kind="allowed",
            enforcement="human_review",
            governs=["hparam.changed"],
            examples=_example("hparam.changed", "needs_review"),
        ),
        make_rule(
            id="demo.log.events",
            kind="required",
            governs=["log.event_missing"],
            examples=_example("log.event_missing", "violates"),
        ),
        make_rule(
            id="demo.convergence.rcp",
            kind="required",
            enforcement="human_review",
            governs=["convergence.reference_missing"],
            examples=_example("convergence.reference_missing", "needs_review"),
        ),
        make_rule(
            id="demo.graph.bench-only",
            governs=["graph.layout_changed"],
            benchmarks=["resnet"],
            examples=_example("graph.layout_changed"),
        ),
        make_rule(
            id="demo.review.detection",
            kind="prohibited",
            governs=[],
            enforcement="human_review",
            examples=[{"description": "detects the benchmark", "expect": "violates"}],
        ),
        make_rule(
            id="demo.open.anything",
            divisions=["open"],
            kind="prohibited",
            governs=["weights.pruned"],
            examples=[
                {
                    "description": "p",
                    "observations": ["weights.pruned"],
                    "division": "open",
                    "expect": "violates",
                }
            ],
        ),
    ]
    return load_rulebook(write_yaml("demo-v1.yaml", make_book(rules)))


def _one(book, observation, division="closed", benchmark=None):
    return judge([observation], book, division, benchmark).findings[0]


def test_exact_kind_beats_parent(book):
    finding = _one(book, _obs("graph.identity_removed"))
    assert (finding.outcome, finding.rule, finding.basis) == (Outcome.ALLOWED, "demo.graph.identity", "rule")


def test_parent_rule_applies_to_a_child_kind_without_its_own_rule(book):
    finding = _one(book, _obs("graph.dropout_removed"))
    assert (finding.outcome, finding.rule) == (Outcome.FORBIDDEN, "demo.graph.op-removed")


def test_category_wildcard_applies_when_neither_kind_nor_parent_is_named(book):
    assert _one(book, _obs("weights.rearranged")).rule == "demo.weights.any"
    # weights.pruned's parent (weights.modified) has no rule, so the wildcard decides
    assert _one(book, _obs("weights.pruned")).rule == "demo.weights.any"


def test_default_polarity_decides_unnamed_kinds_per_division(book):
    closed = _one(book, _obs("graph.batchnorm_folded"))
    assert (closed.outcome, closed.basis, closed.rule) == (Outcome.FORBIDDEN, "default", None)
    assert closed.rationale == "Closed is a closed world."
    assert _one(book, _obs("graph.batchnorm_folded"), "open").outcome is Outcome.ALLOWED


def test_rules_apply_only_in_their_divisions(book):
    assert _one(book, _obs("weights.pruned"), "open").rule == "demo.open.anything"
    assert _one(book, _obs("weights.pruned"), "closed").rule == "demo.weights.any"


def test_sameness_needs_no_rule_even_in_a_closed_world(book):
    finding = _one(book, _obs("numeric.outputs_match"))
    assert (finding.outcome, finding.basis) == (Outcome.ALLOWED, "no_difference")


def test_needs_evidence_is_review_until_the_detail_is_present(book):
    assert _one(book, _obs("weights.quantized")).outcome is Outcome.NEEDS_REVIEW
    assert "missing: calibration_dataset" in _one(book, _obs("weights.quantized")).message
    given = _obs("weights.quantized", {"calibration_dataset": "imagenet-cal-500"})
    assert _one(book, given).outcome is Outcome.ALLOWED


@pytest.mark.parametrize(
    ("fmt", "outcome"), [(None, "needs_review"), ("FP16", "allowed"), ("fp6", "forbidden")]
)
def test_allowed_values_accept_listed_values_only(book, fmt, outcome):
    details = {"format": fmt} if fmt else {}
    assert _one(book, _obs("graph.precision_changed", details)).outcome.value == outcome


@pytest.mark.parametrize(
    ("ratio", "outcome"),
    [(None, "needs_review"), (0.995, "allowed"), (0.99, "allowed"), (0.985, "forbidden")],
)
def test_threshold_compares_the_evidence_metric(book, ratio, outcome):
    metrics = {"accuracy_ratio": ratio} if ratio is not None else {}
    finding = _one(book, _obs("accuracy.below_target", metrics=metrics))
    assert finding.outcome.value == outcome


def test_required_rules_forbid_or_ask_for_review(book):
    assert _one(book, _obs("log.event_missing")).outcome is Outcome.FORBIDDEN
    assert _one(book, _obs("convergence.reference_missing")).outcome is Outcome.NEEDS_REVIEW
    assert _one(book, _obs("hparam.changed")).outcome is Outcome.NEEDS_REVIEW


def test_benchmark_specific_rules_apply_only_to_their_benchmarks(book):
    assert _one(book, _obs("graph.layout_changed"), benchmark="resnet").outcome is Outcome.ALLOWED
    assert _one(book, _obs("graph.layout_changed"), benchmark="bert").basis == "default"
    assert _one(book, _obs("graph.layout_changed")).basis == "default"
    in_details = _obs("graph.layout_changed", {"benchmark": "resnet"})
    assert _one(book, in_details).rule == "demo.graph.bench-only"


def test_strictest_rule_wins_at_the_same_level_and_others_are_listed(write_yaml):
    rules = [
        make_rule(
            id="demo.a.allow", governs=["graph.ops_fused"], examples=_example("graph.ops_fused", "violates")
        ),
        make_rule(
            id="demo.b.deny",
            kind="prohibited",
            governs=["graph.ops_fused"],
            examples=_example("graph.ops_fused", "violates"),
        ),
    ]
    book = load_rulebook(write_yaml("demo-v1.yaml", make_book(rules)))
    finding = _one(book, _obs("graph.ops_fused"))
    assert (finding.outcome, finding.rule, finding.other_rules) == (
        Outcome.FORBIDDEN,
        "demo.b.deny",
        ["demo.a.allow"],
    )


def test_verdict_is_the_worst_outcome_and_counts_add_up(book):
    observations = [_obs("graph.identity_removed"), _obs("weights.quantized"), _obs("graph.op_removed")]
    result = judge(observations, book)
    assert result.verdict is Verdict.VIOLATES
    assert result.counts == {"allowed": 1, "needs_review": 1, "forbidden": 1}
    assert judge(observations[:2], book).verdict is Verdict.NEEDS_REVIEW
    assert judge(observations[:1], book).verdict is Verdict.CONFORMS
    assert judge([], book).verdict is Verdict.CONFORMS
    assert result.unobservable_rules == ["demo.review.detection"]


def test_judging_is_deterministic(book):
    observations = [_obs(kind) for kind in ("weights.pruned", "graph.op_removed", "hparam.changed")]
    assert judge(observations, book).to_json() == judge(list(observations), book).to_json()


def test_unknown_or_undefined_division_is_bad_input(book):
    with pytest.raises(BadInput, match="no network division"):
        judge([], book, "network")
    with pytest.raises(BadInput, match="unknown division"):
        judge([], book, "premier")


def test_a_benchmarks_own_rule_overrides_the_general_rule(write_yaml):
    def target(rule_id, minimum, benchmarks=None):
        example = [
            {
                "description": "d",
                "observations": [{"kind": "accuracy.below_target", "metrics": {"accuracy_ratio": 0.5}}],
                "expect": "violates",
            }
        ]
        extra = {"benchmarks": benchmarks} if benchmarks else {}
        return make_rule(
            id=rule_id,
            kind="threshold",
            governs=["accuracy.below_target"],
            threshold={"metric": "accuracy_ratio", "min": minimum},
            examples=example,
            **extra,
        )

    rules = [target("demo.accuracy.general", 0.99), target("demo.accuracy.rag", 0.97, ["rag"])]
    book = load_rulebook(write_yaml("demo-v1.yaml", make_book(rules)))
    observation = _obs("accuracy.below_target", metrics={"accuracy_ratio": 0.98})
    assert _one(book, observation, benchmark="rag").rule == "demo.accuracy.rag"
    assert _one(book, observation, benchmark="rag").outcome is Outcome.ALLOWED
    assert _one(book, observation, benchmark="resnet").outcome is Outcome.FORBIDDEN
