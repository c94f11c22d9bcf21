"""One plain observation and judgement model serves the fast commands and `parity check` alike."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mllog_files
from parity.audit.check import check
from parity.audit.logs import check_logs
from parity.judge import Finding, Judgement, judge
from parity.judge.table import judge_by_table, load_table
from parity.observations import Evidence, EvidenceFile, Location, Observation, load_evidence
from parity.observations.kinds import LOG_EVENT_MISSING, WEIGHTS_PRUNED
from parity.observations.plain import MAX_ITEMS
from parity.rulebook import load_rulebook

EXAMPLE = Path(__file__).parents[2] / "examples" / "cnn"


def test_the_fast_and_the_full_path_give_the_same_classes(tmp_path):
    runs = mllog_files.flux_runs(tmp_path / "v5.1" / "flux1")
    log = runs / "result_0.txt"
    log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")  # no run_stop: a finding
    [fast] = check_logs([log], ruleset="5.1.0")
    assert type(fast.judgement) is Judgement and fast.judgement.findings
    assert all(type(item) is Observation for item in fast.check.observations)
    assert all(type(finding) is Finding for finding in fast.judgement.findings)
    by_rulebook = judge(fast.check.observations, load_rulebook(fast.judgement.rulebook), "closed", "flux1")
    assert by_rulebook == fast.judgement  # the compiled table decides as the rulebook does


def test_model_pair_observations_and_judgement_are_the_same_classes():
    result = check(EXAMPLE / "reference.onnx", EXAMPLE / "swapped_activation.onnx", "mlperf-inference")
    assert result.observations and all(type(item) is Observation for item in result.observations)
    assert type(result.judgement) is Judgement
    assert all(type(finding) is Finding for finding in result.judgement.findings)


def test_values_become_strict_bounded_json_at_construction():
    evidence = Evidence(
        (Location("tensor", "w"),),
        {"error": np.float32(0.5), "nan": math.nan, "none": None},
        {"count": np.int64(3), "ratio": np.float64(0.25), "nan": math.nan, "many": list(range(500))},
    )
    assert evidence.metrics == {"error": 0.5}
    assert type(evidence.metrics["error"]) is float
    assert evidence.details["count"] == 3 and type(evidence.details["count"]) is int
    assert evidence.details["ratio"] == 0.25 and evidence.details["nan"] is None
    assert len(evidence.details["many"]) == MAX_ITEMS + 1 and "500 items" in evidence.details["many"][-1]
    json.dumps(evidence.to_json(), allow_nan=False)


def test_an_unknown_kind_or_location_is_refused_when_made():
    with pytest.raises(ValueError, match="unknown change kind"):
        Observation("graph.no_such_kind")
    with pytest.raises(ValueError, match="location"):
        Location("planet", "earth")


def test_evidence_round_trips_to_equal_objects(tmp_path):
    observations = [
        Observation(
            WEIGHTS_PRUNED,
            "weights",
            "half of w is zero",
            Evidence((Location("tensor", "w", "both"),), {"zero_fraction": 0.5}, {"tensor": "w"}),
        ),
        Observation(LOG_EVENT_MISSING, "logs", "no run_stop"),
    ]
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(EvidenceFile(observations, {"candidate": "c.onnx"}).to_json()))
    loaded = load_evidence(path)
    assert loaded.observations == observations and loaded.subject.to_json() == {
        "name": "c.onnx",
        "kind": "model pair",
        "round": None,
        "division": None,
        "benchmark": None,
    }
    book = load_rulebook("mlperf-training-v6.0")
    assert judge(loaded.observations, book).to_json() == judge(observations, book).to_json()
    assert judge_by_table(loaded.observations[1:], load_table(book.id), "closed", None) == judge(
        observations[1:], book
    )


def test_the_plain_model_imports_no_pydantic():
    code = (
        "import sys; import parity.observations.plain, parity.judge.model, parity.judge.table; "
        "print(sorted(m for m in ('pydantic', 'typing', 'dataclasses') if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
