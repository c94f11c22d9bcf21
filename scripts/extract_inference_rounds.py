"""Write parity's inference round data (YAML) from the official submission checker's constants.

Usage: python scripts/extract_inference_rounds.py GIT_DIR [--tag v5.1.1] [--file F] [--rounds 5.0,5.1]

The committed files came from two runs: v5.0 and v5.1 from the single-file checker at tag v5.1.1, and
v6.0 and v6.1 from the modular checker's ``constants.py`` at the mirror's HEAD (``--tag HEAD --file
tools/submission/submission_checker/constants.py --rounds 6.0,6.1 --config-file
tools/submission/submission_checker/configuration/configuration.py``); each file names its source.

The checker's rules are Python constants in one file. This reads that file at a tag with ``git show``
and walks its syntax tree; nothing of it is executed. Arithmetic in the constants (``76.46 * 0.99``) is
kept apart as the reference value and the fraction of it the target is, and every section records the
line it came from, so each fact in the YAML can be checked against its source.

Units: a reference value of at most 1 is a fraction, otherwise a percentage or a score on the metric's
own scale. What each accuracy script *prints* is the same unless :data:`PRINTED` says otherwise, with the
line of the script that shows it; where the two differ, the YAML says how parity converts, and the loader
(:mod:`parity.engines.loadgen.rounds`) refuses any mismatch that is not declared.
"""

from __future__ import annotations

import argparse
import ast
import operator
import subprocess
from pathlib import Path

import yaml

CHECKER = "tools/submission/submission_checker.py"
OUT_DIR = Path(__file__).parents[1] / "src" / "parity" / "engines" / "loadgen" / "data"
#: metrics whose accuracy script prints another unit than the checker's target, with the evidence
PRINTED = {
    ("rgat", "acc"): {
        "printed": "percent",
        "convert": 0.01,
        "printed_source": "graph/R-GAT/tools/accuracy_igbh.py:130 writes accuracy={100*good/total:.3f}%",
        "note": "the checker compares the printed percentage with a fraction target (0.7286 x 0.99), "
        "so any accuracy above 0.72% passes; parity converts the printed value to a fraction",
    },
}
_OPS = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Sub: operator.sub, ast.Div: operator.truediv}


def number(node: ast.AST) -> float | int:
    """A numeric constant expression (numbers and + - * /), evaluated without eval."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -number(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](number(node.left), number(node.right))
    raise ValueError(f"line {node.lineno}: not a numeric constant: {ast.unparse(node)}")


def plain(node: ast.AST):
    """A literal made of dicts, lists, tuples, strings and numeric expressions."""
    if isinstance(node, ast.Dict):
        return {plain(key): plain(value) for key, value in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.List | ast.Tuple):
        return [plain(item) for item in node.elts]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return number(node)


#: the fractions of a reference the rules set bounds at (99%, 99.9%, 90% and 110% of the reference)
FACTORS = (0.9, 0.99, 0.999, 1.1)


def target(node: ast.AST, scenario: str | None = None) -> list[dict]:
    """``("acc", 76.46 * 0.99, ...)`` as metric, value, and reference x factor where written so.

    A dict of such tuples by scenario (v6.x's qwen3-vl) gives each entry its ``scenario``.
    """
    if isinstance(node, ast.Dict):
        return [
            entry
            for key, value in zip(node.keys, node.values, strict=True)
            for entry in target(value, key.value)
        ]
    items = node.elts
    found = []
    for name, value in zip(items[::2], items[1::2], strict=True):
        entry = {"metric": name.value, "value": round(number(value), 10)}
        if scenario is not None:
            entry["scenario"] = scenario
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
            left, right = number(value.left), number(value.right)
            if right in FACTORS or left in FACTORS:
                entry["reference"], entry["factor"] = (left, right) if right in FACTORS else (right, left)
        base = entry.get("reference", entry["value"])
        entry["unit"] = "fraction" if abs(base) <= 1 else "scale"
        found.append(entry)
    return found


def sections(tree: ast.Module) -> tuple[dict[str, ast.AST], dict[str, int]]:
    """Top-level assignments by name, and their lines."""
    nodes, lines = {}, {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            nodes[statement.targets[0].id] = statement.value
            lines[statement.targets[0].id] = statement.lineno
    return nodes, lines


def compliance_in_code(tree: ast.Module, models: list[str]) -> tuple[dict[str, list[str]], int] | None:
    """v5.x's compliance tests per model, read from ``check_compliance_dir`` without running it.

    The function starts from a list and removes or appends tests ``if model in [...]``; this replays those
    statements in order for each model, up to the first statement that uses the list. A call other than
    ``remove`` or ``append`` while it is built is an error, so a change of the code's shape cannot go
    unnoticed. None where the file has no such function.
    """
    function = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check_compliance_dir"), None
    )
    if function is None:
        return None
    start: list[str] | None = None
    steps: list[tuple[set[str], str, str]] = []
    for statement in function.body:
        touches = "test_list" in ast.unparse(statement)
        if isinstance(statement, ast.Assign) and ast.unparse(statement.targets[0]) == "test_list":
            start = plain(statement.value)
        elif isinstance(statement, ast.If) and touches and start is not None:
            test = statement.test
            if not (isinstance(test, ast.Compare) and ast.unparse(test.left) == "model"):
                break  # past the list's construction: it is being used
            names = set(plain(test.comparators[0]))
            for call in statement.body:
                method, argument = call.value.func.attr, plain(call.value.args[0])
                if method not in ("remove", "append"):
                    raise ValueError(f"line {call.lineno}: test_list.{method} is not understood")
                steps.append((names, method, argument))
        elif touches and start is not None:
            break
    if start is None:
        raise ValueError("check_compliance_dir: no test_list = [...] found")
    tests = {}
    for model in models:
        found = list(start)
        for names, method, argument in steps:
            if model in names and method == "remove":
                found.remove(argument)
            elif model in names:
                found.append(argument)
        tests[model] = found
    return tests, function.lineno


def equal_issue_in_code(tree: ast.Module, version: str) -> tuple[list[str], int] | None:
    """The models that must run in equal-issue mode in ``version``, from ``requires_equal_issue``.

    v5.x returns ``model in [...]``; v6.x returns ``division in [...] and model in [...] and self.version
    in [...]`` (so no model of a round the version list leaves out). None where the file has no such
    method; any other shape of its return is an error.
    """
    method = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "requires_equal_issue"),
        None,
    )
    if method is None:
        return None
    returned = method.body[-1].value if isinstance(method.body[-1], ast.Return) else None
    tests = (
        returned.values
        if isinstance(returned, ast.BoolOp) and isinstance(returned.op, ast.And)
        else [returned]
    )
    models, versions = None, None
    for test in tests:
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In)):
            raise ValueError(
                f"line {method.lineno}: requires_equal_issue is not a conjunction of `x in [...]`"
            )
        name = ast.unparse(test.left)
        if name == "model":
            models = plain(test.comparators[0])
        elif name == "self.version":
            versions = plain(test.comparators[0])
    if models is None:
        raise ValueError(f"line {method.lineno}: requires_equal_issue does not test the model")
    if versions is not None and version not in versions:
        models = []
    return models, method.lineno


def _method(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    return next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name), None)


def delta_default_in_code(tree: ast.Module) -> dict | None:
    """``get_delta_perc``'s default: 1 % unless the model's name holds a marker ("99.9"), then 0.1 %.

    The method's shape: ``more_accurate = model.find("99.9")``, then ``if more_accurate == -1: x = 1
    else: x = 0.1``; any other shape is an error. None where the file has no such method.
    """
    method = _method(tree, "get_delta_perc")
    if method is None:
        return None
    marker = next(
        (
            n.args[0].value
            for n in ast.walk(method)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "find"
        ),
        None,
    )
    branch = next((n for n in reversed(method.body) if isinstance(n, ast.If)), None)
    if not isinstance(marker, str) or branch is None or len(branch.body) != 1 or len(branch.orelse) != 1:
        raise ValueError(f"line {method.lineno}: get_delta_perc is not `if model.find(marker) == -1`")
    return {
        "percent": number(branch.body[0].value),
        "high_accuracy_percent": number(branch.orelse[0].value),
        "high_accuracy_marker": marker,
        "line": method.lineno,
    }


def model_guesses_in_code(tree: ast.Module) -> tuple[list[dict], int] | None:
    """``get_mlperf_model``'s guesses: ``if "x" in model or ...: model = "y"``, elif by elif, in order."""
    method = _method(tree, "get_mlperf_model")
    if method is None:
        return None
    guesses = []
    branch = next(
        (n for n in method.body if isinstance(n, ast.If) and "in model" in ast.unparse(n.test)), None
    )
    while isinstance(branch, ast.If):
        tests = branch.test.values if isinstance(branch.test, ast.BoolOp) else [branch.test]
        contains = [plain(t.left) for t in tests if isinstance(t, ast.Compare)]
        if len(contains) != len(tests) or len(branch.body) != 1 or not isinstance(branch.body[0], ast.Assign):
            raise ValueError(f"line {branch.lineno}: a guess of get_mlperf_model is not `if 'x' in model`")
        guesses.append({"contains": contains, "model": plain(branch.body[0].value)})
        branch = branch.orelse[0] if len(branch.orelse) == 1 else None
    return guesses, method.lineno


def _by_key(node: ast.Dict) -> dict[str, ast.AST]:
    return {key.value: value for key, value in zip(node.keys, node.values, strict=True)}


def round_data(
    tree: ast.Module,
    version: str,
    tag: str,
    checker: str = CHECKER,
    equal_issue_tree: ast.Module | None = None,
    equal_issue_file: str | None = None,
    config_tree: ast.Module | None = None,
    config_file: str | None = None,
) -> dict:
    """One round's facts, each section with the checker line it came from."""
    nodes, lines = sections(tree)
    config = dict(
        zip((k.value for k in nodes["MODEL_CONFIG"].keys), nodes["MODEL_CONFIG"].values, strict=True)
    )
    block = dict(zip((k.value for k in config[version].keys), config[version].values, strict=True))
    where = {name: node.lineno for name, node in block.items()}
    models: dict[str, dict] = {name: {} for name in plain(block["models"])}

    def per_model(section: str, key: str, convert=plain) -> None:
        if section not in block:
            return
        for name, value in zip(block[section].keys, block[section].values, strict=True):
            models.setdefault(name.value, {})[key] = convert(value)

    per_model("accuracy-target", "accuracy", target)
    per_model("accuracy-upper-limit", "upper_limit", target)
    per_model("accuracy-delta-perc", "accuracy_delta_percent")
    per_model("accuracy-sample-count", "accuracy_sample_count")
    per_model("performance-sample-count", "performance_sample_count")
    per_model("dataset-size", "dataset_size")
    per_model("latency-constraint", "latency_constraint_ns")
    per_model("min-queries", "min_queries")
    for category in ("datacenter", "edge", "datacenter-edge"):
        per_model(f"required-scenarios-{category}", f"scenarios_{category.replace('-', '_')}")
        per_model(f"optional-scenarios-{category}", f"optional_scenarios_{category.replace('-', '_')}")
    for name, limits in plain(nodes["LLM_LATENCY_LIMITS"]).items():
        if name in models:
            models[name]["llm_latency_limits_ns"] = limits
    for name, count in plain(nodes["OFFLINE_MIN_SPQ_SINCE_V4"]).items():
        if name in models:
            models[name]["offline_min_samples_per_query"] = count
    tests = sorted(section for section in block if section.startswith("models_TEST"))
    for section in tests:
        test = section.removeprefix("models_")
        for name in plain(block[section]):
            models.setdefault(name, {}).setdefault("compliance_tests", []).append(test)
    in_code = None if tests else compliance_in_code(tree, list(models))
    if in_code is not None:
        for name, found in in_code[0].items():
            models[name]["compliance_tests"] = found
    equal_issue = equal_issue_in_code(equal_issue_tree or tree, version)
    if equal_issue is not None:
        for name in models:
            models[name]["equal_issue"] = name in equal_issue[0]
    for (model, metric), printed in PRINTED.items():
        for entry in models.get(model, {}).get("accuracy", []):
            if entry["metric"] == metric:
                entry.update(printed)
    source = {"repository": "mlcommons/inference", "tag": tag, "file": checker}
    delta = delta_default_in_code(config_tree or tree)
    if delta is None:
        raise ValueError("no get_delta_perc: pass --config-file")
    delta = {"source": f"{config_file or checker}:{delta.pop('line')} (get_delta_perc)", **delta}
    guessed = model_guesses_in_code(config_tree or tree)
    return {
        "format": "parity-inference-round",
        "round": version.removeprefix("v"),
        "source": source,
        "lines": {
            **{section: line for section, line in where.items() if section != "models"},
            "models": where["models"],
            "TEST_DURATION_MS": lines["TEST_DURATION_MS"],
            "LLM_LATENCY_LIMITS": lines["LLM_LATENCY_LIMITS"],
            "OFFLINE_MIN_SPQ_SINCE_V4": lines["OFFLINE_MIN_SPQ_SINCE_V4"],
            "ACC_PATTERN": lines["ACC_PATTERN"],
            **({"check_compliance_dir": in_code[1]} if in_code is not None else {}),
            **({"requires_equal_issue": equal_issue[1]} if equal_issue is not None else {}),
        },
        "min_duration_ms": number(nodes["TEST_DURATION_MS"]),
        "compliance_tests_listed": bool(tests) or in_code is not None,
        **(
            {"equal_issue_source": f"{equal_issue_file}:{equal_issue[1]}"}
            if equal_issue_file and equal_issue is not None
            else {}
        ),
        "seeds": {name: str(value) for name, value in plain(block["seeds"]).items()},
        "model_mapping": plain(block["model_mapping"]) if "model_mapping" in block else {},
        "accuracy_patterns": plain(nodes["ACC_PATTERN"]),
        "accuracy_delta_default": delta,
        **(
            {
                "model_guesses": {
                    "source": f"{config_file or checker}:{guessed[1]} (get_mlperf_model)",
                    "guesses": guessed[0],
                }
            }
            if guessed is not None
            else {}
        ),
        "models": dict(sorted(models.items())),
    }


def main() -> None:
    """Write one YAML file per round the checker at ``--tag`` defines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("git_dir", type=Path)
    parser.add_argument("--tag", default="v5.1.1")
    parser.add_argument("--file", default=CHECKER, help="the checker file holding MODEL_CONFIG")
    parser.add_argument("--rounds", default=None, help="only these rounds, e.g. 6.0,6.1")
    parser.add_argument(
        "--equal-issue-file", default=None, help="the file holding requires_equal_issue, if not --file"
    )
    parser.add_argument(
        "--config-file",
        default=None,
        help="the file holding get_delta_perc and get_mlperf_model, if not --file",
    )
    args = parser.parse_args()

    def source(name: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(args.git_dir), "show", f"{args.tag}:{name}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    tree = ast.parse(source(args.file))
    equal_issue_tree = ast.parse(source(args.equal_issue_file)) if args.equal_issue_file else None
    config_tree = ast.parse(source(args.config_file)) if args.config_file else None
    config = sections(tree)[0]["MODEL_CONFIG"]
    tag = args.tag
    if tag == "HEAD":  # name the commit, not a moving ref
        tag = subprocess.run(
            ["git", "--git-dir", str(args.git_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    wanted = set(args.rounds.split(",")) if args.rounds else None
    for key in config.keys:
        if wanted is not None and key.value.removeprefix("v") not in wanted:
            continue
        data = round_data(
            tree,
            key.value,
            tag,
            args.file,
            equal_issue_tree,
            args.equal_issue_file,
            config_tree,
            args.config_file,
        )
        path = OUT_DIR / f"inference_{data['round']}.yaml"
        header = (
            f"# Generated by scripts/extract_inference_rounds.py from {args.file} at mlcommons/inference "
            f"{tag}.\n# Do not edit by hand: rerun the script. `lines` gives each section's line.\n"
        )
        path.write_text(header + yaml.safe_dump(data, sort_keys=False, width=110), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
