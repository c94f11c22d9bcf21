"""A fixed slice of the semantic fuzzing campaign: one or two meaningful mutants per reader and class.

Each mutant is a conforming published seed (shared corpus) with one edit and the verdict it must get
(tests/fuzz/semantic.py); it runs through the real command in the forked-child harness, in every report
format for hostile strings. The long campaign is ``python scripts/semantic_fuzz_campaign.py``.
"""

from __future__ import annotations

import pytest

from fuzz.semantic import catalogue, corpus_present, run_mutants, table

pytestmark = pytest.mark.skipif(not corpus_present(), reason="the shared corpus is not beside the repository")

SLICE = (
    # inference: the seed, one copy edited, non-finite, boundary, a record deleted, names, hostile strings
    "uf-whisper/identity/identity",
    "uf-whisper/edit-copy/score-summary-x2",
    "uf-whisper/non-finite/score-detail-inf",
    "uf-whisper/boundary/test01-compliance-acc-10",
    "uf-whisper/delete/acc-query-count-deleted",
    "uf-whisper/name/model-cyrillic",
    "uf-sdxl/edit-copy/test04-summary-x2",
    "uf-whisper/hostile-string/system-folder:csi",
    "uf-whisper/hostile-string/system-folder:non-utf8",
    "uf-whisper/hostile-string/loadgen-version:rich-close",
    # a training package
    "nv-package/duplicate/run-stop-duplicated",
    "nv-package/boundary/eval-last-above-target",
    "nv-package/name/result-names-with-id",
    "nv-package/hostile-string/org-log:fake-verdict-lf",
    "nv-package/hostile-string/system-folder:md-image",
    # one log
    "nv-log/non-finite/run-stop-time-inf",
    "nv-log/argv/glob-division-option",
    "nv-log/argv/glob-out-option",
    "nv-log/hostile-string/org-log:xml-forbidden",
    # a benchmark folder's RCP
    "nv-rcp/boundary/converges-fast",
    "nv-rcp/huge/run-stop-time-huge",
    "nv-rcp/hostile-string/platform-log:html-img",
)


def test_the_slice_names_mutants_of_the_catalogue():
    labels = {mutant.label for mutant in catalogue()}
    assert set(SLICE) <= labels, sorted(set(SLICE) - labels)


def test_a_fixed_slice_of_semantic_mutants_gets_the_verdict_it_must(tmp_path):
    mutants = [mutant for mutant in catalogue() if mutant.label in SLICE]
    results = run_mutants(mutants, tmp_path, jobs=1)
    failing = [f"{r.mutant.label} ({r.mutant.expect}): {r.reasons()}" for r in results if r.failed()]
    assert not failing, table(results) + "\n" + "\n".join(failing)
