"""`parity audit`: a whole training submission (an organisation folder, or a round of them).

The tree is walked once (names only), every benchmark folder is audited on its own (in a process pool:
folders are independent), every system description is read and compared with its logs, and everything
is judged by the round's training rulebook. Nothing is written into the audited tree.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from parity.audit.artifacts import SUBMISSION_LAYOUT, SYSTEM_DESCRIPTION
from parity.audit.benchmark_folder import BenchmarkAudit
from parity.audit.engines import (
    BenchmarkFolderEngine,
    LayoutEngine,
    SystemDescriptionEngine,
    check_declared,
    engines_for,
    run,
)
from parity.audit.systems import SystemDescription, consistency_observations
from parity.audit.tree import BenchmarkFolder, Organisation, organisations
from parity.engines.logs.rounds import available, load_round, round_from_path
from parity.errors import BadInput
from parity.judge.model import Judgement
from parity.judge.outcomes import Verdict, worst_verdict
from parity.judge.table import judge_by_table, load_table
from parity.observations.plain import Observation


@dataclass
class OrganisationAudit:
    """One organisation: its own findings (systems, layout), its benchmark folders, and the verdict."""

    organisation: Organisation
    observations: list[Observation] = field(default_factory=list)
    benchmarks: list[BenchmarkAudit] = field(default_factory=list)
    judgement: Judgement | None = None

    @property
    def verdict(self) -> Verdict:
        """The worst of the organisation's own judgement and its benchmark folders'."""
        return worst_verdict([self.judgement.verdict, *(b.judgement.verdict for b in self.benchmarks)])


@dataclass
class SubmissionAudit:
    """Every organisation audited, with the round and the method used."""

    path: str
    ruleset: str
    method: str
    rulebook: str
    organisations: list[OrganisationAudit]

    def observations(self) -> list[Observation]:
        """The observations that decide the verdict (organisations', folders'), for ``--save-evidence``.

        A log's own findings count through ``submission.runs_failed`` (olympic scoring accepts one failed
        run), so re-judging them one by one would not give the audit's verdict.
        """
        found = []
        for organisation in self.organisations:
            found += organisation.observations
            for benchmark in organisation.benchmarks:
                found += benchmark.observations
        return found

    @property
    def verdict(self) -> Verdict:
        """The worst verdict of any organisation."""
        return worst_verdict(o.verdict for o in self.organisations)


def audit_submission(
    path: str | os.PathLike,
    ruleset: str | None = None,
    method: str = "rules",
    jobs: int | None = None,
    on_phase=None,
) -> SubmissionAudit:
    """Audit the submission at ``path`` (see the module docstring).

    ``on_phase(name, total)`` is told of each phase as it starts (the walk, each engine) and returns a
    callback told of each step done (for progress bars).

    Raises:
        BadInput: not a submission folder, or a round that cannot be told or is not packaged.
    """
    if ruleset is not None and ruleset not in available():
        raise BadInput(f"unknown ruleset {ruleset!r}; known: {', '.join(available())}")
    found = organisations(path)
    ruleset = ruleset or round_from_path(path)
    if ruleset is None:
        raise BadInput(
            "cannot tell the round from the path (…/v5.1/… or training_results_v5.1); pass --ruleset", path
        )
    rules = load_round(ruleset)
    table = load_table(rules.rulebook)
    audits = [OrganisationAudit(organisation) for organisation in found]
    phase = on_phase or _no_progress
    # the tree's artifacts, each handed to the engines that read it, one phase per artifact kind
    done = phase(LayoutEngine.step, len(audits))
    for audit in audits:
        for engine in engines_for(SUBMISSION_LAYOUT):
            audit.observations += run(engine, (audit.organisation, rules))
        done(audit.organisation.name)
    descriptions: dict[tuple[str, str], SystemDescription] = {}
    done = phase(SystemDescriptionEngine.step, sum(len(a.organisation.systems) for a in audits))
    for audit in audits:
        for system, system_path in audit.organisation.systems.items():
            for engine in engines_for(SYSTEM_DESCRIPTION):
                description = run(engine, (system_path, ruleset))
                audit.observations += description.observations
                descriptions[(audit.organisation.name, system)] = description
            done(system)
    folders: list[tuple[int, BenchmarkFolder, str]] = []
    for index, audit in enumerate(audits):
        for folder in audit.organisation.benchmarks:  # every one: an undefined benchmark is a finding
            description = descriptions.get((audit.organisation.name, folder.system))
            folders.append((index, folder, description.division if description else "closed"))
    done = phase(BenchmarkFolderEngine.step, len(folders))
    for (index, folder, division), result in zip(folders, _run(folders, ruleset, method, jobs), strict=True):
        audit = audits[index]
        description = descriptions.get((audit.organisation.name, folder.system))
        if description is not None and description.data is not None and result.logs:
            found_here = consistency_observations(
                description.path, description.data, folder.system, result.logs[0].identity
            )
            check_declared(SystemDescriptionEngine, found_here)
            result.observations += found_here
        result.judgement = judge_by_table(result.observations, table, division, folder.benchmark)
        audit.benchmarks.append(result)
        done(folder.path.name)
    for audit in audits:
        audit.judgement = judge_by_table(audit.observations, table, "closed", None)
    return SubmissionAudit(str(path), ruleset, method, rules.rulebook, audits)


def _no_progress(_name: str, _total: int):
    return lambda _step="": None


def _run(folders, ruleset: str, method: str, jobs: int | None):
    """Every benchmark folder audited, in order; on several cores when there is more than one folder."""
    workers = min(jobs or os.cpu_count() or 1, len(folders))
    arguments = [(folder, ruleset, division, method) for _, folder, division in folders]
    if workers <= 1:
        yield from (_audit_one(item) for item in arguments)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_audit_one, arguments, chunksize=1)  # in order, as each is done


def _audit_one(arguments) -> BenchmarkAudit:
    return run(BenchmarkFolderEngine, arguments)
