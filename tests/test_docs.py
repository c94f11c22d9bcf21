"""Generated and quoted documentation stays true to the code."""

import json
import re
from pathlib import Path

from parity.rulebook.schema import RulebookFile

ROOT = Path(__file__).resolve().parents[1]


def test_committed_json_schema_is_current():
    committed = json.loads((ROOT / "docs" / "rulebook.schema.json").read_text())
    assert committed == RulebookFile.model_json_schema(), (
        "run: parity rules schema > docs/rulebook.schema.json"
    )


def test_readme_quick_start_is_install_main_job_tests_and_ci_runs_the_same_test_command():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```sh\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert block[0].startswith("python3 -m venv .venv") and "pip install -e '.[dev]'" in block[0]
    assert block[1].startswith("parity ")
    ci = (ROOT / ".ci" / "run").read_text()
    assert block[2] in ci.splitlines()
    assert "pip install --quiet -e '.[dev]'" in ci


def test_every_change_kind_is_documented_in_the_vocabulary():
    from parity.observations import all_kinds

    for kind in all_kinds().values():
        assert kind.meaning and kind.meaning[0].isupper() and kind.meaning.endswith(".")
