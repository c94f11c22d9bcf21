"""The rulebook schema: what a rule and a rulebook file must say.

Every field carries a description, so `parity rules schema` exports a self-documenting JSON Schema.
Cross-field checks that need the vocabulary (known change kinds) live here too; checks that need other
files (inheritance, duplicate ids across rounds) live in the loader.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from parity.observations import expand_pattern, get_kind

RULE_ID_PATTERN = r"^[a-z][a-z0-9]*(\.[a-z0-9]+(-[a-z0-9]+)*)+$"
RULEBOOK_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9.]+)*$"


class RuleKind(StrEnum):
    """What a rule does to the change kinds it governs."""

    ALLOWED = "allowed"
    PROHIBITED = "prohibited"
    REQUIRED = "required"
    THRESHOLD = "threshold"


class Enforcement(StrEnum):
    """How a rule can be enforced."""

    AUTOMATIC = "automatic"
    NEEDS_EVIDENCE = "needs_evidence"
    HUMAN_REVIEW = "human_review"


class Division(StrEnum):
    """MLPerf divisions (network exists for inference only)."""

    CLOSED = "closed"
    OPEN = "open"
    NETWORK = "network"


class Polarity(StrEnum):
    """What happens to a change kind that no rule names."""

    DENY = "deny"
    ALLOW = "allow"


Expectation = Literal["conforms", "violates", "needs_review"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Source(_Strict):
    """Where a rule (or a rulebook) comes from."""

    document: str = Field(
        description="The source document, e.g. 'MLPerf Training Rules (training_rules.adoc)'."
    )
    section: str | None = Field(None, description="Section heading in that document.")
    round: str | None = Field(None, description="The benchmark round the text is taken from, e.g. 'v6.0'.")
    url: str | None = Field(None, description="Link to the document.")
    commit: str | None = Field(None, description="Commit of the document the text was read at.")


class ExampleObservation(_Strict):
    """An observation in a rule example: a kind, with optional details and metrics."""

    kind: str = Field(description="A change kind.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="Evidence details (see needs_evidence)."
    )
    metrics: dict[str, float] = Field(default_factory=dict, description="Evidence metrics (see threshold).")

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str) -> str:
        if get_kind(value) is None:
            raise ValueError(f"unknown change kind {value!r}")
        return value


class Example(_Strict):
    """A conforming or violating case; with observations, the test suite runs it through the judge."""

    description: str = Field(description="The case, in words.")
    observations: list[ExampleObservation] = Field(
        default_factory=list, description="Observations that make up the case (kinds, or kind objects)."
    )
    division: Division | None = Field(None, description="Division to judge in; default: the rule's first.")
    benchmark: str | None = Field(None, description="Benchmark to judge for, for benchmark-specific rules.")
    expect: Expectation = Field(description="The verdict the rulebook must reach on this case.")

    @field_validator("observations", mode="before")
    @classmethod
    def _kinds_as_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"kind": item} if isinstance(item, str) else item for item in value]
        return value


class Threshold(_Strict):
    """A bound on a metric of the observation's evidence."""

    metric: str = Field(description="Name of the metric in the observation's evidence.metrics.")
    min: float | None = Field(None, description="Smallest passing value (inclusive).")
    max: float | None = Field(None, description="Largest passing value (inclusive).")

    @model_validator(mode="after")
    def _some_bound(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs `min`, `max` or both")
        return self


class Rule(_Strict):
    """One rule: what it governs, what it says, why it exists, where it comes from."""

    id: str = Field(pattern=RULE_ID_PATTERN, description="Stable dotted id naming what is governed.")
    title: str = Field(min_length=3, description="A short title.")
    kind: RuleKind = Field(description="allowed / prohibited / required / threshold.")
    divisions: list[Division] = Field(min_length=1, description="Divisions the rule applies to.")
    governs: list[str] = Field(
        default_factory=list,
        description="Change kinds (or '<category>.*') the rule judges; empty if only people can check it.",
    )
    benchmarks: list[str] = Field(
        default_factory=list, description="Benchmarks the rule is limited to; empty means every benchmark."
    )
    statement: str = Field(min_length=10, description="What the rule says, paraphrased from the source.")
    rationale: str = Field(min_length=10, description="Why the rule exists.")
    rationale_from: Literal["source", "parity"] = Field(
        description="'source' if the source document states the reason, 'parity' if we wrote it."
    )
    examples: list[Example] = Field(min_length=1, description="Conforming and violating cases.")
    source: Source = Field(description="Document, section and round.")
    enforcement: Enforcement = Field(description="automatic / needs_evidence / human_review.")
    needs_evidence: list[str] = Field(
        default_factory=list,
        description="Evidence details an observation must carry for an allowed rule to accept it.",
    )
    allowed_values: dict[str, list[str | int | float | bool]] = Field(
        default_factory=dict,
        description="For allowed rules: evidence details whose value must be one of these (e.g. approved "
        "numeric formats); a missing detail needs review, any other value is forbidden.",
    )
    review_values: dict[str, list[str | int | float | bool]] = Field(
        default_factory=dict,
        description="For allowed rules: evidence details whose value makes an observation a matter for a "
        "reviewer rather than allowed (e.g. a region only verified numerically, where the rule asks for "
        "mathematical equivalence).",
    )
    threshold: Threshold | None = Field(None, description="The bound, for threshold rules.")
    since: str | None = Field(None, description="Round the rule first appeared in, e.g. 'v0.7'.")
    message: str | None = Field(None, description="Short per-finding message; default: the rule's title.")

    @field_validator("governs")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not expand_pattern(pattern):
                raise ValueError(f"unknown change kind {pattern!r} (see `parity rules kinds`)")
        if len(set(value)) != len(value):
            raise ValueError("a change kind is listed twice")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Rule:
        if self.kind is RuleKind.THRESHOLD and self.threshold is None:
            raise ValueError("a threshold rule needs `threshold: {metric, min|max}`")
        if self.enforcement is Enforcement.NEEDS_EVIDENCE and not self.needs_evidence:
            raise ValueError(
                "enforcement needs_evidence requires `needs_evidence:` (the details to look for)"
            )
        if self.allowed_values and self.kind is not RuleKind.ALLOWED:
            raise ValueError("`allowed_values` only applies to allowed rules")
        if self.review_values and self.kind is not RuleKind.ALLOWED:
            raise ValueError("`review_values` only applies to allowed rules")
        if not self.governs and self.enforcement is Enforcement.AUTOMATIC:
            raise ValueError("an automatic rule must govern at least one change kind")
        if self.governs and not any(example.observations for example in self.examples):
            raise ValueError("a rule that governs change kinds needs an example with `observations:`")
        return self

    def governs_kind(self, name: str) -> bool:
        """True if the rule names this kind exactly or through its category wildcard."""
        return name in self.governs or f"{name.partition('.')[0]}.*" in self.governs


class RuleChange(_Strict):
    """A rule of the parent rulebook changed by an extending round; unnamed fields are kept."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(description="Id of the parent's rule.")
    note: str = Field(min_length=5, description="What changed and when.")


class RuleRemoval(_Strict):
    """A rule of the parent rulebook that an extending round drops."""

    id: str = Field(description="Id of the parent's rule.")
    note: str = Field(min_length=5, description="Why and when it was dropped.")


class RulebookFile(_Strict):
    """One rulebook YAML file, before inheritance is resolved."""

    id: str = Field(pattern=RULEBOOK_ID_PATTERN, description="Rulebook id, e.g. 'mlperf-training-v6.0'.")
    title: str = Field(description="A readable name.")
    suite: str = Field(description="'training', 'inference' or another suite name.")
    round: str | None = Field(None, description="Benchmark round, e.g. 'v6.0'.")
    description: str = Field("", description="What the rulebook covers.")
    source: Source | None = Field(None, description="The document the rules are taken from.")
    divisions: list[Division] | None = Field(None, description="Divisions the rulebook defines.")
    default: Polarity | None = Field(
        None, description="deny or allow: the judgement of unnamed change kinds."
    )
    division_defaults: dict[Division, Polarity] = Field(
        default_factory=dict, description="Per-division override of `default`."
    )
    default_rationale: str | None = Field(None, description="Why the default polarity is what it is.")
    counterpart: str | None = Field(None, description="The rulebook of the other suite, for contrasts.")
    weights_check: Literal["provenance", "distribution"] | None = Field(
        None,
        description="How the weights engine compares parameters: 'provenance' (values derive from the "
        "reference's: inference) or 'distribution' (initial values follow the reference's distribution: "
        "training). Default provenance.",
    )
    extends: str | None = Field(None, description="Id of the earlier round this one builds on.")
    rules: list[Rule] = Field(default_factory=list, description="Rules (base rulebooks only).")
    adds: list[Rule] = Field(default_factory=list, description="Rules added by this round.")
    changes: list[RuleChange] = Field(
        default_factory=list, description="Parent's rules changed by this round."
    )
    removes: list[RuleRemoval] = Field(
        default_factory=list, description="Parent's rules dropped by this round."
    )

    @model_validator(mode="after")
    def _shape(self) -> RulebookFile:
        if self.extends is None:
            missing = [
                name for name in ("divisions", "default", "default_rationale") if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"a rulebook without `extends` must set {', '.join(missing)}")
            if self.adds or self.changes or self.removes:
                raise ValueError(
                    "`adds`, `changes` and `removes` need `extends`; a base rulebook uses `rules`"
                )
        elif self.rules:
            raise ValueError(
                "a rulebook that `extends` another lists `adds`, `changes` and `removes`, not `rules`"
            )
        elif (self.default is not None or self.division_defaults) and not self.default_rationale:
            raise ValueError(
                "a rulebook that overrides the default polarity must say why (default_rationale)"
            )
        return self
