"""The model's child process: no inherited secrets, bounded files, no network, limits under the caller's.

Each test runs a real child the way the runner is started (same interpreter, flags, environment, limits
and network prefix); only the script is a probe instead of runner.py.
"""

import json
import os
import resource
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from parity.engines.numeric import sandbox

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "cnn"


def _probe(tmp_path, monkeypatch, body: str, **limits) -> dict:
    script = tmp_path / "probe.py"
    script.write_text(
        "import json, os, sys\nsys.stdin.read()\nfound = {}\n" + body + "\nprint(json.dumps(found))\n"
    )
    monkeypatch.setattr(sandbox, "RUNNER", script)
    return sandbox.run_job({"threads": 1}, time_limit=60, **limits)


def test_the_child_sees_no_variable_of_the_reviewers(tmp_path, monkeypatch):
    monkeypatch.setenv("PARITY_TEST_SECRET", "hunter2")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert "PARITY_TEST_SECRET" not in sandbox.child_environment(str(tmp_path), 1)
    found = _probe(tmp_path, monkeypatch, "found['env'] = dict(os.environ); import numpy")
    env = found["env"]
    assert "PARITY_TEST_SECRET" not in env and "hunter2" not in json.dumps(env)
    assert env["PATH"] == sandbox.CHILD_PATH and env["LC_ALL"] == "C.UTF-8"
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["OMP_NUM_THREADS"] == "1"
    assert "parity-sandbox-home-" in env["HOME"] and env["TMPDIR"].startswith(env["HOME"])
    assert set(env) <= set(sandbox.isolation().environment) | {"LC_CTYPE"}


def test_the_child_cannot_write_a_file_past_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "FILE_SIZE_LIMIT_BYTES", 1024**2)
    target = tmp_path / "big.bin"
    found = _probe(
        tmp_path,
        monkeypatch,
        f"""
try:
    with open({str(target)!r}, "wb") as handle:
        handle.write(b"x" * (2 * 1024**2))
    found["wrote"] = True
except OSError as exc:
    found["errno"] = exc.errno
""",
    )
    assert found == {"errno": 27}  # EFBIG
    assert target.stat().st_size <= 1024**2
    assert sandbox.isolation().limits["file_size_bytes"] == 1024**2


def test_the_child_cannot_reach_127_0_0_1_when_a_namespace_is_available(tmp_path, monkeypatch):
    _, network, detail = sandbox.network_isolation()
    if network == "none":
        pytest.skip(f"no network isolation on this machine: {detail}")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        found = _probe(
            tmp_path,
            monkeypatch,
            f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
    found["connected"] = True
except OSError as exc:
    found["refused"] = type(exc).__name__
""",
        )
    assert "connected" not in found and "refused" in found


def test_the_isolation_record_says_what_held():
    record = sandbox.isolation(memory_limit=3 * 1024**3).as_details()
    assert record["environment"].startswith("allow-listed: HOME,")
    assert record["limits"]["address_space_bytes"] <= 3 * 1024**3
    assert record["limits"]["core_dump_bytes"] == 0
    assert record["network"] in ("namespace", "bubblewrap", "none") and record["network_detail"]
    if os.geteuid() == 0:
        assert "not limited" in record["limits"]["processes"]


# --- under the caller's own limits (prlimit --as, as CI systems set) --------------------------------------

AS_LIMIT = 2 * 1024**3
CHECK = ["check", "--reference", EXAMPLES / "reference.onnx", "--candidate", EXAMPLES / "optimized.onnx"]
CHECK += ["-r", "mlperf-inference"]


def _limited(argv: list[str], cwd=None) -> subprocess.CompletedProcess:
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "parity", *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limit,
        timeout=300,
        cwd=cwd,
    )


def test_a_check_under_a_2_gib_address_space_runs_the_models_within_it():
    done = _limited([*CHECK, "-f", "json"])
    assert done.returncode == 0, done.stderr
    numeric = [o for o in json.loads(done.stdout)["observations"] if o["engine"] == "numeric"]
    assert [o["kind"] for o in numeric] == ["numeric.outputs_match"]
    assert numeric[0]["evidence"]["details"]["isolation"]["limits"]["address_space_bytes"] == AS_LIMIT


def _bomb(path: Path, size: int) -> Path:
    """A deflate bomb: one float32 member of ``size`` zero bytes, written in chunks."""
    count = size // 12288
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({count}, 3, 32, 32), }}"
    header = header.ljust(118) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("image.npy", "w", force_zip64=True) as member,
    ):
        member.write(npy)
        chunk = bytes(64 * 1024**2)
        for _ in range(count * 12288 // len(chunk)):
            member.write(chunk)
    return path


def test_a_deflate_bomb_under_the_callers_limit_is_one_line_exit_3(tmp_path):
    bomb = _bomb(tmp_path / "bomb.npz", 1280 * 1024**2)  # under the 2 GiB bound, over half the 2 GiB limit
    done = _limited([*CHECK, "--inputs", bomb])
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("\n") == 1 and str(bomb) in done.stderr
    assert "address-space limit" in done.stderr
