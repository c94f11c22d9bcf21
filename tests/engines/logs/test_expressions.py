"""The rule expression language evaluates what rules need and nothing else."""

import pytest

from parity.engines.logs.expressions import ExpressionError, compile_expression, evaluate


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("value <= 0.925 and value > 0.0", {"value": 0.92}, True),
        ("close(value * 1152, global_batch_size * 8e-5)", {"value": 8e-5, "global_batch_size": 1152}, True),
        ("value == ceil(8000 * 1152 / global_batch_size)", {"value": 4000, "global_batch_size": 2304}, True),
        (
            "timestamp - t_init_start < init_limit_ms",
            {"timestamp": 10.0, "t_init_start": 5.0, "init_limit_ms": 1800000},
            True,
        ),
        ("t_run_start is None or timestamp <= t_run_start", {"timestamp": 3.0, "t_run_start": None}, True),
        ("value in ['lars', 'sgd']", {"value": "adam"}, False),
        ("metadata['status'] == 'success'", {"metadata": {"status": "success"}}, True),
        ("is_integer(value / 0.02)", {"value": 0.04}, True),
        ("2 ** 10 if value else 0", {"value": True}, 1024),
    ],
)
def test_rules_evaluate(text, env, expected):
    assert evaluate(text, env) == expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch /tmp/pwned')",
        "value.__class__.__mro__",
        "open('/etc/passwd').read()",
        "[x for x in value]",
        "(lambda: 1)()",
        "globals()",
        "2 ** 10 ** 10",
        "x := 1",
    ],
)
def test_anything_else_is_rejected_before_it_runs(text):
    with pytest.raises(ExpressionError):
        evaluate(text, {"value": [1], "x": 1})


def test_missing_names_and_bad_types_are_expression_errors():
    with pytest.raises(ExpressionError, match="not logged"):
        evaluate("global_batch_size > 0", {})
    with pytest.raises(ExpressionError, match="TypeError"):
        evaluate("value <= 0.9", {"value": "NaN-as-text"})


def test_expressions_are_parsed_once():
    assert compile_expression("value > 1") is compile_expression("value > 1")
