"""Differential mutation test: mlperf-logging (installed 4.1.68, YAMLs identical to 7bbf792) vs parity."""

import copy
import io
import json
import logging
import os
import random
import sys
import tempfile
import contextlib

from mlperf_logging.compliance_checker import mlp_compliance
from parity.audit.logs import check_logs

logging.disable(logging.CRITICAL)
CORPUS = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "shared/corpus/mlperf_logs")


def mlperf_verdict(path, ruleset):
    mlp_compliance.enqueued_configs.clear()
    checker = mlp_compliance.make_checker("training", ruleset, True, False)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            ok = checker.check_file(path, f"training_{ruleset}/common.yaml")
    except Exception as exc:  # tracebacks count as failure
        mlp_compliance.enqueued_configs.clear()
        return False, f"EXC {type(exc).__name__}"
    msgs = list(checker.overwritable.values()) + list(checker.not_overwritable)
    return ok, " | ".join(m.split("\n")[0][:120] for m in msgs)[:600]


def parity_verdict(path, ruleset):
    res = check_logs([path], ruleset)[0]
    return res.judgement.verdict.exit_code == 0, " | ".join(o.summary[:120] for o in res.check.observations)[:600]


def records(path):
    out = []
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", "replace")
            at = line.find(":::MLLOG ")
            if at < 0:
                continue
            try:
                out.append(json.loads(line[at + 9:]))
            except Exception:
                pass
    return out


def write(recs, path):
    with open(path, "w") as fh:
        for r in recs:
            fh.write(":::MLLOG " + json.dumps(r) + "\n")


def perturb(v):
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return v * 2 + 1
    if isinstance(v, float):
        return v * 1.5 + 0.001
    if isinstance(v, str):
        return v + "_x"
    if isinstance(v, list):
        return v + [1]
    return "x"


def mutations(recs):
    keys = []
    for r in recs:
        if r["key"] not in keys:
            keys.append(r["key"])
    yield "orig", recs
    for k in keys:
        if k in ("submission_division", "submission_benchmark"):
            continue
        idx = [i for i, r in enumerate(recs) if r["key"] == k]
        # drop all occurrences
        yield f"drop:{k}", [r for r in recs if r["key"] != k]
        # perturb the first occurrence's value
        m = copy.deepcopy(recs)
        m[idx[0]]["value"] = perturb(m[idx[0]]["value"])
        yield f"perturb:{k}", m
        # duplicate the first occurrence with another value
        if len(idx) == 1:
            m = copy.deepcopy(recs)
            d = copy.deepcopy(m[idx[0]])
            d["value"] = perturb(d["value"])
            m.insert(idx[0] + 1, d)
            yield f"dup:{k}", m
        # strip metadata keys other than file/lineno on all occurrences
        if any(set(recs[i].get("metadata", {})) - {"file", "lineno"} for i in idx):
            m = copy.deepcopy(recs)
            for i in idx:
                m[i]["metadata"] = {kk: vv for kk, vv in m[i]["metadata"].items() if kk in ("file", "lineno")}
            yield f"nometa:{k}", m
    # ordering: move a record to just before / after another
    def move(recs, key, anchor, after):
        m = copy.deepcopy(recs)
        i = next((i for i, r in enumerate(m) if r["key"] == key), None)
        if i is None:
            return None
        r = m.pop(i)
        j = next((j for j, x in enumerate(m) if x["key"] == anchor), None)
        if j is None:
            return None
        r["time_ms"] = m[j]["time_ms"] + (1 if after else -1)
        m.insert(j + 1 if after else j, r)
        return m
    for key, anchor, after in [("init_stop", "init_start", False), ("run_start", "init_stop", False),
                               ("init_start", "run_start", True), ("run_stop", "run_start", False),
                               ("block_start", "run_start", False), ("init_start", "init_stop", True),
                               ("global_batch_size", "run_stop", True),
                               ("opt_learning_rate_warmup_steps", "run_stop", True),
                               ("submission_division", "run_stop", True)]:
        m = move(recs, key, anchor, after)
        if m is not None:
            yield f"move:{key}:{'after' if after else 'before'}:{anchor}", m
    # init time stretched beyond the limit
    m = copy.deepcopy(recs)
    shift = False
    for r in m:
        if r["key"] == "init_stop":
            shift = True
        if shift:
            r["time_ms"] = r["time_ms"] + 31 * 60 * 1000
    yield "slow_init", m


STATS = {}


def main(files):
    total = mismatches = 0
    tmp = tempfile.mkdtemp()
    for entry in files:
        rel, ruleset = entry[0], entry[1]
        recs = records(os.path.join(CORPUS, rel))
        if len(entry) > 2:
            for r in recs:
                if r["key"] == "submission_division":
                    r["value"] = entry[2]
        for name, m in mutations(recs):
            path = os.path.join(tmp, "result_0.txt")
            write(m, path)
            a, am = mlperf_verdict(path, ruleset)
            b, bm = parity_verdict(path, ruleset)
            total += 1
            STATS[(a, b)] = STATS.get((a, b), 0) + 1
            if a != b:
                mismatches += 1
                print(f"MISMATCH {rel} [{name}] mlperf={'PASS' if a else 'FAIL'} parity={'PASS' if b else 'FAIL'}")
                print(f"    mlperf: {am}")
                print(f"    parity: {bm}")
    print(f"{mismatches} mismatches of {total}", STATS)


if __name__ == "__main__":
    sel = [tuple(l.split()) for l in open(sys.argv[1]) if l.strip()]
    main(sel)
