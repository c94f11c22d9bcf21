"""The MLLOG parser on real and hostile input."""

import json
import tracemalloc

from parity.engines.logs.parser import parse


def _line(key, value, **metadata):
    return ":::MLLOG " + json.dumps(
        {
            "namespace": "",
            "time_ms": 1.0,
            "event_type": "POINT_IN_TIME",
            "key": key,
            "value": value,
            "metadata": metadata,
        }
    )


def test_prefixes_framework_output_and_physical_line_numbers(tmp_path):
    path = tmp_path / "result_0.txt"
    path.write_text(
        "\n".join(
            [
                "Starting training on 8 GPUs",
                "0: " + _line("submission_benchmark", "resnet"),
                "warning: something framework-ish",
                "[1,0]<stdout>: " + _line("global_batch_size", 3264),
                "2024-01-01 12:00:00 INFO " + _line("eval_accuracy", 0.76, epoch_num=35),
            ]
        )
        + "\n"
    )
    parsed = parse(path)
    assert [(e.key, e.line) for e in parsed.events] == [
        ("submission_benchmark", 2),
        ("global_batch_size", 4),
        ("eval_accuracy", 5),
    ]
    assert parsed.events[2].metadata == {"epoch_num": 35} and parsed.lines == 5 and not parsed.malformed


def test_malformed_records_are_entries_not_crashes(tmp_path):
    path = tmp_path / "result_0.txt"
    path.write_bytes(
        b"\n".join(
            [
                b":::MLLOG {not json",
                b":::MLLOG [1, 2, 3]",
                b':::MLLOG {"key": "x"}',
                b':::MLLOG {"key": 5, "value": 1}',
                b':::MLLOG {"key": "x", "value": 1, "metadata": "nope"}',
                b":::MLLOG \xff\xfe\x00\x01 binary",
                b"\x00\x01\x02 junk without the token \xff",
                _line("ok", 1).encode(),
            ]
        )
        + b"\n"
    )
    parsed = parse(path)
    problems = [(m.line, m.problem.split(" (")[0]) for m in parsed.malformed]
    assert [line for line, _ in problems] == [1, 2, 3, 4, 5, 6]
    assert "not valid JSON" in problems[0][1] and "not an object" in problems[1][1]
    assert [e.key for e in parsed.events] == ["ok"]


def test_a_gigabyte_without_newlines_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(1 << 30)  # sparse: one 1 GiB "line" of zero bytes
    tracemalloc.start()
    parsed = parse(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert parsed.events == [] and peak < 16 << 20
