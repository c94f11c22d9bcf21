"""Evidence subjects are one typed object: re-judging saved evidence keeps the division (issue 25)."""

import json

import pytest

from cli_runner import check_args, parity
from parity.errors import BadInput
from parity.judge.subjects import CORPUS, load_subjects
from parity.observations import EvidenceSubject, load_evidence


def test_open_division_evidence_is_re_judged_as_open_by_judge_and_rules_impact(capsys, tmp_path):
    evidence = tmp_path / "e.json"
    args = check_args("cnn", "optimized", "mlperf-training")
    code, _, _ = parity(capsys, *args, "--division", "open", "--save-evidence", evidence)
    closed, _, _ = parity(capsys, *args, "--division", "closed")
    assert (code, closed) == (0, 1)  # batch norm folding: allowed in open, forbidden in closed
    subject = json.loads(evidence.read_text())["subject"]
    assert subject["division"] == "open" and subject["kind"] == "model pair"
    assert set(subject) == {"name", "kind", "round", "division", "benchmark"}
    code, out, _ = parity(capsys, "judge", evidence, "-r", "mlperf-training", "-f", "json")
    assert code == 0 and json.loads(out)["verdict"] == "conforms"  # was judged closed: violates
    code, out, _ = parity(capsys, "judge", evidence, "-r", "mlperf-training", "--division", "closed")
    assert code == 1  # an explicit option still wins
    code, out, _ = parity(
        capsys,
        "rules",
        "impact",
        evidence,
        "-r",
        "mlperf-training",
        "-r",
        "mlperf-training-v0.7",
        "-f",
        "json",
    )
    [judged] = json.loads(out)["subjects"]
    assert judged["division"] == "open" and set(judged["verdicts"].values()) == {"conforms"}, judged


@pytest.mark.parametrize(
    ("saved", "typed"),
    [
        (
            {"reference": "r.onnx", "candidate": "c.onnx"},
            ("r.onnx vs c.onnx", "model pair", None, None, None),
        ),
        (
            {"submission": "v5.1/Dell", "ruleset": "5.1.0"},
            ("v5.1/Dell", "training submission", "5.1.0", None, None),
        ),
        (
            {"submission": "closed/Acme", "round": "5.1", "suite": "inference"},
            ("closed/Acme", "inference submission", "5.1", None, None),
        ),
        (
            {"name": "x", "kind": "training benchmark", "division": "Open", "benchmark": "flux1"},
            ("x", "training benchmark", None, "open", "flux1"),
        ),
        ({}, (None, None, None, None, None)),
    ],
)
def test_every_earlier_subject_shape_still_loads(tmp_path, saved, typed):
    path = tmp_path / "old.json"
    path.write_text(
        json.dumps({"format": "parity-evidence", "version": 1, "subject": saved, "observations": []})
    )
    subject = load_evidence(path).subject
    assert isinstance(subject, EvidenceSubject)
    assert (subject.name, subject.kind, subject.round, subject.division, subject.benchmark) == typed


@pytest.mark.parametrize("subject", [{"division": "opem"}, {"division": 3}, {"name": ["a"]}])
def test_a_subject_field_of_the_wrong_type_or_an_unknown_division_is_bad_input(tmp_path, subject):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"subject": subject, "observations": []}))
    with pytest.raises(BadInput):
        load_evidence(path)


def test_the_bundled_corpus_keeps_its_divisions():
    subjects = load_subjects([CORPUS])
    assert len(subjects) == 333 and {s.division for s in subjects} <= {"closed", "open", "network"}
