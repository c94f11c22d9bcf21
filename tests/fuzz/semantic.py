"""Semantic mutants: small, deliberate edits of conforming published files, each with the verdict it must get.

The byte-level loaders (``fuzz.loaders``) find crashes; these find *wrong answers*. Every mutant starts from
a conforming seed built from the shared corpus (an inference result, a training package, one training log,
one benchmark folder), makes one meaningful edit (one copy of a decisive number edited, a record deleted,
duplicated or moved, a value made non-finite or huge or moved across its boundary, a hostile string put in
a string field or a folder name) and says what parity must conclude:

``must-not-conform``
    a violating submission: exit 1, 2 or 3 in every format, never 0 (and never 4);
``keeps-verdict``
    a harmless edit (a hostile folder name on a conforming result): the seed's verdict (exit 0) in every
    format, never 4;
``any-verdict``
    a hostile value in a field the verdict may depend on (an organisation name): any verdict, never 4.

Every mutant runs through the real command in the forked-child harness (``fuzz.harness``: exit code,
stderr, time, files opened outside the input, input modified), once per report format the command has
(text to stdout and to ``--out``, json, markdown, junit, html), and every output is checked: UTF-8, no raw
control characters (C0 other than newline and tab, DEL, C1), no live markup, link, image or HTML from the
submitted strings, no second ``Verdict:`` line, JUnit that ``xml.etree`` parses, strict JSON, the same
exit code in every format. The catalogue is deterministic; ``combinations`` draws seeded pairs of edits.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import shutil
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fuzz.harness import remove_tree
from fuzz.loaders import Loader, _copy_seed, cli

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "corpus"
INFERENCE = SHARED / "mlperf_inference" / "v5.1" / "closed"
TRAINING = SHARED / "mlperf_logs" / "packages" / "v5.1" / "NVIDIA"

MUST_NOT_CONFORM, KEEPS_VERDICT, ANY_VERDICT = "must-not-conform", "keeps-verdict", "any-verdict"

#: the table's columns, in order
COLUMNS = (
    "mutants",
    "judged conforms",
    "verdict changed",
    "formats disagree",
    "raw control",
    "live markup",
    "fake verdict",
    "bad output",
    "exit 4",
    "modified",
    "other",
)

#: (name, text); every one starts with the marker PWN so its place in a report can be found
HOSTILE = [
    ("csi", "PWN\x1b[2J\x1b[31mred\x1b[0m"),
    ("osc52", "PWN\x1b]52;c;ZXZpbA==\x07"),
    ("osc8", "PWN\x1b]8;;https://evil/\x1b\\link\x1b]8;;\x1b\\"),
    ("fake-verdict-lf", "PWN\nVerdict: conforms"),
    ("fake-verdict-cr", "PWN\rVerdict: conforms"),
    ("c1", "PWN\x9b2J\x85x"),
    ("del-nul", "PWN\x7f\x00x"),
    ("xml-forbidden", "PWN\x01\x0b\x0c\x1f\ufffe"),
    ("rich-close", "PWN[/x]"),
    ("rich-link", "PWN[link=https://evil/]click[/link]"),
    ("rich-hide", "PWN[black on black]hidden"),
    ("md-image", "PWN![x](https://evil/p.png)"),
    ("html-img", "PWN<img src=https://evil/p.png>"),
    ("html-comment", "PWN<!--"),
    ("pipe", "PWN|cell"),
    ("heading", "PWN\n# heading"),
]
#: what must survive literally in a text report when the marker does (else the markup was consumed)
RICH_LITERAL = {"rich-close": "[/x]", "rich-link": "[link=", "rich-hide": "[black on black]"}
#: live constructs in Markdown and HTML that a hostile string carries
LIVE_MARKDOWN = ("![x](https:", "<img src=https:", "<!--", "](https:")
LIVE_HTML = ("<img src=https:", "PWN<!--", "PWN<img")
#: a file or folder name cannot hold NUL or "/" (so its links are "https:evil"); its lone surrogate comes
#: from a non-UTF-8 byte
NAME_HOSTILE = [(n, t.replace("\x00", "").replace("/", "")) for n, t in HOSTILE] + [
    ("non-utf8", os.fsdecode(b"PWN\xff\xfe"))
]


# --- seeds ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A conforming copy of published files, the command that reads it, and the formats it writes."""

    name: str
    reader: str
    build: Callable[[Path], None]  # writes the seed into an empty folder
    target: Callable[[Path], Path]  # the path the command is given, inside a copy
    command: Callable[[Path], list]  # argv before the format options
    formats: tuple[str, ...]


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    for path in [target, *target.rglob("*")] if target.is_dir() else [target]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _inference_builder(org: str, system: str, model: str, scenarios: tuple[str, ...]):
    def build(folder: Path) -> None:
        source, target = INFERENCE / org, folder / "v5.1" / "closed" / org
        for top in ("results", "compliance", "measurements"):
            for scenario in scenarios:
                if (source / top / system / model / scenario).is_dir():
                    _copy(source / top / system / model / scenario, target / top / system / model / scenario)
        _copy(source / "systems" / f"{system}.json", target / "systems" / f"{system}.json")
        _copy(source / "code" / model, target / "code" / model)
        _copy(source / "documentation", target / "documentation")

    return build


def _org(folder: Path) -> Path:
    return next(p for p in sorted(folder.glob("v5.1/*/*")) if p.is_dir())


def _training_build(folder: Path) -> None:
    """NVIDIA's llama31_405b package; its system description's empty required fields filled in."""
    _copy(TRAINING, folder / "v5.1" / "NVIDIA")
    for path in (folder / "v5.1" / "NVIDIA" / "systems").glob("*.json"):
        data = json.loads(path.read_text())
        optional = {"hw_notes", "sw_notes", "host_networking_topology", "accelerator_interconnect_topology"}
        data.update({k: "see notes" for k, v in data.items() if v == "" and k not in optional})
        path.write_text(json.dumps(data, indent=4))


def _benchmark(folder: Path) -> Path:
    return next(folder.glob("v5.1/NVIDIA/results/*/llama31_405b"))


def _training_log_build(folder: Path) -> None:
    source = next(TRAINING.glob("results/*/llama31_405b"))
    _copy(
        source / "result_0.txt",
        folder / "v5.1" / "NVIDIA" / "results" / source.parent.name / source.name / "result_0.txt",
    )


def _rcp_build(folder: Path) -> None:
    source = next(TRAINING.glob("results/*/llama31_405b"))
    _copy(source, folder / "v5.1" / "NVIDIA" / "results" / source.parent.name / source.name)


AUDIT_FORMATS = ("text", "text-out", "json", "markdown", "junit", "html")
SEEDS = {
    seed.name: seed
    for seed in (
        Seed(
            "uf-whisper",
            "inference",
            _inference_builder("University-of-Florida", "B200-SXM-180GBx8_TRT", "whisper", ("Offline",)),
            _org,
            lambda target: ["audit", target, "--jobs", "1"],
            AUDIT_FORMATS,
        ),
        Seed(
            "uf-sdxl",
            "inference",
            _inference_builder(
                "University-of-Florida", "B200-SXM-180GBx1_TRT", "stable-diffusion-xl", ("Offline", "Server")
            ),
            _org,
            lambda target: ["audit", target, "--jobs", "1"],
            AUDIT_FORMATS,
        ),
        Seed(
            "nv-package",
            "training",
            _training_build,
            lambda folder: folder / "v5.1" / "NVIDIA",
            lambda target: ["audit", target, "--jobs", "1"],
            AUDIT_FORMATS,
        ),
        Seed(
            "nv-log",
            "logs",
            _training_log_build,
            lambda folder: _benchmark(folder) / "result_0.txt",
            lambda target: ["logs", "check", target],
            ("text", "text-out", "json", "junit"),
        ),
        Seed(
            "nv-rcp",
            "rcp",
            _rcp_build,
            _benchmark,
            lambda t: ["rcp", "check", t],
            ("text", "text-out", "json", "html"),
        ),
    )
}


def corpus_present() -> bool:
    """Whether the shared corpus the seeds come from is beside the repository."""
    return INFERENCE.is_dir() and TRAINING.is_dir()


# --- edits ----------------------------------------------------------------------------------------------


def _files(root: Path, pattern: str) -> list[Path]:
    return sorted(p for p in root.rglob(pattern) if p.is_file())


def _one(root: Path, pattern: str, contains: str = "") -> Path:
    return next(p for p in _files(root, pattern) if contains in str(p))


def _edit_text(path: Path, edit: Callable[[str], str]) -> None:
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    new = edit(text)
    if new == text:
        raise ValueError(f"the edit changed nothing in {path}")
    path.write_text(new, encoding="utf-8", errors="surrogateescape")


def _records(text: str, key: str) -> list[int]:
    lines = text.split("\n")
    found = [i for i, line in enumerate(lines) if f'"key": "{key}"' in line]
    if not found:
        raise ValueError(f"no {key} record")  # the harness reports a mutant it cannot write
    return found


def mllog_set(key: str, raw: str, which: int = -1, field_name: str = "value") -> Callable[[str], str]:
    """Set ``field_name`` of the ``which``-th record ``key`` to the raw JSON text ``raw``."""

    def edit(text: str) -> str:
        lines = text.split("\n")
        at = _records(text, key)[which]
        pattern = re.compile(
            rf'("{field_name}": )(-?[0-9.eE+]+|"(?:[^"\\]|\\.)*"|null|true|false|NaN|-?Infinity)'
        )
        lines[at] = pattern.sub(lambda m: m.group(1) + raw.replace("\\", "\\\\"), lines[at], count=1)
        return "\n".join(lines)

    return edit


def mllog_delete(key: str, which: int | None = None) -> Callable[[str], str]:
    """Delete every record ``key`` (or only the ``which``-th)."""

    def edit(text: str) -> str:
        lines, found = text.split("\n"), _records(text, key)
        drop = set(found if which is None else [found[which]])
        return "\n".join(line for i, line in enumerate(lines) if i not in drop)

    return edit


def mllog_duplicate(
    key: str, shift_ms: float | None = None, after: str | None = None
) -> Callable[[str], str]:
    """A second copy of record ``key``, its time ``shift_ms`` after ``after``'s record (or its own)."""

    def edit(text: str) -> str:
        lines = text.split("\n")
        at = _records(text, key)[0]
        copy = lines[at]
        anchor = _records(text, after)[0] if after else at
        if shift_ms is not None:
            base = float(re.search(r'"time_ms": ([0-9.eE+-]+)', lines[anchor]).group(1))
            copy = re.sub(r'"time_ms": [0-9.eE+-]+', f'"time_ms": {base + shift_ms:.0f}', copy, count=1)
        lines.insert(anchor + 1, copy)
        return "\n".join(lines)

    return edit


def mllog_move(key: str, after: str) -> Callable[[str], str]:
    """Move record ``key`` after the last record ``after`` (its time too)."""

    def edit(text: str) -> str:
        lines = text.split("\n")
        at = _records(text, key)[0]
        line = lines.pop(at)
        target = _records("\n".join(lines), after)[-1]
        when = re.search(r'"time_ms": ([0-9.eE+-]+)', lines[target]).group(1)
        line = re.sub(r'"time_ms": [0-9.eE+-]+', f'"time_ms": {float(when) + 1000:.0f}', line, count=1)
        lines.insert(target + 1, line)
        return "\n".join(lines)

    return edit


def summary_set(label: str, value: str) -> Callable[[str], str]:
    """Set the value of the summary line ``label : value``."""

    def edit(text: str) -> str:
        return re.sub(rf"(?m)^({re.escape(label)}\s*:\s*).*$", lambda m: m.group(1) + value, text, count=1)

    return edit


def json_set(key: str, value) -> Callable[[str], str]:
    def edit(text: str) -> str:
        data = json.loads(text)
        data[key] = value
        return json.dumps(data, indent=4)

    return edit


def replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, count)


def regex(pattern: str, new: str) -> Callable[[str], str]:
    return lambda text: re.sub(pattern, new, text, count=1)


def rename_everywhere(root: Path, old: str, new: str) -> None:
    """Rename every file or folder whose name is or contains ``old`` (a system or model), bottom-up."""
    paths = sorted((p for p in root.rglob("*") if old in p.name), key=lambda p: len(p.parts), reverse=True)
    if not paths:
        raise ValueError(f"no {old} under {root}")
    for path in paths:
        path.rename(path.with_name(path.name.replace(old, new)))


def move_division(root: Path, division: str) -> None:
    org = _org(root)
    target = org.parent.parent / division / org.name
    target.parent.mkdir(parents=True)
    org.rename(target)
    for path in (target / "systems").glob("*.json"):
        _edit_text(path, json_set("division", division))


# --- the catalogue --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """One meaningful edit of one seed and the verdict it must get."""

    name: str
    seed: str
    klass: str  # edit-copy, delete, non-finite, huge, boundary, duplicate, move, name, hostile-string, argv
    expect: str
    edit: Callable[[Path], None]
    hostile: bool = False
    glob_argv: bool = False  # the files are passed as a shell's `*` would, from inside the folder
    reason: str = ""

    @property
    def reader(self) -> str:
        return SEEDS[self.seed].reader

    @property
    def label(self) -> str:
        return f"{self.seed}/{self.klass}/{self.name}"


def _file_edit(pattern: str, edit, contains: str = "", every: bool = False) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        paths = [p for p in _files(root, pattern) if contains in str(p)]
        if not paths:
            raise ValueError(f"no {pattern} ({contains}) under {root}")
        for path in paths if every else paths[:1]:
            _edit_text(path, edit)

    return apply


def _delete(pattern: str, contains: str = "") -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = _one(root, pattern, contains)
        path.unlink()

    return apply


def _write(pattern: str, data: str, contains: str = "") -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        _one(root, pattern, contains).write_text(data)

    return apply


def _cut(pattern: str, contains: str, fraction: int) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = _one(root, pattern, contains)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // fraction])

    return apply


def _first_entries(pattern: str, contains: str, count: int) -> Callable[[Path], None]:
    """Keep the first ``count`` entries of a LoadGen accuracy log (one entry a line)."""

    def apply(root: Path) -> None:
        path = _one(root, pattern, contains)
        entries = [line.rstrip(",") for line in path.read_text().splitlines() if line.startswith("{")]
        path.write_text("[\n" + ",\n".join(entries[:count]) + "\n]\n")

    return apply


def _both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for edit in edits:
            edit(root)

    return apply


PERF = "performance/run_1"
ACC = "/accuracy/"


def _inference_mutants(seed: str) -> list[Mutant]:
    m: list[Mutant] = []
    add = lambda name, klass, expect, edit, **kw: m.append(Mutant(name, seed, klass, expect, edit, **kw))  # noqa: E731

    def det(edit, part=f"Offline/{PERF}"):
        return _scored(edit, part)

    def _scored(edit, part):
        def apply(root: Path) -> None:
            path = next(
                p for p in _files(root, "mlperf_log_detail.txt") if "/results/" in str(p) and part in str(p)
            )
            _edit_text(path, edit)

        return apply

    def summ(edit, part=f"Offline/{PERF}"):
        def apply(root: Path) -> None:
            path = next(
                p for p in _files(root, "mlperf_log_summary.txt") if "/results/" in str(p) and part in str(p)
            )
            _edit_text(path, edit)

        return apply

    # the score: one copy edited, non-finite, huge, deleted
    add(
        "score-detail-x2",
        "edit-copy",
        MUST_NOT_CONFORM,
        det(mllog_set("result_samples_per_second", "9999.5")),
        reason="detail score doubled, summary and TEST04 unchanged: copies disagree",
    )
    add(
        "score-summary-x2",
        "edit-copy",
        MUST_NOT_CONFORM,
        summ(regex(r"(?m)^(Samples per second\s*:\s*).*$", r"\g<1>9999.5")),
        reason="summary score edited, detail unchanged: copies disagree",
    )
    add(
        "score-detail-inf",
        "non-finite",
        MUST_NOT_CONFORM,
        det(mllog_set("result_samples_per_second", "1e999")),
        reason="1e999 samples/s is infinity",
    )
    add(
        "score-both-inf",
        "non-finite",
        MUST_NOT_CONFORM,
        _both(
            det(mllog_set("result_samples_per_second", "1e999")),
            summ(regex(r"(?m)^(Samples per second\s*:\s*).*$", r"\g<1>inf")),
        ),
        reason="infinite score in both copies",
    )
    add(
        "score-detail-nan", "non-finite", MUST_NOT_CONFORM, det(mllog_set("result_samples_per_second", "NaN"))
    )
    add(
        "score-detail-huge",
        "huge",
        MUST_NOT_CONFORM,
        det(mllog_set("result_samples_per_second", "1e300")),
        reason="1e300 samples/s in the detail, the summary disagrees",
    )
    add("score-detail-deleted", "delete", MUST_NOT_CONFORM, det(mllog_delete("result_samples_per_second")))
    add(
        "score-detail-string",
        "edit-copy",
        MUST_NOT_CONFORM,
        det(mllog_set("result_samples_per_second", '"fast"')),
    )
    # validity
    add(
        "validity-detail-invalid",
        "boundary",
        MUST_NOT_CONFORM,
        det(mllog_set("result_validity", '"INVALID"')),
    )
    add(
        "validity-summary-invalid",
        "edit-copy",
        MUST_NOT_CONFORM,
        summ(summary_set("Result is", "INVALID")),
        reason="the summary says INVALID, the detail VALID",
    )
    add("validity-detail-deleted", "delete", MUST_NOT_CONFORM, det(mllog_delete("result_validity")))
    add("early-stopping-false", "boundary", MUST_NOT_CONFORM, det(mllog_set("early_stopping_met", "false")))
    add(
        "min-duration-false", "boundary", MUST_NOT_CONFORM, det(mllog_set("result_min_duration_met", "false"))
    )
    # settings
    add(
        "min-duration-short",
        "boundary",
        MUST_NOT_CONFORM,
        det(mllog_set("effective_min_duration_ms", "59999")),
        reason="a 60 s run where the round asks for 600 s",
    )
    add(
        "min-duration-nan", "non-finite", MUST_NOT_CONFORM, det(mllog_set("effective_min_duration_ms", "NaN"))
    )
    add("min-duration-deleted", "delete", MUST_NOT_CONFORM, det(mllog_delete("effective_min_duration_ms")))
    add(
        "sample-index-seed-wrong",
        "edit-copy",
        MUST_NOT_CONFORM,
        det(mllog_set("effective_sample_index_rng_seed", "1")),
        reason="not the round's seed",
    )
    add("qsl-seed-deleted", "delete", MUST_NOT_CONFORM, det(mllog_delete("effective_qsl_rng_seed")))
    add(
        "loadgen-version-old",
        "boundary",
        MUST_NOT_CONFORM,
        det(mllog_set("loadgen_version", '"4.0.0 @ 50de99161e"')),
        reason="a LoadGen of another round",
    )
    add("loadgen-version-deleted", "delete", MUST_NOT_CONFORM, det(mllog_delete("loadgen_version")))
    add(
        "performance-count-small",
        "boundary",
        MUST_NOT_CONFORM,
        det(mllog_set("effective_performance_sample_count", "1")),
    )
    add(
        "performance-count-huge",
        "huge",
        MUST_NOT_CONFORM,
        det(mllog_set("qsl_reported_performance_count", "1e999")),
    )
    add(
        "test-mode-accuracy",
        "edit-copy",
        MUST_NOT_CONFORM,
        det(mllog_set("effective_test_mode", '"AccuracyOnly"')),
    )
    add(
        "scenario-record-server",
        "edit-copy",
        MUST_NOT_CONFORM,
        det(mllog_set("effective_scenario", '"Server"')),
        reason="a Server run filed under Offline",
    )
    add("errors-logged", "boundary", MUST_NOT_CONFORM, det(mllog_set("num_errors", "3")))
    # the accuracy run
    add(
        "acc-subset-queries",
        "boundary",
        MUST_NOT_CONFORM,
        det(mllog_set("generated_samples_per_query", "10"), part="Offline/accuracy"),
        reason="an accuracy run over a subset",
    )
    add(
        "acc-query-count-deleted",
        "delete",
        MUST_NOT_CONFORM,
        _both(
            det(mllog_set("generated_samples_per_query", "10"), part="Offline/accuracy"),
            det(mllog_delete("generated_query_count"), part="Offline/accuracy"),
        ),
        reason="a subset, with generated_query_count deleted (issue 25 #4)",
    )
    add(
        "acc-detail-deleted", "delete", MUST_NOT_CONFORM, _delete("mlperf_log_detail.txt", "Offline/accuracy")
    )
    # the published accuracy logs are already cut by the official truncation tool (a few entries and the
    # full log's hash in accuracy.txt): cutting or subsetting them again decides nothing by itself
    add(
        "acc-log-truncated",
        "delete",
        ANY_VERDICT,
        _cut("mlperf_log_accuracy.json", "/results/", 3),
        reason="accuracy log cut mid-entry: not JSON",
    )
    add(
        "acc-log-empty-list",
        "delete",
        MUST_NOT_CONFORM,
        _write("mlperf_log_accuracy.json", "[]\n", "Offline/accuracy"),
        reason="an accuracy run that logged no output at all",
    )
    add(
        "acc-log-subset",
        "boundary",
        ANY_VERDICT,
        _first_entries("mlperf_log_accuracy.json", "Offline/accuracy", 2),
    )
    add(
        "acc-txt-below-target",
        "boundary",
        MUST_NOT_CONFORM,
        _file_edit(
            "accuracy.txt",
            regex(r"(accuracy=|(?:CLIP|FID)_SCORE['\"]?:\s*['\"]?)([0-9.]+)", r"\g<1>5.0"),
            "/results/",
        ),
        reason="the accuracy file's score far below the target",
    )
    add(
        "acc-txt-inf",
        "non-finite",
        MUST_NOT_CONFORM,
        _file_edit(
            "accuracy.txt",
            regex(r"(accuracy=|(?:CLIP|FID)_SCORE['\"]?:\s*['\"]?)([0-9.]+)", r"\g<1>inf"),
            "/results/",
        ),
    )
    add("acc-txt-deleted", "delete", MUST_NOT_CONFORM, _delete("accuracy.txt", "/results/"))
    # compliance
    add(
        "test01-verify-fail",
        "boundary",
        MUST_NOT_CONFORM,
        _file_edit("verify_performance.txt", replace("TEST PASS", "TEST FAIL"), "TEST01"),
    )
    add(
        "test01-perf-score-x2",
        "edit-copy",
        MUST_NOT_CONFORM,
        _file_edit(
            "verify_performance.txt", regex(r"(?i)(test score = )([0-9.]+)", r"\g<1>9999.5"), "TEST01"
        ),
        reason="TEST01's verify file disagrees with its detail log",
    )
    if seed == "uf-whisper":  # TEST01's non-deterministic path: a baseline and a compliance accuracy
        add(
            "test01-compliance-acc-10",
            "boundary",
            MUST_NOT_CONFORM,
            _file_edit("compliance_accuracy.txt", regex(r"accuracy=([0-9.]+)", "accuracy=10.0"), "TEST01"),
            reason="TEST01: 10 % compliance accuracy against the baseline (issue 25 #1)",
        )
        add(
            "test01-accuracy-files-empty",
            "delete",
            MUST_NOT_CONFORM,
            _both(
                _write("compliance_accuracy.txt", "", "TEST01"), _write("baseline_accuracy.txt", "", "TEST01")
            ),
            reason="TEST01: two empty accuracy files (issue 25 #1)",
        )
    add(
        "test01-perf-inf",
        "non-finite",
        MUST_NOT_CONFORM,
        _both(
            _file_edit(
                "mlperf_log_detail.txt", mllog_set("result_samples_per_second", "1e999"), "TEST01/performance"
            ),
            _file_edit(
                "mlperf_log_detail.txt", mllog_set("result_samples_per_second", "1e999"), f"Offline/{PERF}"
            ),
        ),
        reason="inf within ±10 % of inf (issue 25 #5)",
    )
    add(
        "test01-detail-deleted",
        "delete",
        MUST_NOT_CONFORM,
        _delete("mlperf_log_detail.txt", "TEST01/performance"),
    )
    if seed == "uf-sdxl":
        add(
            "test04-summary-x2",
            "edit-copy",
            MUST_NOT_CONFORM,
            _file_edit(
                "mlperf_log_summary.txt",
                regex(r"(?m)^(Samples per second\s*:\s*)([0-9.]+)", r"\g<1>3.99057"),
                "Offline/TEST04",
            ),
            reason="TEST04 2.09x faster in the detail, the summary edited to hide it (issue 25 #2)",
        )
        add(
            "test04-faster-both",
            "boundary",
            MUST_NOT_CONFORM,
            _both(
                _file_edit(
                    "mlperf_log_detail.txt", mllog_set("result_samples_per_second", "8.34"), "Offline/TEST04"
                ),
                _file_edit(
                    "mlperf_log_summary.txt",
                    regex(r"(?m)^(Samples per second\s*:\s*).*$", r"\g<1>8.34"),
                    "Offline/TEST04",
                ),
                _file_edit(
                    "verify_performance.txt",
                    regex(r"(?i)(test score = )([0-9.]+)", r"\g<1>8.34"),
                    "Offline/TEST04",
                ),
            ),
            reason="TEST04 2.09x faster in every copy",
        )
        _inference_test04_first(m, seed)
        add(
            "test04-deleted",
            "delete",
            MUST_NOT_CONFORM,
            lambda root: shutil.rmtree(next(root.rglob("Offline/TEST04"))),
        )
    add(
        "scored-summary-moved",
        "edit-copy",
        MUST_NOT_CONFORM,
        summ(regex(r"(?m)^(Samples per second\s*:\s*)([0-9.]+)", r"\g<1>12345.6")),
        reason="the scored summary moved, the table shows the detail's (issue 25 #2)",
    )
    # names
    model = "whisper" if seed == "uf-whisper" else "stable-diffusion-xl"
    add(
        "model-cyrillic",
        "name",
        MUST_NOT_CONFORM,
        lambda root: rename_everywhere(
            _org(root), model, model.replace("p", "\u0440").replace("s", "\u0455", 1)
        ),
        reason="a model folder with a Cyrillic look-alike letter (issue 25 #3)",
    )
    add(
        "model-unknown",
        "name",
        MUST_NOT_CONFORM,
        lambda root: rename_everywhere(_org(root), model, model + "-tiny"),
    )
    add(
        "model-unknown-open-invalid",
        "name",
        MUST_NOT_CONFORM,
        _both(
            lambda root: rename_everywhere(_org(root), model, model + "-tiny"),
            lambda root: move_division(root, "open"),
            det(mllog_set("result_validity", '"INVALID"')),
        ),
        reason="open division, unknown model, INVALID run (issue 25 #3)",
    )
    add(
        "scenario-unknown",
        "name",
        MUST_NOT_CONFORM,
        lambda root: rename_everywhere(_org(root), "Offline", "Offline2"),
    )
    add(
        "scenario-lowercase",
        "name",
        KEEPS_VERDICT,
        lambda root: rename_everywhere(_org(root), "Offline", "offline"),
        reason="the official checker maps lower-case scenario folders (SCENARIO_MAPPING, v5.1.1:724-728)",
    )
    return m


def _inference_test04_first(m: list[Mutant], seed: str) -> None:
    """TEST04 2.09x faster in the detail only (the summary and verify file unchanged)."""
    m.append(
        Mutant(
            "test04-detail-x2",
            seed,
            "edit-copy",
            MUST_NOT_CONFORM,
            _file_edit(
                "mlperf_log_detail.txt", mllog_set("result_samples_per_second", "8.34"), "Offline/TEST04"
            ),
            reason="TEST04 2.09x faster in the detail log only",
        )
    )


#: edits of times, run boundaries and hyperparameters other than the batch size, which ``rcp check``
#: (samples to convergence, per batch size) need not judge
RCP_INDIFFERENT = {
    "run-stop-duplicated",
    "run-start-duplicated",
    "run-start-deleted",
    "run-start-after-stop",
    "run-stop-time-inf",
    "run-stop-time-nan",
    "run-stop-time-huge",
    "learning-rate-inf",  # a hyperparameter the RCP does not read
    # whether the evaluations reach the target, and the division, are the log checks' (the package and log
    # seeds carry these mutants too); the RCP test trusts run_stop's status, as mlperf-logging's does
    "eval-last-above-target",
    "eval-last-nan",
    "eval-last-inf",
    "target-loosened",
    "division-open",
}


#: edits one log's own rules accept (mlperf-logging's compliance checker too), which only a package's
#: rules forbid: an aborted run is a run that did not converge, counted against the package's allowance;
#: the seed is compared across a package's runs (5.1's common.yaml requires no seed record)
LOG_INDIFFERENT = {"run-stop-status-aborted", "seed-deleted"}


def _stop_at_first_evaluation(accuracy: str, samples: str) -> Callable[[str], str]:
    """The run's first evaluation reaches ``accuracy`` and the run stops there (``samples`` in run_stop)."""

    def edit(text: str) -> str:
        first = _records(text, "eval_accuracy")[0]
        lines = [line for i, line in enumerate(text.split("\n")) if i <= first or '"key": "eval_' not in line]
        text = mllog_set("eval_accuracy", accuracy, which=0)("\n".join(lines))
        return regex(r'("key": "run_stop".*?"samples_count": )[0-9]+', rf"\g<1>{samples}")(text)

    return edit


def _training_mutants(seed: str) -> list[Mutant]:
    """MLLOG records and names; for the package (every log or one), the single log, the RCP folder."""
    m: list[Mutant] = []
    every = seed != "nv-log"

    def log(edit, all_logs: bool | None = None):
        # a package's or a folder's every log: olympic scoring accepts one non-compliant log of a
        # benchmark (mlperf-logging's package checker, "accepting this under olympic scoring"), so a
        # single edited log must be reported and dropped from the score, not fail the benchmark
        return _file_edit("result_*.txt", edit, every=every if all_logs is None else all_logs)

    def add(name, klass, expect, edit, **kw):
        if seed == "nv-rcp" and name in RCP_INDIFFERENT:
            expect = ANY_VERDICT  # the RCP counts samples to convergence; times and boundaries are audit's
        if seed == "nv-log" and name in LOG_INDIFFERENT:
            expect = ANY_VERDICT  # one log's rules allow it; the package seed must not conform
        m.append(Mutant(name, seed, klass, expect, edit, **kw))

    add(
        "run-stop-duplicated",
        "duplicate",
        MUST_NOT_CONFORM,
        log(mllog_duplicate("run_stop", 60_000, after="run_start")),
        reason="a second run_stop one minute after run_start (issue 25 #6)",
    )
    add("run-start-duplicated", "duplicate", MUST_NOT_CONFORM, log(mllog_duplicate("run_start", 600_000)))
    add("run-stop-deleted", "delete", MUST_NOT_CONFORM, log(mllog_delete("run_stop")))
    add("run-start-deleted", "delete", MUST_NOT_CONFORM, log(mllog_delete("run_start")))
    add("run-start-after-stop", "move", MUST_NOT_CONFORM, log(mllog_move("run_start", "run_stop")))
    add(
        "run-stop-time-inf",
        "non-finite",
        MUST_NOT_CONFORM,
        log(mllog_set("run_stop", "1e999", field_name="time_ms")),
    )
    add(
        "run-stop-time-nan",
        "non-finite",
        MUST_NOT_CONFORM,
        log(mllog_set("run_stop", "NaN", field_name="time_ms")),
    )
    add(
        "run-stop-time-huge",
        "huge",
        MUST_NOT_CONFORM,
        log(mllog_set("run_stop", "1e30", field_name="time_ms")),
        reason="a run of 1e30 ms is over any time limit",
    )
    add(
        "run-stop-status-aborted",
        "boundary",
        MUST_NOT_CONFORM,
        log(regex(r'"status": "success"', '"status": "aborted"'), all_logs=every),
    )
    add(
        "eval-last-above-target",
        "boundary",
        MUST_NOT_CONFORM,
        log(mllog_set("eval_accuracy", "5.61"), all_logs=every),
        reason="the last evaluation misses the target 5.6 (lower is better)",
    )
    add("eval-all-deleted", "delete", MUST_NOT_CONFORM, log(mllog_delete("eval_accuracy"), all_logs=every))
    add(
        "eval-last-nan",
        "non-finite",
        MUST_NOT_CONFORM,
        log(mllog_set("eval_accuracy", "NaN"), all_logs=every),
    )
    add(
        "eval-last-inf",
        "non-finite",
        MUST_NOT_CONFORM,
        log(mllog_set("eval_accuracy", "-Infinity"), all_logs=every),
    )
    add(
        "target-loosened",
        "edit-copy",
        MUST_NOT_CONFORM,
        _both(
            log(mllog_set("eval_accuracy", "5.65"), all_logs=every),
            log(mllog_set("target_accuracy", "6.0"), all_logs=every),
        ),
        reason="misses the round's target, with the logged target loosened to 6.0",
    )
    add(
        "batch-size-nan",
        "non-finite",
        MUST_NOT_CONFORM,
        log(mllog_set("global_batch_size", "NaN"), all_logs=every),
    )
    add(
        "batch-size-deleted",
        "delete",
        MUST_NOT_CONFORM,
        log(mllog_delete("global_batch_size"), all_logs=every),
    )
    add(
        "learning-rate-inf",
        "non-finite",
        MUST_NOT_CONFORM,
        log(mllog_set("opt_base_learning_rate", "1e999"), all_logs=every),
    )
    add("seed-deleted", "delete", MUST_NOT_CONFORM, log(mllog_delete("seed"), all_logs=every))
    add(
        "division-open",
        "edit-copy",
        MUST_NOT_CONFORM,
        _both(
            log(mllog_set("submission_division", '"open"'), all_logs=every),
            log(mllog_set("eval_accuracy", "5.65"), all_logs=every),
        ),
        reason="a log that misses its target, its division edited to open",
    )
    add(
        "benchmark-other",
        "edit-copy",
        MUST_NOT_CONFORM,
        log(mllog_set("submission_benchmark", '"llama2_70b_lora"'), all_logs=every),
    )
    add(
        "benchmark-deleted",
        "delete",
        MUST_NOT_CONFORM,
        log(mllog_delete("submission_benchmark"), all_logs=every),
    )
    if seed != "nv-log":
        add(
            "converges-fast",
            "boundary",
            MUST_NOT_CONFORM,
            log(_stop_at_first_evaluation("5.59", "276480"), all_logs=True),
            reason="every run stops at its first evaluation, on target: faster than the RCP allows",
        )
        add(
            "batch-size-other",
            "boundary",
            MUST_NOT_CONFORM,
            log(mllog_set("global_batch_size", "4096"), all_logs=True),
            reason="a batch size with no RCP",
        )
        add(
            "one-run-only",
            "delete",
            MUST_NOT_CONFORM,
            lambda root: [p.unlink() for p in _files(root, "result_*.txt")[1:]] and None,
        )
        add(
            "run-copied",
            "duplicate",
            MUST_NOT_CONFORM,
            lambda root: shutil.copy(
                _files(root, "result_0.txt")[0], _files(root, "result_0.txt")[0].with_name("result_3.txt")
            ),
            reason="one run submitted twice under another number",
        )
        add(
            "result-names-with-id",
            "name",
            KEEPS_VERDICT,
            lambda root: (
                [
                    p.rename(p.with_name(f"result_theia_{p.stem.split('_')[1]}.txt"))
                    for p in _files(root, "result_*.txt")
                ]
                and None
            ),
            reason="result_<id>_<n>.txt names (published v4.0 smc, v4.1 Lambda)",
        )
    if seed == "nv-package":
        add(
            "system-division-open",
            "edit-copy",
            MUST_NOT_CONFORM,
            _file_edit("*.json", json_set("division", "open"), "/systems/"),
        )
        add(
            "system-submitter-other",
            "edit-copy",
            MUST_NOT_CONFORM,
            _file_edit("*.json", json_set("submitter", "Other Corp"), "/systems/"),
        )
        add(
            "system-nodes-nan",
            "non-finite",
            MUST_NOT_CONFORM,
            _file_edit("*.json", json_set("number_of_nodes", "NaN"), "/systems/"),
        )
        add("system-deleted", "delete", MUST_NOT_CONFORM, _delete("*.json", "/systems/"))
        add(
            "status-spelling",
            "name",
            MUST_NOT_CONFORM,
            _file_edit("*.json", json_set("status", "Available on premise"), "/systems/"),
            reason="from v4.0 the system description checker takes only its four wordings of the status",
        )
        add(
            "benchmark-folder-unknown",
            "name",
            MUST_NOT_CONFORM,
            lambda root: rename_everywhere(root / "v5.1", "llama31_405b", "llama31_405c"),
        )
    if seed == "nv-log":
        add(
            "glob-division-option",
            "argv",
            MUST_NOT_CONFORM,
            _both(
                log(mllog_set("eval_accuracy", "5.65")),
                lambda root: (_benchmark(root) / "--division=open").write_text(""),
            ),
            glob_argv=True,
            reason="a file named --division=open passed by a shell glob (issue 25 #7)",
        )
        add(
            "glob-out-option",
            "argv",
            ANY_VERDICT,
            lambda root: (_benchmark(root) / "--out=result_0.txt").write_text(""),
            glob_argv=True,
            reason="a file named --out=result_0.txt must not overwrite the log (issue 25 #7)",
        )
    return m


def _string_fields(seed: str) -> list[tuple[str, str, Callable[[str], Callable[[Path], None]]]]:
    """(field, expectation, value -> edit) for every string field of a seed that reaches a report."""
    fields: list = []
    if SEEDS[seed].reader == "inference":
        system = "B200-SXM-180GBx8_TRT" if seed == "uf-whisper" else "B200-SXM-180GBx1_TRT"
        fields += [
            (
                "system-folder",
                KEEPS_VERDICT,
                lambda v: lambda root: rename_everywhere(_org(root), system, system + v),
            ),
        ]
        if seed == "uf-whisper":  # a hostile model or scenario name is unknown to the round as well
            fields += [
                (
                    "model-folder",
                    MUST_NOT_CONFORM,
                    lambda v: lambda root: rename_everywhere(_org(root), "whisper", "whisper" + v),
                ),
                (
                    "scenario-folder",
                    MUST_NOT_CONFORM,
                    lambda v: lambda root: rename_everywhere(_org(root), "Offline", "Offline" + v),
                ),
            ]
        fields += [
            (
                "loadgen-version",
                ANY_VERDICT,
                lambda v: _file_edit(
                    "mlperf_log_detail.txt",
                    mllog_set("loadgen_version", json.dumps(v)),
                    "/results/",
                    every=True,
                ),
            ),
            (
                "sut-name",
                ANY_VERDICT,
                lambda v: _file_edit(
                    "mlperf_log_detail.txt", mllog_set("sut_name", json.dumps(v)), "/results/", every=True
                ),
            ),
            (
                "validity",
                MUST_NOT_CONFORM,
                lambda v: _file_edit(
                    "mlperf_log_detail.txt", mllog_set("result_validity", json.dumps(v)), PERF
                ),
            ),
            (
                "system-name-json",
                ANY_VERDICT,
                lambda v: _file_edit("*.json", json_set("system_name", v), "/systems/"),
            ),
            (
                "submitter-json",
                ANY_VERDICT,
                lambda v: _file_edit("*.json", json_set("submitter", v), "/systems/"),
            ),
            (
                "measurements-json",
                ANY_VERDICT,
                lambda v: _file_edit(
                    "*.json", json_set("weight_transformations", v), "/measurements/", every=True
                ),
            ),
        ]
    else:
        fields += [
            (
                "system-folder",
                KEEPS_VERDICT,
                lambda v: (
                    lambda root: rename_everywhere(root / "v5.1", "theia_ngpu512_ngc25.09_nemo", "theia" + v)
                ),
            ),
            (
                "org-log",
                ANY_VERDICT,
                lambda v: _file_edit("result_*.txt", mllog_set("submission_org", json.dumps(v)), every=True),
            ),
            (
                "platform-log",
                ANY_VERDICT,
                lambda v: _file_edit(
                    "result_*.txt", mllog_set("submission_platform", json.dumps(v)), every=True
                ),
            ),
            (
                "status-log",
                ANY_VERDICT,
                lambda v: _file_edit(
                    "result_*.txt", mllog_set("submission_status", json.dumps(v)), every=True
                ),
            ),
            (
                "benchmark-log",
                MUST_NOT_CONFORM,
                lambda v: _file_edit(
                    "result_*.txt", mllog_set("submission_benchmark", json.dumps(v)), every=True
                ),
            ),
            (
                "division-log",
                ANY_VERDICT if seed == "nv-rcp" else MUST_NOT_CONFORM,  # the RCP test reads no division
                lambda v: _file_edit(
                    "result_*.txt", mllog_set("submission_division", json.dumps(v)), every=True
                ),
            ),
        ]
        if seed == "nv-package":
            fields += [
                (
                    "system-name-json",
                    ANY_VERDICT,
                    lambda v: _file_edit("*.json", json_set("system_name", v), "/systems/"),
                ),
                (
                    "framework-json",
                    ANY_VERDICT,
                    lambda v: _file_edit("*.json", json_set("framework", v), "/systems/"),
                ),
            ]
    return fields


def _hostile_mutants(seed: str) -> list[Mutant]:
    found = []
    for field_name, expect, make in _string_fields(seed):
        is_name = field_name.endswith("-folder")
        for name, text in NAME_HOSTILE if is_name else HOSTILE:
            if not is_name and name == "non-utf8":
                continue
            found.append(
                Mutant(f"{field_name}:{name}", seed, "hostile-string", expect, make(text), hostile=True)
            )
        if is_name:
            continue
    return found


def catalogue() -> list[Mutant]:
    """Every mutant in a fixed order: per seed its identity (it must conform), edits, hostile strings."""
    found: list[Mutant] = []
    for seed in SEEDS:
        found.append(Mutant("identity", seed, "identity", KEEPS_VERDICT, lambda root: None))
        found += _inference_mutants(seed) if SEEDS[seed].reader == "inference" else _training_mutants(seed)
        found += _hostile_mutants(seed)
    return found


def combinations(count: int, seed: int = 25) -> list[Mutant]:
    """``count`` seeded pairs of edits of the same seed; must-not-conform if either is, else any-verdict."""
    rng = random.Random(seed)
    pool = [mutant for mutant in catalogue() if mutant.klass not in ("identity", "argv")]
    found = []
    for index in range(count):
        first = rng.choice(pool)
        second = rng.choice([m for m in pool if m.seed == first.seed and m is not first])
        expect = MUST_NOT_CONFORM if MUST_NOT_CONFORM in (first.expect, second.expect) else ANY_VERDICT
        if first.expect == second.expect == KEEPS_VERDICT:
            expect = KEEPS_VERDICT
        found.append(
            Mutant(
                f"{index}:{first.name}+{second.name}",
                first.seed,
                "combination",
                expect,
                _both(first.edit, second.edit),
                hostile=first.hostile or second.hostile,
            )
        )
    return found


# --- running a mutant -----------------------------------------------------------------------------------

EXTENSIONS = {"text-out": "txt", "json": "json", "markdown": "md", "junit": "xml", "html": "html"}


def _mutant_folder(path: Path) -> Path:
    for folder in (path, *path.parents):
        if (folder / "seed").is_file():
            return folder
    raise ValueError(f"{path} is not inside a mutant")


def _run(argv: list) -> int:
    """In the harness's child: the command once per format; a summary line on stdout; the worst exit code."""
    spec = json.loads(argv[1])
    outputs = Path(spec["outputs"])
    outputs.mkdir(parents=True, exist_ok=True)
    if spec.get("cwd"):
        os.chdir(spec["cwd"])
    codes: dict[str, int] = {}
    saved = os.dup(1), os.dup(2)
    # as the real command: Python's streams on file descriptors 1 and 2 (under pytest they are its capture)
    for name, fd in (("stdout", 1), ("stderr", 2)):
        if getattr(sys, name) is not getattr(sys, f"__{name}__"):
            real = getattr(sys, f"__{name}__")
            stream = open(fd, "w", encoding=real.encoding, errors=real.errors, closefd=False)  # noqa: SIM115
            setattr(sys, name, stream)
    for form in spec["formats"]:
        args = list(spec["args"])
        if form in ("text", "text-out"):
            args += ["-f", "text"]
        else:
            args += ["-f", form]
        if form != "text":
            args += ["--out", str(outputs / f"report.{EXTENSIONS[form]}")]
        sys.stdout.flush()
        sys.stderr.flush()
        for stream, name in ((1, f"stdout.{form}"), (2, f"stderr.{form}")):
            handle = os.open(outputs / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(handle, stream)
            os.close(handle)
        try:
            codes[form] = cli(args)
        except BaseException as exc:  # the command escaped its own handler: an internal error
            print(f"{type(exc).__name__}: {exc}"[:300], file=sys.stderr)
            codes[form] = 4
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
    first = spec["formats"][0]
    os.write(2, (outputs / f"stderr.{first}").read_bytes()[:100_000])
    os.write(1, ("\n" + json.dumps({"semantic": {"codes": codes, "outputs": str(outputs)}}) + "\n").encode())
    return 4 if 4 in codes.values() else max(codes.values(), key=lambda c: (c not in (0, 1, 2, 3), c))


# --- judging a mutant -----------------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_VERDICT_LINE = re.compile(r"(?m)^\s*Verdict:")
VERDICT_OF_CODE = {0: "conforms", 1: "violates", 2: "needs_review"}


def judge(mutant: Mutant, codes: dict[str, int], outputs: Path) -> dict[str, list[str]]:
    """What is wrong with one mutant's run: {column: [reasons]} (empty when it kept every promise)."""
    wrong: dict[str, list[str]] = {}

    def note(column: str, reason: str) -> None:
        wrong.setdefault(column, []).append(reason)

    for form, code in codes.items():
        if mutant.expect == MUST_NOT_CONFORM and code == 0:
            note("judged conforms", f"{form}: exit 0")
        if mutant.expect == KEEPS_VERDICT and code not in (0, 4):
            kinds = _problem_kinds(outputs / "report.json")
            if kinds is None or kinds - NAME_KINDS:
                note("verdict changed", f"{form}: exit {code}, the seed conforms ({sorted(kinds or [])[:4]})")
        if code not in (0, 1, 2, 3):
            note("exit 4", f"{form}: exit {code}: {_last_line(outputs / f'stderr.{form}')}")
    verdicts = {c for c in codes.values() if c != 4}
    if len(verdicts) > 1:
        note("formats disagree", ", ".join(f"{f} {c}" for f, c in codes.items()))
    for form in codes:
        files = [outputs / f"stdout.{form}"]
        if form != "text":
            files.append(outputs / f"report.{EXTENSIONS[form]}")
        for path in files:
            if not path.exists() or (path.name.startswith("stdout.") and form != "text"):
                continue
            _check_file(mutant, form, path, codes[form], note)
    return wrong


#: findings a strange but harmless file name may rightly get: the verdict is kept "in substance"
NAME_KINDS = {"submission.hygiene"}


def _problem_kinds(report: Path) -> set[str] | None:
    """The kinds of every finding that is not a pass in a JSON report, or None without a readable one."""
    try:
        data = json.loads(report.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    kinds, stack = set(), [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("outcome") in ("forbidden", "needs_review") and isinstance(node.get("kind"), str):
                kinds.add(node["kind"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return kinds


def _last_line(path: Path) -> str:
    lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return lines[-1][:200] if lines else "(nothing on stderr)"


def _check_file(mutant: Mutant, form: str, path: Path, code: int, note) -> None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        note("bad output", f"{path.name}: not UTF-8 ({exc.reason} at {exc.start})")
        text = data.decode("utf-8", errors="replace")
    controls = _CONTROL.findall(text)
    if controls:
        note(
            "raw control",
            f"{path.name}: {len(controls)} raw control characters "
            f"({sorted({hex(ord(c)) for c in controls})[:6]})",
        )
    if code in (0, 1, 2) and form == "json":
        try:
            json.loads(
                text, parse_constant=lambda token: (_ for _ in ()).throw(ValueError(f"{token} is not JSON"))
            )
        except ValueError as exc:
            note("bad output", f"{path.name}: {str(exc)[:120]}")
    if form == "junit" and code in (0, 1, 2):
        try:
            ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            note("bad output", f"{path.name}: JUnit does not parse ({exc})")
    if form in ("text", "text-out") and code in (0, 1, 2) and SEEDS[mutant.seed].reader != "logs":
        verdict_lines = _VERDICT_LINE.findall(text)
        if len(verdict_lines) > 1:
            note("fake verdict", f"{path.name}: {len(verdict_lines)} lines start with 'Verdict:'")
        real = re.findall(r"(?m)^Verdict: (\w+)", text)
        if real and real[-1] != VERDICT_OF_CODE.get(code, real[-1]):
            note("fake verdict", f"{path.name}: the last Verdict line says {real[-1]}, exit {code}")
    if form == "html" and re.search(r"<pre|white-space:\s*pre", text):
        note("bad output", f"{path.name}: preformatted text, where a submitted newline would start a line")
    # in HTML outside <pre> a newline is white space: a browser shows no line of its own
    lines = [] if form == "html" else text.replace("\r", "\n").split("\n")
    for before, line in itertools.pairwise(lines):
        if "PWN" in before and re.match(r"\s*Verdict: conforms", line):
            note(
                "fake verdict",
                f"{path.name}: a submitted string prints 'Verdict: conforms' on a line of its own",
            )
            break
    if not mutant.hostile or "PWN" not in text:
        return
    field_name, kind = mutant.name.rsplit(":", 1)
    literal = RICH_LITERAL.get(kind)
    if literal is not None and field_name.endswith("-folder"):
        literal = literal.replace("/", "")  # a name cannot hold "/" (NAME_HOSTILE)
    if form in ("text", "text-out") and literal is not None and literal not in text:
        note("live markup", f"{path.name}: console markup {literal!r} consumed")
    if form == "markdown":
        for line in text.split("\n"):
            if "PWN" not in line and not line.startswith("# heading"):
                continue
            live = [token for token in LIVE_MARKDOWN if _unescaped(token, line)]
            if line.startswith("# heading"):
                live.append("a heading from a newline")
            if "PWN|cell" in line and line.lstrip().startswith("|"):
                live.append("a table cell from '|'")
            if live:
                note("live markup", f"{path.name}: {', '.join(live)}")
                break
    if form == "html":
        live = [token for token in LIVE_HTML if token in text]
        if live:
            note("live markup", f"{path.name}: {', '.join(live)}")


def _unescaped(token: str, line: str) -> bool:
    """Whether ``token`` occurs in Markdown ``line`` with its first character not backslash-escaped."""
    return re.search(r"(?<!\\)" + re.escape(token), line) is not None


# --- the campaign through the harness -------------------------------------------------------------------


def build_seeds(work: Path) -> dict[str, Path]:
    """Every seed written under ``work/seeds``; name -> folder."""
    found = {}
    for name, seed in SEEDS.items():
        folder = work / "seeds" / name
        if not folder.exists():
            folder.mkdir(parents=True)
            seed.build(folder)
        found[name] = folder
    return found


@dataclass
class Result:
    """A mutant's outcome: its harness outcome and what the judge found."""

    mutant: Mutant
    outcome: object = None
    codes: dict = field(default_factory=dict)
    wrong: dict = field(default_factory=dict)

    def columns(self) -> set[str]:
        found = {"mutants", *self.wrong}
        harness = self.outcome.columns() if self.outcome is not None else set()
        if self.outcome is not None and self.outcome.stderr.startswith("harness:"):
            found.add("other")  # the catalogue could not write this mutant: not parity's exit 4
        elif "exit 4" in harness:
            found.add("exit 4")
        if "modified" in harness:
            found.add("modified")
        if harness & {"over time", "over memory", "escapes", "multi-line"}:
            found.add("other")
        return found

    def failed(self) -> bool:
        return bool(self.columns() - {"mutants"})

    def reasons(self) -> str:
        parts = [f"{column}: {'; '.join(reasons[:2])}" for column, reasons in self.wrong.items()]
        harness = (
            self.outcome.columns() - {"tried", "verdict", "clean error", "bad output"}
            if self.outcome
            else set()
        )
        if harness - set(self.wrong):
            stderr = self.outcome.stderr.strip().splitlines() if self.outcome else []
            parts.append(f"harness: {sorted(harness)} {stderr[-1][:200] if stderr else ''}")
        return " | ".join(parts)


def _loader(mutant: Mutant, seed_folder: Path, results: dict[str, Result]) -> Loader:
    seed = SEEDS[mutant.seed]

    def mutate(seed_path: Path, folder: Path, rng: random.Random) -> Path:
        _copy_seed(seed_path, folder)
        mutant.edit(folder)
        return seed.target(folder)

    def arguments(target: Path, rng: random.Random) -> list:
        folder = _mutant_folder(target)
        args = seed.command(target)
        cwd = ""
        if mutant.glob_argv:  # as `parity logs check *` in the log's folder
            cwd = str(target.parent)
            args = [*args[:-1], *sorted(p.name for p in target.parent.iterdir())]
        spec = {
            "args": [str(a) for a in args],
            "formats": list(
                seed.formats if (mutant.hostile or mutant.klass == "identity") else ("text", "json")
            ),
            "outputs": str(folder.parent / f"{folder.name}.outputs"),
            "cwd": cwd,
        }
        return ["__semantic__", json.dumps(spec)]

    def check_output(out: Path, code) -> str:
        text = out.read_text(errors="replace") if out.exists() else ""
        line = next((x for x in reversed(text.splitlines()) if x.startswith('{"semantic"')), "")
        result = results[mutant.label]
        if not line:
            result.wrong = {"exit 4": ["no summary from the child"]}
            return "no summary"
        data = json.loads(line)["semantic"]
        result.codes = {k: int(v) for k, v in data["codes"].items()}
        result.wrong = judge(mutant, result.codes, Path(data["outputs"]))
        # a non-empty answer makes the harness keep the mutant, its output and a .problem report
        return "; ".join(f"{column}: {reasons[0]}" for column, reasons in result.wrong.items())[:500]

    return Loader(mutant.label, [seed_folder], mutate, arguments, run=_run, check_output=check_output)


def run_mutants(mutants: list[Mutant], work: Path, jobs: int = 2, on_result=None) -> list[Result]:
    """Every mutant through the harness; failing ones keep their folder, outputs and report."""
    from fuzz.harness import run_campaign

    seeds = build_seeds(work)
    results = {mutant.label: Result(mutant) for mutant in mutants}
    loaders = [_loader(mutant, seeds[mutant.seed], results) for mutant in mutants]

    def on_row(outcome) -> None:
        result = results[outcome.loader]
        result.outcome = outcome
        folder = Path(outcome.folder)
        outputs = folder.parent / f"{folder.name}.outputs"
        if result.failed():
            (work / "reports").mkdir(exist_ok=True)
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", outcome.loader)
            (work / "reports" / f"{safe}.semantic.json").write_text(
                json.dumps(
                    {
                        "mutant": outcome.loader,
                        "codes": result.codes,
                        "wrong": result.wrong,
                        "folder": str(folder),
                        "outputs": str(outputs),
                        "reason": result.mutant.reason,
                    },
                    indent=1,
                )
            )
        else:
            if outputs.exists():
                remove_tree(outputs)
            if folder.exists():
                remove_tree(folder)
        if on_result is not None:
            on_result(result)

    run_campaign(loaders, 1, work, jobs=jobs, on_row=on_row)
    return [results[mutant.label] for mutant in mutants]


@dataclass
class _Recorded:
    """A harness outcome read back from a campaign's folder."""

    found: set
    stderr: str = ""

    def columns(self) -> set[str]:
        return self.found


def results_from(*works: Path) -> list[Result]:
    """The results of earlier campaigns, read back from their folders; a later folder's run of a mutant
    replaces an earlier one (re-run a subset after a fix, then build the table of the whole)."""
    mutants = {mutant.label: mutant for mutant in catalogue()}
    found: dict[str, Result] = {}
    for work in works:
        for rows in sorted((work / "reports").rglob("outcomes.jsonl")):
            for line in rows.read_text().splitlines():
                row = json.loads(line)
                mutant = mutants.get(row["loader"])
                if mutant is None:
                    continue  # no longer in the catalogue
                result = Result(mutant, _Recorded(set(row["columns"])))
                safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", row["loader"])
                semantic = work / "reports" / f"{safe}.semantic.json"
                if semantic.exists():
                    data = json.loads(semantic.read_text())
                    result.codes, result.wrong = data["codes"], data["wrong"]
                problem = work / "reports" / f"{row['loader']}-{row['index']}.problem"
                if problem.exists():
                    result.outcome.stderr = json.loads(problem.read_text()).get("stderr", "")
                found[mutant.label] = result
    return [found[label] for label in mutants if label in found]


def table(results: list[Result]) -> str:
    """Markdown: one row per reader x mutation class, the columns of ``COLUMNS``."""
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for result in results:
        key = (result.mutant.reader, result.mutant.klass)
        counts = rows.setdefault(key, dict.fromkeys(COLUMNS, 0))
        for column in result.columns():
            counts[column] += 1
    lines = ["| reader | class | " + " | ".join(COLUMNS) + " |", "|---|---" + "|---" * len(COLUMNS) + "|"]
    for (reader, klass), counts in sorted(rows.items()):
        lines.append(f"| {reader} | {klass} | " + " | ".join(str(counts[c]) for c in COLUMNS) + " |")
    total = dict.fromkeys(COLUMNS, 0)
    for counts in rows.values():
        for column in COLUMNS:
            total[column] += counts[column]
    lines.append("| **all** | | " + " | ".join(str(total[c]) for c in COLUMNS) + " |")
    return "\n".join(lines)
