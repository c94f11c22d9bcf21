"""Inference round data: per-model targets and limits, per-scenario settings, seeds, each with its source.

The official checker keeps these as Python constants; here they are versioned YAML
(``data/inference_<round>.yaml``, written by ``scripts/extract_inference_rounds.py`` from the checker at a
tag, with the line of every section). The YAML is validated when it loads, and so are the units: a target
held in one unit and an accuracy script that prints another is refused unless the file says how to
convert and why (the rgat case, where the official comparison is 100x too loose).
"""

from __future__ import annotations

import math
import os
import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from parity.errors import BadInput
from parity.rulebook.yaml_safe import read_yaml

DATA_DIR = Path(os.path.dirname(os.path.abspath(__file__))) / "data"
ROUND = re.compile(r"^[0-9]+\.[0-9]+$")
Unit = Literal["fraction", "percent", "scale"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where the facts were read: a file of a repository at a tag."""

    repository: str
    tag: str
    file: str


class Target(_Strict):
    """A bound on one metric of ``accuracy.txt``: a minimum (accuracy) or a maximum (upper limit)."""

    metric: str
    value: float
    scenario: str | None = Field(None, description="The scenario the bound is for; None: all of them.")
    reference: float | None = Field(None, description="The reference implementation's value.")
    factor: float | None = Field(None, description="The fraction of the reference the bound is.")
    unit: Unit = Field(description="The unit the bound is held in.")
    printed: Unit | None = Field(None, description="What the accuracy script prints, if not `unit`.")
    convert: float | None = Field(None, description="Multiply the printed value by this to get `unit`.")
    printed_source: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if self.factor is not None and not 0.5 <= self.factor <= 2:
            raise ValueError(f"{self.metric}: factor {self.factor} is not a fraction of a reference near 1")
        written = self.reference is not None and self.factor is not None
        if written and not math.isclose(self.value, self.reference * self.factor, rel_tol=1e-9):
            raise ValueError(f"{self.metric}: value {self.value} is not {self.reference} x {self.factor}")
        if self.printed is not None and self.printed != self.unit:
            if self.convert is None or not self.note or not self.printed_source:
                raise ValueError(
                    f"{self.metric}: the bound is a {self.unit} but the accuracy script prints a "
                    f"{self.printed}; say how to convert (convert, note, printed_source)"
                )
        elif self.convert is not None:
            raise ValueError(f"{self.metric}: convert is given but the printed unit is the bound's")
        return self

    def from_printed(self, printed: float) -> float:
        """The printed value of this metric in the bound's unit."""
        return printed * self.convert if self.convert is not None else printed


class Model(_Strict):
    """One benchmark model's facts in a round."""

    accuracy: list[Target] = Field(default_factory=list)
    upper_limit: list[Target] = Field(default_factory=list)
    accuracy_delta_percent: dict[str, float] = Field(default_factory=dict)
    performance_sample_count: int | None = None
    accuracy_sample_count: int | dict[str, int] | None = Field(None, description="Per scenario if a dict.")
    dataset_size: int | None = None
    latency_constraint_ns: dict[str, int] = Field(default_factory=dict)
    min_queries: dict[str, int] = Field(default_factory=dict)
    llm_latency_limits_ns: dict[str, dict[str, int]] = Field(default_factory=dict)
    offline_min_samples_per_query: int | None = None
    compliance_tests: list[str] = Field(default_factory=list, description="TEST01, TEST04, … it needs.")
    equal_issue: bool | None = Field(
        None, description="Whether it must run in equal-issue mode; None: unknown."
    )
    scenarios_datacenter: list[str] = Field(default_factory=list)
    scenarios_edge: list[str] = Field(default_factory=list)
    scenarios_datacenter_edge: list[str] = Field(default_factory=list)
    optional_scenarios_datacenter: list[str] = Field(default_factory=list)
    optional_scenarios_edge: list[str] = Field(default_factory=list)
    optional_scenarios_datacenter_edge: list[str] = Field(default_factory=list)


class DeltaDefault(_Strict):
    """How far TEST01's subset accuracies may differ where the round gives a model no delta of its own."""

    source: str
    percent: float = Field(gt=0, description="The default delta, in percent.")
    high_accuracy_percent: float = Field(gt=0, description="The delta of a high-accuracy model.")
    high_accuracy_marker: str = Field(min_length=1, description="In a model's name: a high-accuracy one.")


class ModelGuess(_Strict):
    """One of the checker's guesses: a folder name holding any of ``contains`` is ``model``."""

    contains: list[str] = Field(min_length=1)
    model: str


class ModelGuesses(_Strict):
    """The checker's guesses of a model from a folder name, tried in order after every mapping."""

    source: str
    guesses: list[ModelGuess]


class InferenceRound(_Strict):
    """A round's facts, as the official checker of that round holds them."""

    format: Literal["parity-inference-round"]
    round: str = Field(pattern=ROUND.pattern)
    source: Source
    lines: dict[str, int] = Field(description="The source line of each section.")
    min_duration_ms: int
    compliance_tests_listed: bool = Field(
        description="Whether the checker lists each model's compliance tests as data (v6.x); before, "
        "they are code, and a model's empty list means unknown, not none."
    )
    equal_issue_source: str | None = Field(
        None, description="Where requires_equal_issue was read, when not in the source file (v6.x)."
    )
    seeds: dict[str, str] = Field(description="LoadGen's seeds, as exact decimal strings.")
    model_mapping: dict[str, str] = Field(
        default_factory=dict, description="Folder names the checker maps to a model (resnet50 -> resnet)."
    )
    accuracy_patterns: dict[str, str]
    accuracy_delta_default: DeltaDefault
    model_guesses: ModelGuesses | None = None
    models: dict[str, Model]

    def model_named(
        self, folder: str, extra_mapping: dict[str, str] | None = None
    ) -> tuple[str, Model] | None:
        """The model a result folder names, as the checker's ``get_mlperf_model`` finds it.

        Directly, through the round's mapping, through the submitter's ``model_mapping.json`` (Open only:
        ``extra_mapping``), then by the checker's guesses and the round's mapping again. None: the round
        does not define it, which the checker refuses in every division.
        """
        name = folder if folder in self.models else self.model_mapping.get(folder)
        if name is None and extra_mapping:
            name = extra_mapping.get(folder)
        if name is None:
            guessed = folder
            for guess in self.model_guesses.guesses if self.model_guesses else ():
                if any(part in folder for part in guess.contains):
                    guessed = guess.model
                    break
            name = self.model_mapping.get(guessed, guessed)
        return (name, self.models[name]) if isinstance(name, str) and name in self.models else None

    def delta_percent(self, model: str, metric: str) -> float:
        """How far TEST01's subset accuracies of ``metric`` may differ, in percent (get_delta_perc)."""
        own = self.models[model].accuracy_delta_percent.get(metric) if model in self.models else None
        if own is not None:
            return own
        default = self.accuracy_delta_default
        return default.high_accuracy_percent if default.high_accuracy_marker in model else default.percent

    @model_validator(mode="after")
    def _patterns_known(self) -> InferenceRound:
        for name, model in self.models.items():
            for bound in (*model.accuracy, *model.upper_limit):
                if bound.metric not in self.accuracy_patterns:
                    raise ValueError(f"models.{name}: metric {bound.metric} has no accuracy pattern")
        return self


def available() -> tuple[str, ...]:
    """Rounds with packaged data, oldest first."""
    found = [p.stem.removeprefix("inference_") for p in DATA_DIR.glob("inference_*.yaml")]
    return tuple(sorted((r for r in found if ROUND.match(r)), key=lambda r: tuple(map(int, r.split(".")))))


@cache
def load_inference_round(name: str) -> InferenceRound:
    """The packaged data of round ``name`` (``5.1``).

    Raises:
        BadInput: no such round, or its file does not validate (naming the key).
    """
    if name not in available():
        raise BadInput(f"no inference round data for {name!r}; known: {', '.join(available())}")
    return read_inference_round(DATA_DIR / f"inference_{name}.yaml")


def read_inference_round(path: Path) -> InferenceRound:
    """Validate one round file.

    Raises:
        BadInput: not YAML, or a key is missing, unknown or inconsistent (units included).
    """
    data = read_yaml(path)
    try:
        return InferenceRound.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        raise BadInput(f"{where}: {message}" if where else message, path) from None
