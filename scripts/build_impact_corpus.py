"""Build the evidence corpus `parity rules impact` runs on by default, from real work only.

Writes one evidence file per subject into ``src/parity/judge/corpus/`` and a ``manifest.json`` naming
them, deterministically (sorted keys, paths relative to their source, no times):

- the bundled example models (``examples/``), every candidate against its reference, observed once as
  inference observes weights (provenance) and once as training does (distribution);
- the real-tool corpus of ``tests/realtools`` (every architecture x tool, legal and violating), observed
  the same two ways (``--no-realtools`` leaves it out: it exports models with torch and runs every tool);
- the training packages of ``../shared/corpus/mlperf_logs/packages/v5.1``, audited: one subject per
  benchmark folder;
- the inference submissions of ``../shared/corpus/mlperf_inference/v5.1/closed``, audited: one subject per
  result.

    python scripts/build_impact_corpus.py        # about half an hour on 2 cores: every model runs sandboxed
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


def _realtools(folder: Path):
    """The real-tool corpus of tests/realtools: every architecture x tool, and the injected violations."""
    sys.path.insert(0, str(ROOT / "tests"))
    from parity.audit import check
    from parity.engines.numeric import NumericOptions
    from realtools.corpus import build

    cases, _failed = build(folder, None, None, True)
    for case in cases:
        for suite, book in SUITE_BOOKS.items():
            try:
                result = check(
                    case.reference, case.candidate, book, numeric=NumericOptions(inputs=Path(case.inputs))
                )
            except Exception as exc:
                print(f"left out {case.id} under {suite}: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            name = f"real tool {case.id} (weights observed for {suite})"
            yield name, f"real-tool {case.kind}", "closed", None, result.observations


def _training():
    from parity.audit.subjects import training_subjects

    for item in training_subjects(SHARED / "mlperf_logs" / "packages" / "v5.1", "5.1.0", jobs=2):
        yield item.name, item.kind, item.division, item.benchmark, item.observations


def _inference():
    from parity.audit.subjects import inference_subjects

    for item in inference_subjects(SHARED / "mlperf_inference" / "v5.1" / "closed", "5.1", jobs=2):
        yield item.name, item.kind, item.division, item.benchmark, item.observations


#: what the corpus keeps of each observation's evidence: enough to judge and to show, not every tensor
MAX_LOCATIONS, MAX_LIST = 3, 5


def _compact(evidence: dict) -> dict:
    """Locations cut to the first few and long lists in details to their first items, with counts kept."""
    for observation in evidence["observations"]:
        found = observation.get("evidence", {})
        locations = found.get("locations", [])
        if len(locations) > MAX_LOCATIONS:
            found["locations"] = locations[:MAX_LOCATIONS]
            found.setdefault("details", {})["locations_total"] = len(locations)
        details = found.get("details", {})
        for key, value in list(details.items()):
            if isinstance(value, list) and len(value) > MAX_LIST:
                details[key] = value[:MAX_LIST]
                details[f"{key}_total"] = len(value)
            elif isinstance(value, dict) and len(value) > MAX_LIST:
                details[key] = dict(list(sorted(value.items()))[:MAX_LIST])
                details[f"{key}_total"] = len(value)
    return evidence


def main() -> int:
    """Write the corpus and its manifest."""
    import argparse
    import functools
    import tempfile

    from parity.observations import EvidenceFile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-realtools", action="store_true", help="leave out the real-tool corpus (slow)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"the shared corpus is not at {SHARED}")
    sources = [_model_pairs, _training, _inference]
    work = tempfile.TemporaryDirectory(prefix="parity-realtools-")
    if not args.no_realtools:
        sources.insert(1, functools.partial(_realtools, Path(work.name)))
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    manifest = []
    prefixes = {str(SHARED) + "/": "", str(ROOT) + "/": "", work.name + "/": "realtools/"}
    for source in sources:
        for name, kind, division, benchmark, observations in source():
            subject = {"name": name, "kind": kind, "division": division, "benchmark": benchmark}
            saved = _compact(EvidenceFile(observations, subject).to_json())
            text = json.dumps(saved, sort_keys=True, indent=1)
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
