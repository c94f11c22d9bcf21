"""The subjects `parity rules impact` re-judges: evidence files, one subject each, or folders of them.

An evidence file's ``subject`` (:class:`parity.observations.plain.EvidenceSubject`) names the subject
(``name``), what it is (``kind``: model pair, training benchmark, inference result), its ``round``,
``division`` and ``benchmark``; a folder is read file by file
(``*.json``, sorted, links not followed; ``manifest.json`` is the corpus's index, not a subject).
"""

from __future__ import annotations

import os
from pathlib import Path

from parity.errors import BadInput
from parity.judge.impact import Subject
from parity.observations.schema import load_evidence

#: the bundled corpus (scripts/build_impact_corpus.py writes it)
CORPUS = Path(os.path.dirname(os.path.abspath(__file__))) / "corpus"
MAX_SUBJECTS = 100_000


def load_subjects(paths: list[Path]) -> list[Subject]:
    """Every subject of the given evidence files and folders, in order.

    Raises:
        BadInput: a path is missing, or an evidence file is malformed (naming the file and the key).
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            files += sorted(
                p for p in path.glob("*.json") if p.name != "manifest.json" and not p.is_symlink()
            )
        elif path.is_file():
            files.append(path)
        else:
            raise BadInput("no such evidence file or folder", path)
        if len(files) > MAX_SUBJECTS:
            raise BadInput(f"more than {MAX_SUBJECTS} evidence files", path)
    subjects = []
    for file in files:
        evidence = load_evidence(file)
        about = evidence.subject  # an EvidenceSubject, whatever shape the file wrote
        subjects.append(
            Subject(
                about.name or file.stem,
                about.kind or "evidence",
                evidence.observations,
                about.division or "closed",
                about.benchmark,
            )
        )
    return subjects
