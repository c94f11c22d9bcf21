"""Inference round data: loaded from versioned YAML with sources, units checked when it loads."""

import ast
import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from parity.engines.loadgen.rounds import available, load_inference_round, read_inference_round
from parity.errors import BadInput

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "src" / "parity" / "engines" / "loadgen" / "data"
CORPUS = REPO.parent / "shared" / "corpus" / "mlperf_inference" / "v5.1" / "closed"


def _extractor():
    spec = importlib.util.spec_from_file_location("extract", REPO / "scripts" / "extract_inference_rounds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_rounds_load_with_the_checkers_facts():
    assert available() == ("5.0", "5.1", "6.0", "6.1")
    v51 = load_inference_round("5.1")
    assert v51.source.tag == "v5.1.1" and v51.lines["accuracy-target"] > 0
    assert v51.seeds == {
        "qsl_rng_seed": "1780908523862526354",
        "sample_index_rng_seed": "14771362308971278857",
        "schedule_rng_seed": "18209322760996052031",
    }
    assert v51.min_duration_ms == 600_000
    [resnet] = v51.models["resnet"].accuracy
    assert (resnet.metric, resnet.reference, resnet.factor, resnet.unit) == ("acc", 76.46, 0.99, "scale")
    assert v51.models["rgat"].performance_sample_count == 788_379
    assert v51.models["llama2-70b-99"].llm_latency_limits_ns["Interactive"] == {
        "ttft": 450_000_000,
        "tpot": 40_000_000,
    }
    assert v51.models["whisper"].scenarios_datacenter == ["Offline"]
    assert load_inference_round("5.0").seeds["qsl_rng_seed"] == "6023615788873153749"


def test_the_v6_rounds_come_from_the_modular_checker_with_their_own_seeds():
    v60, v61 = load_inference_round("6.0"), load_inference_round("6.1")
    assert v60.source.file.endswith("submission_checker/constants.py") and len(v60.source.tag) == 40
    seeds = {round_.round: round_.seeds["qsl_rng_seed"] for round_ in map(load_inference_round, available())}
    assert len(set(seeds.values())) == 4, seeds
    by_scenario = {t.scenario: t.value for t in v61.models["qwen3-vl-235b-a22b"].accuracy}
    assert by_scenario["Interactive"] == pytest.approx(0.7878 * 0.99)
    assert by_scenario["Offline"] == pytest.approx(0.7903 * 0.99)
    assert v61.compliance_tests_listed
    assert v61.models["resnet"].compliance_tests == ["TEST01", "TEST04"]
    assert v61.models["gpt-oss-120b"].compliance_tests == ["TEST07", "TEST09"]
    [deepseek, _] = v60.models["deepseek-r1"].accuracy
    assert (deepseek.reference, deepseek.factor, deepseek.unit) == (81.3582, 0.99, "scale")


def test_v5_compliance_tests_are_replayed_from_the_checkers_code():
    v51 = load_inference_round("5.1")
    assert v51.compliance_tests_listed and v51.lines["check_compliance_dir"] > 0
    tests = {name: model.compliance_tests for name, model in v51.models.items()}
    assert tests["resnet"] == tests["stable-diffusion-xl"] == ["TEST01", "TEST04"]
    assert tests["rgat"] == tests["whisper"] == tests["bert-99"] == ["TEST01"]
    assert tests["llama2-70b-99"] == tests["deepseek-r1"] == ["TEST06"]
    equal = {name for name, model in v51.models.items() if model.equal_issue}
    assert {"3d-unet-99", "rgat", "whisper", "deepseek-r1", "llama2-70b-99"} <= equal
    assert v51.models["resnet"].equal_issue is False and v51.lines["requires_equal_issue"] > 0
    # v6.x keeps the method in configuration.py, and it holds only for v4.1: no v6 model requires it
    v61 = load_inference_round("6.1")
    assert v61.equal_issue_source.startswith("tools/submission/submission_checker/configuration/")
    assert all(model.equal_issue is False for model in v61.models.values())


def test_the_replay_refuses_code_it_does_not_understand():
    extract = _extractor()
    code = """
def check_compliance_dir(model):
    test_list = ["TEST01", "TEST04"]
    if model in ["a", "b"]:
        test_list.remove("TEST04")
    if model in ["b"]:
        test_list.append("TEST06")
    if test_list and model:
        return False
"""
    tests, line = extract.compliance_in_code(ast.parse(code), ["a", "b", "c"])
    assert tests == {"a": ["TEST01"], "b": ["TEST01", "TEST06"], "c": ["TEST01", "TEST04"]} and line == 2
    with pytest.raises(ValueError, match=r"test_list\.clear is not understood"):
        extract.compliance_in_code(ast.parse(code.replace('remove("TEST04")', 'clear("TEST04")')), ["a"])


def test_the_rgat_unit_mismatch_is_declared_and_converted():
    [rgat] = load_inference_round("5.1").models["rgat"].accuracy
    assert (rgat.unit, rgat.printed) == ("fraction", "percent")
    assert rgat.from_printed(72.5) == pytest.approx(0.725)
    assert rgat.from_printed(0.73) < rgat.value  # 0.73% no longer passes a 72.1% target


def _edited(tmp_path, change):
    data = yaml.safe_load((DATA / "inference_5.1.yaml").read_text())
    change(data)
    path = tmp_path / "inference_5.1.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_an_undeclared_unit_mismatch_is_refused_when_the_data_loads(tmp_path):
    def undeclare(data):
        for key in ("convert", "note", "printed_source"):
            del data["models"]["rgat"]["accuracy"][0][key]

    with pytest.raises(BadInput, match=r"models\.rgat\.accuracy\.0.*prints a percent; say how to convert"):
        read_inference_round(_edited(tmp_path, undeclare))


def test_a_target_that_is_not_its_reference_times_its_factor_is_refused(tmp_path):
    def drift(data):
        data["models"]["resnet"]["accuracy"][0]["value"] = 70.0

    with pytest.raises(BadInput, match=r"models\.resnet\.accuracy\.0.*is not 76\.46 x 0\.99"):
        read_inference_round(_edited(tmp_path, drift))


def test_a_reference_and_factor_written_the_wrong_way_round_are_refused(tmp_path):
    def swap(data):
        bound = data["models"]["resnet"]["accuracy"][0]
        bound["reference"], bound["factor"] = bound["factor"], bound["reference"]

    with pytest.raises(BadInput, match=r"factor 76\.46 is not a fraction of a reference near 1"):
        read_inference_round(_edited(tmp_path, swap))


def test_a_metric_without_a_pattern_is_refused(tmp_path):
    with pytest.raises(
        BadInput, match=r"inference_5\.1\.yaml: models\.\S+: metric acc has no accuracy pattern"
    ):
        read_inference_round(_edited(tmp_path, lambda data: data["accuracy_patterns"].pop("acc")))


def test_the_extractor_keeps_reference_and_factor_apart_without_evaluating_code():
    extract = _extractor()
    node = ast.parse("('acc', 76.46 * 0.99, 'GEN_LEN', 8167644 * 0.9)").body[0].value
    acc, length = extract.target(node)
    swapped = extract.target(ast.parse("('TPS', 1.1 * 9999)").body[0].value)
    assert (swapped[0]["reference"], swapped[0]["factor"]) == (9999, 1.1)
    assert acc == {"metric": "acc", "value": 75.6954, "reference": 76.46, "factor": 0.99, "unit": "scale"}
    assert (length["reference"], length["factor"]) == (8167644, 0.9)
    assert length["value"] == pytest.approx(7350879.6)
    with pytest.raises(ValueError, match="not a numeric constant"):
        extract.number(ast.parse("__import__('os').system('true')").body[0].value)


def _printed(path: Path, pattern: str) -> float | None:
    for line in path.read_text(errors="replace").splitlines():
        found = re.match(pattern, line)
        if found:
            return float(found.group(1))
    return None


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is beside the repository")
def test_every_published_accuracy_meets_its_target_in_the_right_unit():
    """Both corpus submissions passed the official checker: their accuracy.txt meet every bound."""
    facts = load_inference_round("5.1")
    checked = 0
    for path in sorted(CORPUS.glob("*/results/*/*/*/accuracy/accuracy.txt")):
        model = facts.models[path.parents[2].name]
        for bound in model.accuracy:
            printed = _printed(path, facts.accuracy_patterns[bound.metric])
            assert printed is not None, (path, bound.metric)
            assert bound.from_printed(printed) >= bound.value, (path, bound.metric, printed)
            checked += 1
        for bound in model.upper_limit:
            printed = _printed(path, facts.accuracy_patterns[bound.metric])
            assert printed is not None and bound.from_printed(printed) <= bound.value, (path, bound.metric)
    assert checked >= 20
