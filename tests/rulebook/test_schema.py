"""Schema fixtures: every `*.ok.yaml` loads; every `*.fail.yaml` fails with the error on its first line."""

from pathlib import Path

import pytest

from parity.errors import BadInput
from parity.rulebook import load_rulebook

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.ok.yaml")), ids=lambda p: p.name)
def test_ok_fixture_loads(path):
    book = load_rulebook(path)
    assert book.rules


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.fail.yaml")), ids=lambda p: p.name)
def test_fail_fixture_is_rejected_with_one_line_naming_file_rule_and_field(path):
    expected = path.read_text().splitlines()[0].removeprefix("# error: ")
    with pytest.raises(BadInput) as caught:
        load_rulebook(path)
    message = str(caught.value)
    assert message.startswith(f"{path.resolve()}: ")
    assert expected in message
    assert "\n" not in message


def test_python_tags_never_construct_objects(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"id: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(BadInput, match="YAML tag not allowed"):
        load_rulebook(path)
    assert not marker.exists()


def test_oversized_and_non_utf8_files_are_rejected(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (5 * 1024 * 1024))
    with pytest.raises(BadInput, match="over the"):
        load_rulebook(big)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(BadInput, match="not UTF-8"):
        load_rulebook(binary)


@pytest.mark.parametrize("name", ["../etc/passwd", "no-such-rulebook", "bad id!"])
def test_unknown_or_hostile_rulebook_names_are_rejected(name):
    with pytest.raises(BadInput):
        load_rulebook(name)
