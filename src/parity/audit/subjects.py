"""Submission trees audited into the subjects `parity rules impact` re-judges (one per verdict given).

An inference tree gives one subject per result, a training submission one per benchmark folder, so the
impact of a rule change is counted where the verdicts are: ``rules impact`` takes these folders as it
takes evidence files, and ``scripts/build_impact_corpus.py`` saves the same subjects into the corpus.
"""

from __future__ import annotations

from pathlib import Path

from parity.judge.impact import Subject
from parity.observations.plain import EvidenceSubject, known_division


def inference_subjects(path: Path, round_name: str | None = None, jobs: int | None = None) -> list[Subject]:
    """One subject per result of an inference tree."""
    from parity.audit.inference_submission import audit_inference

    audit = audit_inference(path, round_name, jobs)
    found = []
    for organisation in audit.organisations:
        for result in organisation.results:
            row = result.check.row
            where = f"{organisation.organisation.name}/{row.system}/{row.model}/{row.scenario}"
            name = f"inference v{audit.round} {where}"
            division = organisation.organisation.division
            found.append(
                Subject(
                    name, "inference result", result.check.observations, division, result.judgement.benchmark
                )
            )
    return found


def training_subjects(path: Path, ruleset: str | None = None, jobs: int | None = None) -> list[Subject]:
    """One subject per benchmark folder of a training submission."""
    from parity.audit.submission import audit_submission

    audit = audit_submission(path, ruleset, jobs=jobs)
    found = []
    for organisation in audit.organisations:
        for benchmark in organisation.benchmarks:
            folder = benchmark.folder
            where = f"{organisation.organisation.name}/{folder.system}/{folder.benchmark}"
            name = f"training {audit.ruleset} {where}"
            found.append(
                Subject(
                    name, "training benchmark", benchmark.observations, benchmark.division, folder.benchmark
                )
            )
    return found


def tree_subjects(path: Path) -> list[Subject] | None:
    """The subjects of a submission tree (inference or training), or None if ``path`` is not one."""
    from parity.audit.inference_tree import is_inference_tree
    from parity.audit.tree import is_organisation

    if is_inference_tree(path):
        return inference_subjects(path)
    if is_organisation(path) or any(is_organisation(child) for child in path.iterdir() if child.is_dir()):
        return training_subjects(path)
    return None


def evidence_subject(path, audit) -> EvidenceSubject:
    """The subject of a whole audit's saved evidence (``audit --save-evidence``).

    Its division and benchmark are the audit's when every result shares one, else null (mixed): a
    re-judge then takes them from its options.
    """
    if hasattr(audit, "ruleset"):  # a training SubmissionAudit
        folders = [b for o in audit.organisations for b in o.benchmarks]
        divisions = {b.division for b in folders}
        benchmarks = {b.folder.benchmark for b in folders}
        kind, round_name = "training submission", audit.ruleset
    else:  # an inference audit
        results = [(o, r) for o in audit.organisations for r in o.results]
        divisions = {o.organisation.division for o, _ in results} or {
            o.organisation.division for o in audit.organisations
        }
        benchmarks = {r.judgement.benchmark for _, r in results}
        kind, round_name = "inference submission", audit.round
    return EvidenceSubject(
        str(path),
        kind,
        round_name,
        known_division(divisions.pop()) if len(divisions) == 1 else None,
        benchmarks.pop() if len(benchmarks) == 1 else None,
    )
