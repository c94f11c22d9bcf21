import json

import pytest

from parity.errors import BadInput
from parity.observations import Evidence, EvidenceFile, Location, Observation, load_evidence


def test_evidence_round_trips_through_json(tmp_path):
    observation = Observation(
        kind="weights.pruned",
        engine="weights",
        summary="40% of conv1.weight is zero",
        evidence=Evidence(
            locations=(Location(where="tensor", name="conv1.weight", side="both"),),
            metrics={"pruned_fraction": 0.4},
            details={"tensor": "conv1.weight"},
        ),
    )
    path = tmp_path / "e.json"
    path.write_text(json.dumps(EvidenceFile(observations=[observation]).to_json()))
    assert load_evidence(path).observations == [observation]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"observations": [{"kind": "graph.teleported"}]}', "unknown change kind 'graph.teleported'"),
        ('{"observations": [{"kind": "graph.op_removed", "extra": 1}]}', "observations.0.extra"),
        ('{"format": "something-else", "observations": []}', "format is 'something-else'"),
        ('{"nothing": true}', "observations: Field required"),
        ("[" * 100000 + "]" * 100000, "nested deeper than 64 levels"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
    ],
)
def test_bad_evidence_is_one_clear_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(BadInput) as caught:
        load_evidence(path)
    text = str(caught.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_missing_evidence_file_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="cannot read"):
        load_evidence(tmp_path / "absent.json")


def test_reports_are_accepted_as_evidence(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(
        json.dumps(
            {"format": "parity-report", "verdict": "violates", "observations": [{"kind": "graph.op_removed"}]}
        )
    )
    assert [o.kind for o in load_evidence(path).observations] == ["graph.op_removed"]
