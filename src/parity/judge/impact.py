"""`parity rules impact`: the same observations judged under several rulebooks, and what switches.

A subject is one thing a submitter hands in and a verdict is given for (a model pair, a training
benchmark folder, an inference result), with its saved observations. Each is judged under every
rulebook; a subject whose verdict differs between the first rulebook and another is a switch, and the
findings whose outcome differs say which rules decided it and why those rules exist.

The judge is pure, so re-judging costs little: an observation's outcome depends only on its kind, the
division, the benchmark and the few evidence values its deciding rules read, so each distinct case is
judged once under every rulebook and looked up after.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from parity.judge.judging import deciding_rules, judge_one, reads_evidence, unobservable_rules
from parity.judge.model import Finding
from parity.judge.outcomes import SEVERITY, Verdict
from parity.observations.plain import Observation
from parity.rulebook import Division, Rulebook


class Subject:
    """One judged thing: a name, where it came from, its division and benchmark, and its observations."""

    __slots__ = ("benchmark", "division", "kind", "name", "observations")

    def __init__(
        self,
        name: str,
        kind: str,
        observations: Sequence[Observation],
        division: str = "closed",
        benchmark: str | None = None,
    ) -> None:
        self.name, self.kind, self.division, self.benchmark = name, kind, division, benchmark
        self.observations = list(observations)


class Decider:
    """One rulebook, and the division it judges a subject in."""

    __slots__ = ("book", "divisions")

    def __init__(self, book: Rulebook) -> None:
        self.book = book
        self.divisions: dict[str, Division] = {}

    def division(self, name: str) -> Division:
        """The subject's division, or the rulebook's first where it has no such division."""
        found = self.divisions.get(name)
        if found is None:
            wanted = Division(name) if name in {d.value for d in Division} else Division.CLOSED
            found = wanted if wanted in self.book.divisions else self.book.divisions[0]
            self.divisions[name] = found
        return found


class Switch:
    """One finding judged differently: the observation and, per rulebook, its outcome, rule and reason."""

    __slots__ = ("decisions", "index", "kind", "summary")

    def __init__(self, index: int, observation: Observation, findings: list[Finding]) -> None:
        self.index, self.kind, self.summary = index, observation.kind, observation.summary
        self.decisions = [
            {
                "outcome": str(f.outcome),
                "rule": f.rule,
                "basis": f.basis,
                "rationale": f.rationale,
                "title": f.rule_title,
            }
            for f in findings
        ]

    def to_json(self) -> dict:
        """The switch as JSON data."""
        return {"observation": self.index, "kind": str(self.kind), "summary": self.summary,
                "decisions": self.decisions}  # fmt: skip


class SubjectImpact:
    """One subject's verdict under each rulebook and the findings that differ."""

    __slots__ = ("subject", "switches", "verdicts")

    def __init__(self, subject: Subject, verdicts: list[Verdict], switches: list[Switch]) -> None:
        self.subject, self.verdicts, self.switches = subject, verdicts, switches

    @property
    def switched(self) -> bool:
        """Whether any rulebook gives another verdict than the first."""
        return len(set(self.verdicts)) > 1


class Impact:
    """Every subject under every rulebook, and the counts over the corpus."""

    __slots__ = ("books", "subjects", "unobservable")

    def __init__(self, books: list[Rulebook], subjects: list[SubjectImpact]) -> None:
        self.books, self.subjects = books, subjects
        self.unobservable = {
            book.id: {d.value: unobservable_rules(book, d) for d in book.divisions} for book in books
        }

    def switched(self):
        """(subject, rulebook id, verdict under the first, verdict under it) of every switch."""
        for item in self.subjects:
            for book, verdict in zip(self.books[1:], item.verdicts[1:], strict=True):
                if verdict != item.verdicts[0]:
                    yield item, book.id, item.verdicts[0].value, verdict.value

    def directions(self) -> Counter:
        """(rulebook, verdict under the first, verdict under it) -> subjects, for every other rulebook."""
        return Counter((book, before, after) for _, book, before, after in self.switched())

    def deciding(self) -> tuple[Counter, Counter]:
        """How often each change kind, and each rule, decides a finding of a switched subject."""
        kinds: Counter = Counter()
        rules: Counter = Counter()
        for item in self.subjects:
            if not item.switched:
                continue
            for switch in item.switches:
                kinds[str(switch.kind)] += 1
                for decision in switch.decisions:
                    rules[decision["rule"] or f"default ({decision['outcome']})"] += 1
        return kinds, rules

    def by_scenario(self) -> Counter:
        """(subject kind, rulebook) -> switched subjects: the table of the README."""
        return Counter((item.subject.kind, book) for item, book, _, _ in self.switched())


def impact(subjects: Sequence[Subject], books: Sequence[Rulebook]) -> Impact:
    """Judge every subject under every rulebook (the first is the baseline the others switch from).

    An observation's findings under every rulebook are decided once per kind, divisions, benchmark and
    the evidence values the deciding rules read (:func:`evidence_keys`), then looked up.
    """
    deciders = [Decider(book) for book in books]
    read: dict[tuple, tuple] = {}
    rows: dict[tuple, tuple] = {}
    results = []
    for subject in subjects:
        divisions = tuple(decider.division(subject.division) for decider in deciders)
        worst = [0] * len(deciders)
        switches = []
        for index, observation in enumerate(subject.observations):
            evidence = observation.evidence
            benchmark = evidence.details.get("benchmark", subject.benchmark)
            base = (observation.kind, divisions, benchmark)
            keys = read.get(base)
            if keys is None:
                keys = read[base] = evidence_keys(deciders, observation.kind, divisions, benchmark)
            details, metrics = keys
            key = (
                base
                + tuple(repr(evidence.details.get(name)) for name in details)
                + tuple(evidence.metrics.get(name) for name in metrics)
            )
            row = rows.get(key)
            if row is None:
                findings = [
                    judge_one(index, observation, d.book, division, benchmark)
                    for d, division in zip(deciders, divisions, strict=True)
                ]
                severities = tuple(SEVERITY[f.outcome] for f in findings)
                row = rows[key] = (findings, severities, len(set(severities)) > 1)
            findings, severities, differ = row
            for position, severity in enumerate(severities):
                if severity > worst[position]:
                    worst[position] = severity
            if differ:
                switches.append(Switch(index, observation, findings))
        results.append(SubjectImpact(subject, [VERDICTS[severity] for severity in worst], switches))
    return Impact(list(books), results)


VERDICTS = (Verdict.CONFORMS, Verdict.NEEDS_REVIEW, Verdict.VIOLATES)


def evidence_keys(deciders, kind: str, divisions, benchmark) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The details and metrics any deciding rule reads for this kind (see :func:`apply_rule`)."""
    details: dict[str, None] = {}
    metrics: dict[str, None] = {}
    for decider, division in zip(deciders, divisions, strict=True):
        for rule in deciding_rules(kind, decider.book, division, benchmark):
            if not reads_evidence(rule):
                continue
            if rule.threshold is not None:
                metrics[rule.threshold.metric] = None
            for name in (*rule.allowed_values, *rule.review_values, *rule.needs_evidence):
                details[name] = None
    return tuple(details), tuple(metrics)
