"""The judge: observations + rulebook + division → findings → verdict. Pure and deterministic.

For each observation the judge looks for rules of the division that name its exact kind, then its parent
kind, then its category wildcard; the first level with any rule decides. Within that level, rules limited
to the observation's benchmark override general ones, and the strictest outcome among the rest wins.
With no rule at all, the rulebook's default polarity decides (training closed denies, inference allows).
Kinds that confirm sameness (``weights.identical``) need no rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from parity.errors import BadInput
from parity.judge.model import Finding, Judgement
from parity.judge.outcomes import SEVERITY, Outcome
from parity.observations import Observation, get_kind
from parity.rulebook import Division, Enforcement, Polarity, Rule, Rulebook, RuleKind
from parity.untrusted import echo


def judge(
    observations: Sequence[Observation],
    rulebook: Rulebook,
    division: Division | str = Division.CLOSED,
    benchmark: str | None = None,
) -> Judgement:
    """Judge every observation under ``rulebook`` in ``division`` and reach a verdict.

    Raises:
        BadInput: the rulebook does not define ``division``.
    """
    division = _division(division, rulebook)
    findings = [
        judge_one(index, observation, rulebook, division, benchmark)
        for index, observation in enumerate(observations)
    ]
    return Judgement(rulebook.id, division.value, findings, unobservable_rules(rulebook, division), benchmark)


def unobservable_rules(rulebook: Rulebook, division: Division) -> list[str]:
    """Rules of the division no engine can observe (they govern no kind): a person must check them."""
    return [rule.id for rule in rulebook.rules.values() if not rule.governs and division in rule.divisions]


def judge_one(
    index: int, observation: Observation, rulebook: Rulebook, division: Division, benchmark: str | None
) -> Finding:
    """The finding for one observation."""
    kind = get_kind(observation.kind)
    assert kind is not None, "Observation validates its kind"
    benchmark = observation.evidence.details.get("benchmark", benchmark)
    common = {
        "observation": index,
        "kind": kind,
        "summary": observation.summary,
        "evidence": observation.evidence,
    }
    rules = deciding_rules(kind.name, rulebook, division, benchmark)
    if rules:
        decided = [(apply_rule(rule, observation), rule) for rule in rules]
        decided.sort(key=lambda pair: -SEVERITY[pair[0][0]])
        (outcome, reason), rule = decided[0]
        return Finding(
            **common,
            outcome=outcome,
            basis="rule",
            rule=rule.id,
            rule_title=rule.title,
            other_rules=[other.id for _, other in decided[1:]],
            message=f"{rule.message or rule.title}: {reason}",
            rationale=rule.rationale,
        )
    if not kind.difference:
        return Finding(**common, outcome=Outcome.ALLOWED, basis="no_difference", message=kind.meaning)
    polarity = rulebook.polarity(division)
    outcome = Outcome.FORBIDDEN if polarity is Polarity.DENY else Outcome.ALLOWED
    verb = "denies" if polarity is Polarity.DENY else "allows"
    return Finding(
        **common,
        outcome=outcome,
        basis="default",
        message=f"no rule of {rulebook.id} names {kind.name}; the {division.value} division {verb} "
        f"unlisted changes",
        rationale=rulebook.default_rationale,
    )


def deciding_rules(
    kind_name: str, rulebook: Rulebook, division: Division, benchmark: str | None
) -> list[Rule]:
    """The rules that decide an observation of a kind: those of the first lookup level that has any.

    Levels are the exact kind, its parent, its category wildcard; a benchmark's own rules override the
    general ones of the same level (e.g. a 97% accuracy target). Empty: the default polarity decides.
    """
    kind = get_kind(kind_name)
    assert kind is not None, "callers pass registered kinds"
    for pattern in _lookup_order(kind.name, kind.parent):
        rules = [rule for rule in rulebook.rules_naming(pattern, division) if _applies(rule, benchmark)]
        specific = [rule for rule in rules if rule.benchmarks]
        if specific or rules:
            return specific or rules
    return []


def apply_rule(rule: Rule, observation: Observation) -> tuple[Outcome, str]:
    """What one rule says about one observation of a kind it governs, and the reason in a few words."""
    if rule.kind is RuleKind.PROHIBITED:
        if rule.enforcement is Enforcement.HUMAN_REVIEW:
            return Outcome.NEEDS_REVIEW, "prohibited if a reviewer confirms it"
        return Outcome.FORBIDDEN, "prohibited"
    if rule.kind is RuleKind.THRESHOLD:
        return _threshold(rule, observation)
    if rule.kind is RuleKind.REQUIRED:
        if rule.enforcement is Enforcement.HUMAN_REVIEW:
            return Outcome.NEEDS_REVIEW, "required; a reviewer must decide whether it is met"
        return Outcome.FORBIDDEN, "requirement not met"
    if rule.enforcement is Enforcement.HUMAN_REVIEW:
        return Outcome.NEEDS_REVIEW, "allowed only with approval; a reviewer must confirm"
    details = observation.evidence.details
    for key, accepted in rule.allowed_values.items():
        value = details.get(key)
        if value is not None and _normal(value) not in {_normal(item) for item in accepted}:
            shown = ", ".join(str(item) for item in accepted)
            return Outcome.FORBIDDEN, f"{key} {echo(value)} is not one of the accepted values ({shown})"
    for key, reviewed in rule.review_values.items():
        value = details.get(key)
        if value is not None and _normal(value) in {_normal(item) for item in reviewed}:
            return Outcome.NEEDS_REVIEW, f"{key} {echo(value)}: a reviewer must confirm it under this rule"
    wanted = [*rule.needs_evidence, *rule.allowed_values]
    missing = [key for key in dict.fromkeys(wanted) if details.get(key) in (None, "", [], {})]
    if missing:
        return Outcome.NEEDS_REVIEW, f"allowed given evidence; missing: {', '.join(missing)}"
    return Outcome.ALLOWED, "allowed"


def reads_evidence(rule: Rule) -> bool:
    """Whether :func:`apply_rule` looks at the observation's evidence for this rule.

    If not, its outcome depends only on the kind, division and benchmark, so it can be compiled into a
    judge table (:mod:`parity.judge.table`).
    """
    if rule.kind is RuleKind.THRESHOLD:
        return True
    if rule.kind in (RuleKind.PROHIBITED, RuleKind.REQUIRED) or rule.enforcement is Enforcement.HUMAN_REVIEW:
        return False
    return bool(rule.allowed_values or rule.needs_evidence or rule.review_values)


def _normal(value: object) -> object:
    """A comparable form of an evidence value: strings without case and spaces, a list or object as text.

    No accepted value is a list or an object, so a hostile evidence file cannot make the comparison fail.
    """
    if isinstance(value, str):
        return value.strip().lower()
    return value if isinstance(value, int | float | bool | type(None)) else repr(value)


def _threshold(rule: Rule, observation: Observation) -> tuple[Outcome, str]:
    bound = rule.threshold
    assert bound is not None, "schema requires a threshold on threshold rules"
    value = observation.evidence.metrics.get(bound.metric)
    if value is None:
        return Outcome.NEEDS_REVIEW, f"metric {bound.metric!r} not in the evidence; cannot compare"
    if bound.min is not None and value < bound.min:
        return Outcome.FORBIDDEN, f"{bound.metric} = {value:g} < {bound.min:g}"
    if bound.max is not None and value > bound.max:
        return Outcome.FORBIDDEN, f"{bound.metric} = {value:g} > {bound.max:g}"
    return Outcome.ALLOWED, f"{bound.metric} = {value:g} within bounds"


def _lookup_order(name: str, parent: str | None) -> list[str]:
    order = [name]
    if parent:
        order.append(parent)
    order.append(f"{name.partition('.')[0]}.*")
    return order


def _applies(rule: Rule, benchmark: str | None) -> bool:
    return not rule.benchmarks or (benchmark is not None and benchmark in rule.benchmarks)


def _division(value: Division | str, rulebook: Rulebook) -> Division:
    try:
        division = Division(value)
    except ValueError:
        raise BadInput(f"unknown division {value!r}; expected one of closed, open, network") from None
    if division not in rulebook.divisions:
        known = ", ".join(d.value for d in rulebook.divisions)
        raise BadInput(f"rulebook {rulebook.id} has no {division.value} division (it has: {known})")
    return division
