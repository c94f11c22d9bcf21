"""`parity audit`: a whole training submission (an organisation folder, or a round of them).

The tree is walked once (names only), every benchmark folder is audited on its own (in a process pool:
folders are independent), every system description is read and compared with its logs, and everything
is judged by the round's training rulebook. Nothing is written into the audited tree.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from parity.audit.benchmark_folder import BenchmarkAudit, audit_benchmark
from parity.audit.systems import consistency_observations, description_observations, read_description
from parity.audit.tree import BenchmarkFolder, Organisation, organisations
from parity.engines.logs.checker import refused_observation
from parity.engines.logs.rounds import available, load_round, round_from_path
from parity.errors import BadInput
from parity.judge.outcomes import Verdict
from parity.judge.table import judge_plain, load_table
from parity.observations import plain


@dataclass
class OrganisationAudit:
    """One organisation: its own findings (systems, layout), its benchmark folders, and the verdict."""

    organisation: Organisation
    observations: list[dict] = field(default_factory=list)
    benchmarks: list[BenchmarkAudit] = field(default_factory=list)
    judgement: dict | None = None

    @property
    def verdict(self) -> Verdict:
        """The worst of the organisation's own judgement and its benchmark folders'."""
        verdicts = [Verdict(self.judgement["verdict"])] + [
            Verdict(b.judgement["verdict"]) for b in self.benchmarks
        ]
        return max(verdicts, key=lambda verdict: verdict.exit_code)


@dataclass
class SubmissionAudit:
    """Every organisation audited, with the round and the method used."""

    path: str
    ruleset: str
    method: str
    rulebook: str
    organisations: list[OrganisationAudit]

    def observations(self) -> list[dict]:
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
        return max(
            (o.verdict for o in self.organisations), key=lambda v: v.exit_code, default=Verdict.CONFORMS
        )


def audit_submission(
    path: str | os.PathLike,
    ruleset: str | None = None,
    method: str = "rules",
    jobs: int | None = None,
    on_done=None,
) -> SubmissionAudit:
    """Audit the submission at ``path`` (see the module docstring); ``on_done`` is told of each folder.

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
    descriptions: dict[tuple[str, str], tuple[Path, dict | None]] = {}
    jobs_to_run: list[tuple[int, BenchmarkFolder, str]] = []
    for index, audit in enumerate(audits):
        organisation = audit.organisation
        audit.observations += [refused_observation(item) for item in organisation.refused]
        where = [plain.location("file", str(organisation.path))]
        audit.observations += [
            plain.observation(
                "submission.stray_file", "submission", f"not part of the layout: {Path(p).name}", where
            )
            for p in organisation.stray
        ]
        for system, description in organisation.systems.items():
            try:
                data = read_description(description)
            except BadInput as exc:
                data = None
                audit.observations.append(_unreadable(description, exc))
            else:
                audit.observations += description_observations(description, data, ruleset)
            descriptions[(organisation.name, system)] = (description, data)
        for folder in organisation.benchmarks:
            description, data = descriptions.get((organisation.name, folder.system), (None, None))
            if folder.benchmark not in rules.benchmarks.get(
                "closed", ()
            ) and folder.benchmark not in rules.benchmarks.get("open", ()):
                audit.observations.append(
                    plain.observation(
                        "submission.stray_file",
                        "submission",
                        f"unknown benchmark folder: {folder.benchmark}",
                        [plain.location("file", str(folder.path))],
                    )
                )
                continue
            if description is None:
                audit.observations.append(
                    _unreadable(folder.path, BadInput(f"no systems/{folder.system}.json"))
                )
            division = str((data or {}).get("division", "closed")).strip().lower() or "closed"
            jobs_to_run.append((index, folder, division if division in ("closed", "open") else "closed"))
    for (index, folder, division), result in zip(
        jobs_to_run, _run(jobs_to_run, ruleset, method, jobs), strict=True
    ):
        audit = audits[index]
        description, data = descriptions.get((audit.organisation.name, folder.system), (None, None))
        if data is not None and result.logs:
            result.observations += consistency_observations(
                description, data, folder.system, result.logs[0].identity
            )
        result.judgement = judge_plain(result.observations, table, division, folder.benchmark)
        audit.benchmarks.append(result)
        if on_done is not None:
            on_done(folder)
    for audit in audits:
        audit.judgement = judge_plain(audit.observations, table, "closed", None)
    return SubmissionAudit(str(path), ruleset, method, rules.rulebook, audits)


def _run(jobs_to_run, ruleset: str, method: str, jobs: int | None):
    """Every benchmark folder audited, in order; on several cores when there is more than one folder."""
    workers = min(jobs or os.cpu_count() or 1, len(jobs_to_run))
    arguments = [(folder, ruleset, division, method) for _, folder, division in jobs_to_run]
    if workers <= 1:
        yield from (audit_benchmark(*item) for item in arguments)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_audit_one, arguments, chunksize=1)  # in order, as each is done


def _audit_one(arguments) -> BenchmarkAudit:
    return audit_benchmark(*arguments)


def _unreadable(path, exc: BadInput) -> dict:
    where = [plain.location("file", str(path))]
    summary = f"{Path(str(path)).name}: {exc.problem}"
    return plain.observation("submission.system_invalid", "submission", summary, where, {}, {"fields": []})
