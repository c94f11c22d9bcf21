"""Write the files of a bare git mirror's HEAD (or one folder of it) to a folder, skipping missing blobs.

``git archive`` stops at the first blob a partial mirror lacks; the published results repositories have
a few (large traces, rgat logs). This streams every blob through one ``git cat-file --batch`` and lists
the ones it could not write, so the agreement scripts and benchmarks can run on what is there.

    python scripts/extract_mirror.py /work/.mirror/mlcommons+inference_results_v5.1/repo /tmp/ir closed
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def extract(repo: str, out: str, prefix: str = "") -> tuple[int, list[str]]:
    """Write HEAD's blobs under ``prefix`` into ``out``; returns (written, missing paths)."""
    listing = subprocess.run(
        ["git", "--git-dir", repo, "ls-tree", "-r", "-z", "HEAD", *([prefix] if prefix else [])],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    entries = []
    for line in listing:
        if not line:
            continue
        meta, path = line.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":  # links are not written: a submission holds none
            entries.append((sha, path.decode()))
    batch = subprocess.Popen(
        ["git", "--git-dir", repo, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    written, missing = 0, []
    root = Path(out)
    for sha, path in entries:
        batch.stdin.write(sha + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            missing.append(path)
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written += 1
    batch.stdin.close()
    batch.wait()
    return written, missing


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: extract_mirror.py GIT_DIR OUT [FOLDER]")
    count, absent = extract(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
    print(f"{count} files written, {len(absent)} missing from the mirror")
    for path in absent:
        print(f"  missing: {path}")
