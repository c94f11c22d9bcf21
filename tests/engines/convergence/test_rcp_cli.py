"""`parity rcp check` on the two real benchmark folders of the corpus (mlperf-logging: both pass)."""

import json
from pathlib import Path

import pytest

from cli_runner import parity

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "mlperf_logs" / "packages" / "v5.1"
FOLDERS = sorted(CORPUS.glob("*/results/*/*")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FOLDERS, reason="the shared corpus is beside the repository in CI and sessions")
@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
@pytest.mark.parametrize("method", ["rules", "mlperf-logging"])
def test_corpus_packages_pass_like_mlperf_logging(capsys, folder, method):
    code, out, _ = parity(capsys, "rcp", "check", folder, "--method", method, "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "passed" and data["round"] == "5.1.0"
    assert data["reference"]["batch_size"] == data["batch_size"]


def test_a_folder_without_logs_is_bad_input(capsys, tmp_path):
    code, _, err = parity(capsys, "rcp", "check", tmp_path)
    assert code == 3 and "no readable result_*.txt" in err
