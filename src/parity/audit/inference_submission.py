"""`parity audit` on an inference submission: a round, a division or one organisation folder.

The tree is walked once (names only, :mod:`parity.audit.inference_tree`); each organisation's layout is
observed (hygiene, system descriptions, models and scenarios against the round); every result is observed
on its own, in a process pool (results are independent: :mod:`parity.engines.loadgen.engine`); and
everything is judged by the inference rulebook. A missing file is an observation of the result it belongs
to, never an abort. Nothing is written into the audited tree.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from parity.audit.artifacts import INFERENCE_LAYOUT, INFERENCE_RESULT
from parity.audit.engines import InferenceLayoutEngine, InferenceResultEngine, engines_for, run
from parity.audit.inference_tree import InferenceOrganisation, inference_organisations
from parity.engines.loadgen.engine import ResultCheck
from parity.engines.loadgen.rounds import available, load_inference_round
from parity.errors import BadInput
from parity.judge.model import Judgement
from parity.judge.outcomes import Verdict, worst_verdict
from parity.judge.table import judge_by_table, load_table
from parity.observations.plain import Observation

#: The packaged inference rulebooks are v0.7 and v6.1; v6.1 holds the rules of results, accuracy and the
#: compliance tests as they stand since v5.0 (TEST05 retired), so every round from 5.0 is judged by it.
RULEBOOK = "mlperf-inference-v6.1"
ROUND_IN_PATH = re.compile(r"(?:inference_results_)?v(\d+\.\d+)(?:\.\d+)?$")


@dataclass
class ResultAudit:
    """One result observed and judged."""

    check: ResultCheck
    judgement: Judgement

    @property
    def verdict(self) -> Verdict:
        return self.judgement.verdict


@dataclass
class InferenceOrganisationAudit:
    """One organisation: its own findings (layout, systems), its results, and the verdict."""

    organisation: InferenceOrganisation
    observations: list[Observation] = field(default_factory=list)
    results: list[ResultAudit] = field(default_factory=list)
    judgement: Judgement | None = None

    @property
    def verdict(self) -> Verdict:
        return worst_verdict([self.judgement.verdict, *(r.verdict for r in self.results)])


@dataclass
class InferenceAudit:
    """Every organisation audited, with the round and the rulebook."""

    path: str
    round: str
    rulebook: str
    organisations: list[InferenceOrganisationAudit]
    suite: str = "inference"

    def observations(self) -> list[Observation]:
        """Every observation that decides the verdict, for ``--save-evidence``."""
        found: list[Observation] = []
        for organisation in self.organisations:
            found += organisation.observations
            for result in organisation.results:
                found += result.check.observations
        return found

    @property
    def verdict(self) -> Verdict:
        """The worst verdict of any organisation."""
        return worst_verdict(o.verdict for o in self.organisations)


def round_from_path(path: str | os.PathLike) -> str | None:
    """``5.1`` from ``…/inference_results_v5.1/…`` or ``…/v5.1/closed/…``; None if no part says."""
    for part in reversed(os.path.abspath(os.fspath(path)).split(os.sep)):
        match = ROUND_IN_PATH.search(part)
        if match and match.group(1) in available():
            return match.group(1)
    return None


def audit_inference(
    path: str | os.PathLike, round_name: str | None = None, jobs: int | None = None, on_phase=None
) -> InferenceAudit:
    """Audit the inference submission at ``path`` (see the module docstring).

    Raises:
        BadInput: not an inference submission, or a round that cannot be told or has no data.
    """
    round_name = (round_name or "").removeprefix("v") or round_from_path(path)
    if round_name is None:
        raise BadInput("cannot tell the inference round from the path (…/v5.1/…); pass --ruleset", path)
    if round_name not in available():
        raise BadInput(f"no inference round data for {round_name!r}; known: {', '.join(available())}")
    round_data = load_inference_round(round_name)
    new_layout = tuple(map(int, round_name.split("."))) >= (6, 0)
    organisations = inference_organisations(path, new_layout)
    table = load_table(RULEBOOK)
    phase = on_phase or (lambda _name, _total: lambda _step="": None)
    audits = [InferenceOrganisationAudit(o) for o in organisations]
    done = phase(InferenceLayoutEngine.step, len(audits))
    for audit in audits:
        for engine in engines_for(INFERENCE_LAYOUT):
            audit.observations += run(engine, (audit.organisation, round_data))
        audit.judgement = judge_by_table(audit.observations, table, _division(audit, table), None)
        done(audit.organisation.name)
    results = [(index, paths) for index, audit in enumerate(audits) for paths in audit.organisation.results]
    done = phase(InferenceResultEngine.step, len(results))
    for (index, paths), check in zip(results, _observe_all(results, round_name, jobs), strict=True):
        division = _division(audits[index], table)
        judgement = judge_by_table(check.observations, table, division, _benchmark(check, round_data))
        audits[index].results.append(ResultAudit(check, judgement))
        done(f"{paths.system}/{paths.model}/{paths.scenario}")
    return InferenceAudit(str(path), round_name, RULEBOOK, audits)


def _division(audit: InferenceOrganisationAudit, table) -> str:
    division = audit.organisation.division
    return division if division in table.divisions else "closed"


def _benchmark(check: ResultCheck, round_data) -> str:
    named = round_data.model_named(check.paths.model, check.paths.extra_mapping)
    return named[0] if named else check.paths.model


def _observe_all(results, round_name: str, jobs: int | None):
    """Every result observed, in order; on several cores when there are many."""
    workers = min(jobs or os.cpu_count() or 1, max(1, len(results) // 8))
    arguments = [(paths, round_name) for _, paths in results]
    if workers <= 1:
        yield from (_observe_one(item) for item in arguments)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_observe_one, arguments, chunksize=4)


def _observe_one(arguments) -> ResultCheck:
    return run(InferenceResultEngine, arguments)


__all__ = ["INFERENCE_RESULT", "RULEBOOK", "InferenceAudit", "audit_inference", "round_from_path"]
