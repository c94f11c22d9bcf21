"""`parity rules impact`: pinned switches and the evidence behind them, the bundled corpus, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import parity
from parity.judge.impact import Subject, impact
from parity.judge.subjects import CORPUS, load_subjects
from parity.observations import plain
from parity.rulebook import load_rulebook

TRAINING, INFERENCE = "mlperf-training-v6.0", "mlperf-inference-v6.1"
WHATIFS = (
    "whatif-training-allow-by-default",
    "whatif-inference-deny-by-default",
    "whatif-training-inference-optimisations",
)


def subject(*kinds: str) -> Subject:
    observations = [plain.observation(kind, "test", f"a {kind}", []) for kind in kinds]
    return Subject("pinned", "model pair", observations)


def verdicts(kinds: tuple[str, ...], *books: str) -> list[str]:
    result = impact([subject(*kinds)], [load_rulebook(book) for book in books])
    return [verdict.value for verdict in result.subjects[0].verdicts]


def test_batchnorm_folding_switches_under_training_with_inference_optimisations():
    kinds = ("graph.batchnorm_folded", "weights.folded")
    assert verdicts(kinds, TRAINING, "whatif-training-inference-optimisations") == ["violates", "conforms"]
    result = impact([subject(*kinds)], [load_rulebook(TRAINING), load_rulebook(WHATIFS[2])])
    switch = result.subjects[0].switches[0]
    assert [d["rule"] for d in switch.decisions] == ["training.graph.batchnorm-folding"] * 2
    assert [d["outcome"] for d in switch.decisions] == ["forbidden", "allowed"]
    assert "statistics" in switch.decisions[0]["rationale"]  # why training forbids it


def test_a_same_distribution_reinitialisation_switches_the_other_way():
    kinds = ("weights.reinitialised_same_distribution",)
    assert verdicts(kinds, TRAINING, "whatif-inference-deny-by-default") == ["conforms", "violates"]


def test_allow_by_default_switches_only_what_no_training_rule_names():
    assert verdicts(("result.claim_stale",), TRAINING, WHATIFS[0]) == ["violates", "conforms"]
    assert verdicts(("graph.dropout_removed",), TRAINING, WHATIFS[0]) == ["violates", "violates"]


def test_the_bundled_corpus_is_real_work_with_a_manifest_and_it_switches():
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    subjects = load_subjects([CORPUS])
    assert [s.name for s in subjects] == [entry["name"] for entry in manifest]
    assert {"model pair", "training benchmark", "inference result"} <= {s.kind for s in subjects}
    result = impact(subjects, [load_rulebook(TRAINING), load_rulebook(INFERENCE)])
    switched = {item.subject.name for item in result.subjects if item.switched}
    assert "cnn/optimized (weights observed for inference)" in switched  # batch norm folded, dropout removed


def test_the_command_prints_the_table_and_writes_the_brief(capsys, tmp_path):
    books = ["-r", TRAINING, *(x for w in WHATIFS for x in ("-r", w)), "-r", INFERENCE]
    subjects = len(json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8")))
    code, out, _ = parity(capsys, "rules", "impact", *books)
    assert code == 0 and "| scenario | subjects |" in out and f"| all | {subjects} |" in out
    page = tmp_path / "brief.html"
    code, _, _ = parity(capsys, "--quiet", "rules", "impact", *books, "-f", "html", "-o", page)
    html = page.read_text(encoding="utf-8")
    assert code == 0 and "<svg" in html and "One worked example per switch class" in html
    code, out, _ = parity(capsys, "rules", "impact", *books, "-f", "json")
    data = json.loads(out)
    assert data["format"] == "parity-impact" and len(data["subjects"]) == subjects


def _overlay(tmp_path: Path, name: str, **fields) -> Path:
    import yaml

    path = tmp_path / f"{name}.yaml"
    data = {"id": name, "title": name, "suite": "training", **fields}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda t: _overlay(t, "missing-parent", extends="no-such-rulebook"), "unknown rulebook"),
        (
            lambda t: _overlay(
                t, "no-rule", extends=TRAINING, changes=[{"id": "training.nope", "note": "changed here"}]
            ),
            "training.nope",
        ),
        (lambda t: (_overlay(t, "a", extends="b.yaml"), _overlay(t, "b", extends="a.yaml"))[0], "cycle"),
        (lambda t: _overlay(t, "no-reason", extends=TRAINING, default="allow"), "default_rationale"),
    ],
)
def test_bad_overlays_are_one_line_errors_with_exit_3(capsys, tmp_path, write, message):
    path = write(tmp_path)
    code, out, err = parity(capsys, "rules", "impact", "-r", TRAINING, "-r", path)
    assert code == 3 and out == "" and err.count("\n") == 1 and message in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"format": "parity-evidence", "version": 2, "observations": []}, "version"),
        ({"format": "parity-evidence", "observations": [{"kind": "graph.teleported"}]}, "graph.teleported"),
    ],
)
def test_bad_evidence_is_a_one_line_error_with_exit_3(capsys, tmp_path, content, message):
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    code, _, err = parity(capsys, "rules", "impact", path, "-r", TRAINING, "-r", INFERENCE)
    assert code == 3 and err.count("\n") == 1 and message in err and str(path) in err


def test_the_cached_rejudge_gives_the_judges_verdict_for_every_subject_and_rulebook():
    from parity.judge import judge

    books = [load_rulebook(name) for name in (TRAINING, INFERENCE, *WHATIFS)]
    subjects = load_subjects([CORPUS])
    result = impact(subjects, books)
    for item in result.subjects:
        for book, verdict in zip(books, item.verdicts, strict=True):
            division = item.subject.division if item.subject.division in book.divisions else "closed"
            expected = judge(item.subject.observations, book, division, item.subject.benchmark).verdict
            assert verdict == expected, (item.subject.name, book.id)


def test_a_submission_tree_is_audited_on_the_fly_into_one_subject_per_result(capsys):
    tree = Path(__file__).resolve().parents[1] / "data" / "inference" / "v5.1" / "closed"
    code, out, _ = parity(capsys, "rules", "impact", tree, "-r", TRAINING, "-r", INFERENCE, "-f", "json")
    data = json.loads(out)
    assert code == 0 and [s["kind"] for s in data["subjects"]] == ["inference result"] * 3
    assert data["subjects"][0]["name"].startswith("inference v5.1 Lambda/")
