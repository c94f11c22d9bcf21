"""Small, real MLLOG result logs written by tests (the format mlperf-logging and the corpus use)."""

import json


def record(key, value, time_ms, **metadata):
    """One `:::MLLOG` line."""
    return ":::MLLOG " + json.dumps({"key": key, "value": value, "time_ms": time_ms, "metadata": metadata})


def flux_run(path, samples, seed=None):
    """A flux1 result log at batch size 512 that converges after ``samples`` samples, logging ``seed``."""
    records = [
        record("submission_division", "closed", 1),
        record("submission_benchmark", "flux1", 2),
        record("global_batch_size", 512, 3),
        *([record("seed", seed, 4, file="train.py", lineno=42)] if seed is not None else []),
        record("run_start", None, 5),
        record("eval_accuracy", 0.5, 6, samples_count=samples),
        record("run_stop", None, 7, status="success"),
    ]
    path.write_text("\n".join(records) + "\n")


def flux_runs(folder, count=10, samples=8388608, seeds=None):
    """``count`` flux1 runs in ``folder`` (seeds 1..count unless given), converging at the RCP's pace."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = list(range(1, count + 1)) if seeds is None else seeds
    for index in range(count):
        flux_run(folder / f"result_{index}.txt", samples, seeds[index])
    return folder
