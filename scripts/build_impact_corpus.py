"""Build the evidence corpus `parity rules impact` runs on by default, from real work only.

Writes one evidence file per subject into ``src/parity/judge/corpus/`` and a ``manifest.json`` naming
them, deterministically (sorted keys, paths relative to their source, no times):

- the bundled example models (``examples/``), every candidate against its reference, observed once as
  inference observes weights (provenance) and once as training does (distribution);
- the training packages of ``../shared/corpus/mlperf_logs/packages/v5.1``, audited: one subject per
  benchmark folder;
- the inference submissions of ``../shared/corpus/mlperf_inference/v5.1/closed``, audited: one subject per
  result.

    python scripts/build_impact_corpus.py        # a few minutes: the example models are run sandboxed
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"
OUT = ROOT / "src" / "parity" / "judge" / "corpus"
SUITE_BOOKS = {"inference": "mlperf-inference-v6.1", "training": "mlperf-training-v6.0"}


def _model_pairs():
    from parity.audit import check
    from parity.engines.numeric import NumericOptions

    for model in sorted(p for p in (ROOT / "examples").iterdir() if (p / "reference.onnx").is_file()):
        for candidate in sorted(model.glob("*.onnx")):
            if candidate.name == "reference.onnx":
                continue
            for suite, book in SUITE_BOOKS.items():
                result = check(model / "reference.onnx", candidate, book, numeric=NumericOptions())
                name = f"{model.name}/{candidate.stem} (weights observed for {suite})"
                yield name, "model pair", "closed", None, result.observations


def _training():
    from parity.audit.submission import audit_submission

    folder = SHARED / "mlperf_logs" / "packages" / "v5.1"
    audit = audit_submission(folder, "5.1.0", jobs=2)
    for organisation in audit.organisations:
        for benchmark in organisation.benchmarks:
            folder = benchmark.folder
            name = f"training v5.1 {organisation.organisation.name}/{folder.system}/{folder.benchmark}"
            yield (
                name,
                "training benchmark",
                benchmark.division,
                benchmark.folder.benchmark,
                benchmark.observations,
            )


def _inference():
    from parity.audit.inference_submission import audit_inference

    audit = audit_inference(SHARED / "mlperf_inference" / "v5.1" / "closed", "5.1", jobs=2)
    for organisation in audit.organisations:
        for result in organisation.results:
            row = result.check.row
            name = f"inference v5.1 {organisation.organisation.name}/{row.system}/{row.model}/{row.scenario}"
            division = organisation.organisation.division
            yield name, "inference result", division, result.judgement.benchmark, result.check.observations


def main() -> int:
    """Write the corpus and its manifest."""
    from parity.observations import EvidenceFile
    from parity.report.json_output import to_json

    if not SHARED.is_dir():
        sys.exit(f"the shared corpus is not at {SHARED}")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    manifest = []
    prefixes = {str(SHARED) + "/": "", str(ROOT) + "/": ""}
    for source in (_model_pairs, _training, _inference):
        for name, kind, division, benchmark, observations in source():
            subject = {"name": name, "kind": kind, "division": division, "benchmark": benchmark}
            text = to_json(EvidenceFile(observations, subject).to_json())
            for prefix, replacement in prefixes.items():
                text = text.replace(prefix, replacement)
            file = f"{len(manifest):03d}.json"
            (OUT / file).write_text(text, encoding="utf-8")
            manifest.append({"file": file, **subject, "observations": len(observations)})
    (OUT / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(manifest)} subjects to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
