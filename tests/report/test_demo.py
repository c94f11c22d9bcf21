"""`parity demo`: the first run audits the bundled example under both suites and writes the reports."""

import pytest

from parity.cli.main import run


def test_demo_writes_a_report_per_audit_and_says_where(capsys, tmp_path):
    with pytest.raises(SystemExit) as exited:
        run(["--quiet", "demo", "--out", str(tmp_path / "demo")])
    out, _ = capsys.readouterr()
    assert exited.value.code == 0
    written = {path.name: path.read_text() for path in (tmp_path / "demo").glob("*.html")}
    assert set(written) == {"inference-optimized.html", "training-optimized.html", "inference-swapped.html"}
    assert (
        "CONFORMS" in written["inference-optimized.html"] and "VIOLATES" in written["training-optimized.html"]
    )
    assert "inference.model.same-model" in written["inference-swapped.html"]
    assert (
        "conforms" in out and "violates" in out and str(tmp_path / "demo" / "inference-optimized.html") in out
    )


def test_demo_builds_the_models_when_not_run_from_a_clone(capsys, tmp_path, monkeypatch):
    from parity.cli import demo_cmd

    monkeypatch.setattr(demo_cmd, "CLONE_EXAMPLES", tmp_path / "nowhere")
    with pytest.raises(SystemExit) as exited:
        run(["--quiet", "demo", "--out", str(tmp_path / "demo")])
    capsys.readouterr()
    assert exited.value.code == 0
    assert (tmp_path / "demo" / "models" / "cnn" / "reference.onnx").is_file()
    assert "VIOLATES" in (tmp_path / "demo" / "training-optimized.html").read_text()
