"""The command line, run in-process through its real entry point (and once as a real process)."""

import json
import subprocess
import sys

import pytest

from cli_runner import parity


def test_rules_diff_shows_opposite_polarity_and_the_kinds_judged_differently(capsys):
    code, out, _ = parity(
        capsys, "rules", "diff", "mlperf-training-v0.7", "mlperf-inference-v0.7", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "parity-rules-diff"
    assert data["default"]["closed"] == {"a": "deny", "b": "allow"}
    differ = {row["kind"]: row for row in data["judged_differently"]}
    for kind in ("graph.batchnorm_folded", "weights.pruned", "weights.reinitialised_same_distribution"):
        assert kind in differ
    assert differ["graph.batchnorm_folded"]["a"]["outcome"] == "forbidden"
    assert differ["graph.batchnorm_folded"]["b"]["outcome"] == "allowed"
    assert differ["weights.reinitialised_same_distribution"]["a"]["outcome"] == "allowed"
    assert differ["weights.reinitialised_same_distribution"]["b"]["outcome"] == "forbidden"
    assert "graph.dead_code_removed" in data["judged_alike"]


def test_json_output_is_byte_identical_across_runs(capsys):
    first = parity(capsys, "rules", "diff", "mlperf-training", "mlperf-inference", "-f", "json")[1]
    second = parity(capsys, "rules", "diff", "mlperf-training", "mlperf-inference", "-f", "json")[1]
    assert first == second


def test_rules_diff_text_names_both_rulebooks(capsys):
    code, out, _ = parity(capsys, "rules", "diff", "mlperf-training", "mlperf-inference")
    assert code == 0
    assert "mlperf-training-v6.0" in out and "graph.batchnorm_folded" in out


def test_rules_list_json_lists_every_packaged_rulebook_and_alias(capsys):
    code, out, _ = parity(capsys, "rules", "list", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert {book["id"] for book in data["rulebooks"]} == {
        "mlperf-training-v0.7",
        "mlperf-training-v6.0",
        "mlperf-inference-v0.7",
        "mlperf-inference-v6.1",
        "whatif-training-allow-by-default",
        "whatif-training-inference-optimisations",
        "whatif-inference-deny-by-default",
    }
    assert data["aliases"] == {
        "mlperf-inference": "mlperf-inference-v6.1",
        "mlperf-training": "mlperf-training-v6.0",
    }


def test_rules_explain_contrasts_with_the_other_suite(capsys):
    code, out, _ = parity(capsys, "rules", "explain", "training.graph.batchnorm-folding", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["rule"]["rationale"] and data["rule"]["source"]["document"]
    assert data["counterpart"]["rulebook"].startswith("mlperf-inference")
    kinds = {row["kind"]: row for row in data["counterpart"]["kinds"]}
    assert kinds["graph.batchnorm_folded"]["b"]["outcome"] == "allowed"


def test_unknown_rule_is_exit_3_with_one_line(capsys):
    code, out, err = parity(capsys, "rules", "explain", "training.no.such-rule")
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "no rule 'training.no.such-rule'" in err


@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_rules_render_writes_a_readable_rule_book(capsys, tmp_path, fmt):
    target = tmp_path / f"book.{fmt}"
    code, _, err = parity(
        capsys, "rules", "render", "--rulebook", "mlperf-inference", "--format", fmt, "--out", str(target)
    )
    assert code == 0 and "wrote" in err
    document = target.read_text()
    assert "inference.weights.pruning" in document or "pruning" in document.lower()
    if fmt == "html":
        assert document.startswith("<!doctype html>") and "<script" not in document and "http" in document
    if fmt == "json":
        assert json.loads(document)["default"] == "allow"


def test_rules_test_passes_for_the_packaged_rulebooks(capsys):
    code, out, _ = parity(capsys, "rules", "test", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["failed"] == [] and data["examples"] > 50


def test_rules_kinds_and_schema(capsys):
    code, out, _ = parity(capsys, "rules", "kinds", "-f", "json")
    assert code == 0 and len(json.loads(out)["kinds"]) >= 39
    code, out, _ = parity(capsys, "rules", "schema")
    assert code == 0 and "rationale_from" in out


@pytest.mark.parametrize(
    ("observations", "rulebook", "code", "verdict"),
    [
        (["graph.batchnorm_folded"], "mlperf-training", 1, "violates"),
        (["graph.batchnorm_folded"], "mlperf-inference", 0, "conforms"),
        (["weights.reinitialised_same_distribution"], "mlperf-training", 0, "conforms"),
        (["weights.reinitialised_same_distribution"], "mlperf-inference", 1, "violates"),
        (["graph.quantized"], "mlperf-inference", 2, "needs_review"),
        (["graph.dead_code_removed", "weights.identical"], "mlperf-training", 0, "conforms"),
    ],
)
def test_judge_re_judges_saved_evidence_with_the_verdict_as_exit_code(
    capsys, write_evidence, observations, rulebook, code, verdict
):
    path = write_evidence(observations)
    got, out, _ = parity(capsys, "judge", str(path), "--rulebook", rulebook, "--format", "json")
    assert got == code
    data = json.loads(out)
    assert data["verdict"] == verdict and data["format"] == "parity-judgement"
    assert [o["kind"] for o in data["observations"]] == observations


def test_judge_output_is_itself_re_judgeable(capsys, write_evidence, tmp_path):
    path = write_evidence(["graph.batchnorm_folded", "graph.dead_code_removed"])
    code, out, _ = parity(capsys, "judge", str(path), "-r", "mlperf-inference", "-f", "json")
    assert code == 0
    saved = tmp_path / "judgement.json"
    saved.write_text(out)
    code, out, _ = parity(capsys, "judge", str(saved), "-r", "mlperf-training", "-f", "json")
    assert code == 1 and json.loads(out)["rulebook"] == "mlperf-training-v6.0"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{broken", "not valid JSON"),
        ('{"observations": [{"kind": "graph.warp_drive"}]}', "unknown change kind 'graph.warp_drive'"),
        ('"just a string"', "expected a JSON object"),
    ],
)
def test_judge_rejects_bad_evidence_with_exit_3_and_no_traceback(capsys, tmp_path, content, expected):
    path = tmp_path / "evidence.json"
    path.write_text(content)
    code, out, err = parity(capsys, "judge", str(path), "-r", "mlperf-training")
    assert code == 3 and out == ""
    assert err.startswith(f"parity: error: {path}: ") and expected in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["rules", "frobnicate"],
        ["rules", "diff", "mlperf-training"],
        ["rules", "list", "--format", "yaml"],
        ["judge", "missing.json", "-r", "mlperf-training"],
        ["rules", "list", "-r", "../../etc/passwd"],
        ["rules", "diff", "mlperf-training", "mlperf-inference", "--division", "network"],
    ],
)
def test_usage_errors_and_bad_names_exit_3(capsys, argv):
    code, _, err = parity(capsys, *argv)
    assert code == 3 and err.startswith("parity: ") and "Traceback" not in err


def test_hostile_rulebook_is_rejected_without_running_anything(capsys, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.yaml"
    evil.write_text(f"id: !!python/object/apply:os.system ['touch {marker}']\n")
    code, _, err = parity(capsys, "rules", "list", "--rulebook", str(evil))
    assert code == 3 and "YAML tag not allowed" in err and not marker.exists()


def test_console_script_runs_as_a_real_process():
    result = subprocess.run(
        [sys.executable, "-m", "parity.cli.main", "rules", "explain", "inference.weights.pruning"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Why" in result.stdout and "Source" in result.stdout


def _every_rule():
    from parity.rulebook import load_rulebook, packaged_ids

    for book_id in packaged_ids():
        for rule_id in load_rulebook(book_id).rules:
            yield book_id, rule_id


@pytest.mark.parametrize(("book_id", "rule_id"), list(_every_rule()))
def test_rules_explain_works_for_every_rule_of_every_rulebook(capsys, book_id, rule_id):
    code, out, _ = parity(capsys, "rules", "explain", rule_id, "--rulebook", book_id, "--format", "json")
    assert code == 0
    rule = json.loads(out)["rule"]
    assert rule["id"] == rule_id and rule["statement"] and rule["rationale"] and rule["source"]["document"]


def test_an_internal_error_is_exit_4_with_one_line(capsys, monkeypatch):
    import parity.cli.rules_cmd as rules_cmd

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(rules_cmd, "packaged_ids", broken)
    code, _out, err = parity(capsys, "rules", "list")
    assert code == 4 and "internal error: RuntimeError: simulated bug" in err and "Traceback" not in err
