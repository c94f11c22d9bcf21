"""Transcribe mlperf-logging training compliance YAMLs into parity RoundRules data files.

Maintenance script, run by hand when mlperf-logging changes (not shipped, not run by the tests):
``python scripts/transcribe_mlperf_logging.py [MLPERF_LOGGING_GIT_DIR]`` with a clone of
mlcommons/logging (a bare repository is enough). Reads it, follows the enqueue chain of each round
(common -> {division}_common -> {division}_{benchmark} [-> resnet optimizer variant]), models the
"later config overrides keyed messages of earlier configs" semantics by scoping rules to the
(division, benchmark) pairs where they are not overridden, and translates CHECK / ATLEAST_ONE_CHECK
expressions into parity's expression language.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field

import yaml

REPO = sys.argv[1] if len(sys.argv) > 1 else "../logging"
D = "mlperf_logging/compliance_checker"
COMMIT = "7bbf792"
OUT = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "src/parity/engines/logs/data")
DIVS = ("closed", "open")


def show(rel: str) -> str | None:
    p = subprocess.run(["git", "-C", REPO, "show", f"HEAD:{D}/{rel}"], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else None


def load(rel: str):
    text = show(rel)
    if text is None:
        return None
    recs = yaml.load(text, Loader=yaml.BaseLoader) or []
    keys: dict[str, dict] = {}
    begin = end = None
    for rec in recs:
        kind = list(rec)[0]
        if kind == "KEY":
            keys[rec["KEY"]["NAME"]] = rec["KEY"]  # later record with the same NAME wins (as in mlp_compliance)
        elif kind == "BEGIN":
            begin = rec["BEGIN"]
        elif kind == "END":
            end = rec["END"]
    return {"rel": rel, "keys": keys, "begin": begin, "end": end, "text": text}


def as_list(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


# ---------------------------------------------------------------------------------------------------------
# expression translation

ORDER = {
    # log-order state flags of common.yaml, restated over first-occurrence timestamps
    "not s['init_stopped']": "t_init_stop is None or timestamp <= t_init_stop",
    "not s['run_started']": "t_run_start is None or timestamp <= t_run_start",
    "s['init_started']": "t_init_start is not None and t_init_start <= timestamp",
    "( s['init_stopped'] == True )": "t_init_stop is not None and t_init_stop <= timestamp",
    "s['run_started']": "t_run_start is not None and t_run_start <= timestamp",
}
TIME = {
    "ll.timestamp - s['first_init_start'] < (s['compile_time_mins']*60*1e3)":
        "t_init_start is None or timestamp - t_init_start < init_limit_ms",
    "ll.timestamp - s['first_init_start'] < (20*60*1e3)":
        "t_init_start is None or timestamp - t_init_start < init_limit_ms",
}
# checks that cannot fail on a parsed line (LogLine.value always has 'value')
VACUOUS = {"'value' in v"}

META1 = re.compile(r"^'(\w+)' in v\['metadata'\]$")
META2 = re.compile(r"^\('(\w+)' in v\['metadata'\]\) \| \('(\w+)' in v\['metadata'\]\)$")
IS_INT = re.compile(r"^is_integer\((.*)\)$")


def tolerant_is_integer(arg: str) -> str:
    # mlp_compliance.is_integer(x) is abs(round(x) - x) < 0.00001, not an exact test
    return f"abs(round({arg}) - {arg}) < 0.00001"


def mech(expr: str, state: dict[str, str]) -> str:
    """Mechanical rewrite of a Python rule expression into the parity language."""
    out = expr
    out = out.replace("v['value']", "value").replace("v['metadata']", "metadata")
    out = out.replace("math.", "")
    out = out.replace("1_200_000", "1200000")

    def sub_state(m):
        name = m.group(1)
        if name not in state:
            raise KeyError(f"state {name!r} not set in this file: {expr}")
        return state[name]

    out = re.sub(r"s\['(\w+)'\]", sub_state, out)
    out = re.sub(r"\s+\)", ")", out)
    out = re.sub(r"\(\s+", "(", out)
    return out.strip()


def split_top_or(expr: str):
    """Top-level 'or' split via ast (None if not a top-level or of comparisons)."""
    return None


def classify(key: str, parity: str) -> str:
    if key.startswith("submission_"):
        return "log.event_missing"
    if key == "seed":
        return "log.seed_invalid"
    names = {n.id for n in ast.walk(ast.parse(parity, mode="eval")) if isinstance(n, ast.Name)}
    if "value" not in names:
        return "log.event_missing"  # metadata-only structural checks
    if re.fullmatch(r"'\w+' in value", parity) or parity == "value != ''":
        return "log.event_missing"
    if re.fullmatch(r"value == ('[^']*'|-?[0-9.e+-]+)", parity):
        return "hparam.changed"
    return "hparam.out_of_range"


@dataclass
class Part:
    kind: str  # 'metadata' | 'check' | 'skip'
    text: str
    rule_kind: str | None = None
    original: str = ""
    note: str | None = None


def translate_check(key: str, expr: str, state: dict[str, str]) -> Part:
    e = expr.strip()
    if e in VACUOUS:
        return Part("skip", "", original=e, note="always true for a parsed line")
    if e in ORDER:
        return Part("check", ORDER[e], "log.event_missing", e, "log-order flag restated over timestamps")
    if e in TIME:
        return Part("check", TIME[e], "log.time_limit_exceeded", e)
    m = META2.match(e)
    if m:
        return Part("metadata", f"{m.group(1)}|{m.group(2)}", original=e)
    m = META1.match(e)
    if m:
        return Part("metadata", m.group(1), original=e)
    m = IS_INT.match(e)
    note = None
    if m:
        arg = mech(m.group(1), state)
        parity = tolerant_is_integer(arg)
        note = "is_integer() is mlp_compliance's tolerant version"
    else:
        parity = mech(e, state)
        if re.search(r"is_integer\(", parity):
            # nested is_integer: rewrite each call
            def repl(mm):
                return "(" + tolerant_is_integer(mm.group(1)) + ")"
            parity = re.sub(r"is_integer\(((?:[^()]|\([^()]*\))*)\)", repl, parity)
            note = "is_integer() is mlp_compliance's tolerant version"
    # exact float equality on derived quantities -> close()
    if e == "v['value'] * 1152 == s['global_batch_size'] * 8e-5":
        parity = "close(value * 1152, global_batch_size * 8e-5)"
        note = "exact float equality on a derived quantity: close() instead"
    kind = KIND_OVERRIDE.get(e) or classify(key, parity)
    if parity.startswith("'") and " in metadata" in parity and kind == "log.event_missing":
        pass
    return Part("check", parity, kind, e, note)


def translate_target(expr: str, state: dict[str, str]) -> str:
    return mech(expr.strip(), state)


COUNT = {"EXACTLY_ONE": "exactly_one", "AT_LEAST_ONE": "at_least_one", "OPTIONAL": "optional"}


def translate_req(req: str | None) -> str | None:
    if req is None:
        return None
    req = req.strip()
    if req in COUNT:
        return COUNT[req]
    m = re.fullmatch(r"AT_LEAST\((\d+)\)", req)
    if m:
        return f"at_least:{int(m.group(1))}"
    m = re.fullmatch(r"AT_LEAST_ONE_OR\((.*)\)", req)
    if m:
        return "at_least_one_or:" + ",".join(x.strip() for x in m.group(1).split(","))
    raise ValueError(req)


def file_state(cfg) -> dict[str, str]:
    """s[...] names set by POST in this file, as parity expressions."""
    state: dict[str, str] = {}
    for key, rec in cfg["keys"].items():
        post = rec.get("POST")
        if not post:
            continue
        for stmt in post.split(";"):
            m = re.fullmatch(r"\s*s\['(\w+)'\]\s*=\s*(.*?)\s*", stmt.strip())
            if not m:
                continue
            name, rhs = m.group(1), m.group(2)
            if rhs == "v['value']":
                state[name] = key
            elif "ll." in rhs or "True" == rhs or "min(" in rhs:
                continue  # ordering bookkeeping handled by ORDER/TIME
            elif "if v['value']" in rhs:
                continue  # compile_time_mins -> init_limit_ms
            else:
                state[name] = "(" + mech(rhs, state) + ")"
    return state


# ---------------------------------------------------------------------------------------------------------
# rules

@dataclass
class Rule:
    key: str
    divisions: list[str] = field(default_factory=list)
    benchmarks: list[str] = field(default_factory=list)
    count: str | None = None
    metadata: list[str] = field(default_factory=list)
    check: str | None = None
    target: str | None = None
    kind: str | None = None
    why: str | None = None
    comments: list[str] = field(default_factory=list)

    def dump(self) -> str:
        lines = [f"  # {c}" for c in self.comments]
        lines.append(f"  - key: {self.key}")
        if self.divisions:
            lines.append(f"    divisions: [{', '.join(self.divisions)}]")
        if self.benchmarks:
            lines.append(f"    benchmarks: [{', '.join(self.benchmarks)}]")
        if self.count:
            lines.append(f"    count: {json.dumps(self.count) if ',' in self.count else self.count}")
        if self.metadata:
            lines.append(f"    metadata: [{', '.join(json.dumps(m) if '|' in m else m for m in self.metadata)}]")
        if self.check:
            lines.append(f"    check: {json.dumps(self.check)}")
        if self.target:
            lines.append(f"    target: {json.dumps(self.target)}")
        if self.kind:
            lines.append(f"    kind: {self.kind}")
        if self.why:
            lines.append(f"    why: {json.dumps(self.why)}")
        return "\n".join(lines)


def scopes(scope: dict[str, set[str]], full: dict[str, list[str]]) -> list[tuple[list[str], list[str]]]:
    """(divisions, benchmarks) pairs covering exactly `scope`."""
    fulls = {d: scope[d] >= set(full[d]) for d in DIVS}
    if all(fulls.values()):
        return [([], [])]
    if scope["closed"] and scope["closed"] == scope["open"]:
        return [([], sorted(scope["closed"]))]
    out = []
    for d in DIVS:
        if not scope[d]:
            continue
        out.append(([d], [] if fulls[d] else sorted(scope[d])))
    return out


WHY = {
    ("init_start", "log.event_missing"): "init_start must come before init_stop and run_start",
    ("init_stop", "log.event_missing"): "init_stop must follow init_start and precede run_start",
    ("init_stop", "log.time_limit_exceeded"): "initialisation (first init_start to init_stop) is limited to "
                                              "the division's budget",
    ("run_start", "log.event_missing"): "run_start must follow init_stop",
    ("run_stop", "log.event_missing"): "run_stop must follow run_start and carry a status",
    ("block_start", "log.event_missing"): "block_start must follow run_start with consistent epoch/sample metadata",
}


KIND_OVERRIDE = {
    "v['metadata']['method'] in ['truncate', 'discard']": "hparam.out_of_range",
}
WHY_CHECK = {
    "close(value * 1152, global_batch_size * 8e-5)":
        "the reference learning rate scales with the batch size: 8e-5 at 1152 sequences",
    "value == ceil(1200000 * 1152 / global_batch_size) - (ceil(8000 * 1152 / global_batch_size))":
        "decay steps = ceil(1.2M * 1152 / gbs) minus the warmup ceil(8000 * 1152 / gbs) that the config's POST "
        "computes (not the logged warmup steps)",
    "value == 1200000 - opt_learning_rate_warmup_steps": "decay steps = 1,200,000 minus the logged warmup steps",
    "value == 12000 - opt_learning_rate_warmup_steps": "decay steps = 12,000 minus the logged warmup steps",
    "abs(value - 2.4e-05 * (global_batch_size / 16384) ** 0.5) < 1e-9":
        "the reference learning rate scales with the square root of the batch size: 2.4e-5 at 16384",
}


def build_round(rnd: str):
    common = load(f"training_{rnd}/common.yaml")
    divcommon = {d: load(f"training_{rnd}/{d}_common.yaml") for d in DIVS}
    bench_list = {}
    for d in DIVS:
        chk = divcommon[d]["keys"]["submission_benchmark"]["CHECK"]
        m = re.search(r"in\s*(\[.*\])", chk)
        bench_list[d] = ast.literal_eval(m.group(1))
    bench_cfg = {d: {b: load(f"training_{rnd}/{d}_{b}.yaml") for b in bench_list[d]} for d in DIVS}
    missing_cfg = [(d, b) for d in DIVS for b in bench_list[d] if bench_cfg[d][b] is None]
    # chain of configs for each (division, benchmark): list of cfg dicts
    chain = {}
    for d in DIVS:
        for b in bench_list[d]:
            c = [common, divcommon[d]]
            if bench_cfg[d][b] is not None:
                c.append(bench_cfg[d][b])
            chain[(d, b)] = c
    return common, divcommon, bench_list, bench_cfg, chain, missing_cfg


def overridden_after(cfg, key, ch) -> bool:
    idx = next(i for i, c in enumerate(ch) if c is cfg)
    return any(key in c["keys"] for c in ch[idx + 1:])


def rules_for_config(cfg, pairs, chain, bench_list, label):
    """Rules for every KEY of cfg; pairs = (div, bench) whose chain contains cfg."""
    state = file_state(cfg)
    out: list[Rule] = []
    for key, rec in cfg["keys"].items():
        count = translate_req(rec.get("REQ"))
        checks = as_list(rec.get("CHECK"))
        parts = [translate_check(key, c, state) for c in checks]
        target = translate_target(rec["ATLEAST_ONE_CHECK"], state) if "ATLEAST_ONE_CHECK" in rec else None
        # scope where keyed messages (REQ other than AT_LEAST_ONE_OR, CHECK) survive
        keyed_scope = {d: set() for d in DIVS}
        all_scope = {d: set() for d in DIVS}
        for (d, b) in pairs:
            all_scope[d].add(b)
            if not overridden_after(cfg, key, chain[(d, b)]):
                keyed_scope[d].add(b)
        metadata = [p.text for p in parts if p.kind == "metadata"]
        by_kind: dict[str, list[Part]] = {}
        for p in parts:
            if p.kind == "check":
                by_kind.setdefault(p.rule_kind, []).append(p)
        comments = []
        for p in parts:
            if p.kind == "skip":
                comments.append(f"{label} {key}: CHECK {p.original!r} left out ({p.note})")
            elif p.kind == "check" and p.note and p.note != "log-order flag restated over timestamps":
                comments.append(f"{label} {key}: CHECK {p.original!r} ({p.note})")
            elif p.kind == "check" and p.original != p.text and p.rule_kind != "log.event_missing" \
                    and ("s[" in p.original):
                comments.append(f"{label} {key}: CHECK {p.original!r}")
        if target and "s[" in rec["ATLEAST_ONE_CHECK"]:
            comments.append(f"{label} {key}: ATLEAST_ONE_CHECK {rec['ATLEAST_ONE_CHECK'].strip()!r}")
        rule_specs = []  # (scope, fields)
        alt = count is not None and count.startswith("at_least_one_or:")
        checks_joined = []
        for kind, ps in by_kind.items():
            text = ps[0].text if len(ps) == 1 else " and ".join(f"({p.text})" for p in ps)
            checks_joined.append((kind, text))
        first = {"count": count if not alt else None, "metadata": metadata, "target": None}
        if checks_joined:
            first["check"], first["kind"] = checks_joined[0][1], checks_joined[0][0]
        keyed_rules = [first] + [{"check": t, "kind": k} for k, t in checks_joined[1:]]
        if alt:
            # AT_LEAST_ONE_OR failures are reported without a key: later configs never override them
            rule_specs.append((all_scope, {"count": count}))
        if target:
            # ATLEAST_ONE_CHECK failures are reported without a key: never overridden
            if keyed_scope == all_scope:
                first["target"] = target
            else:
                rule_specs.append((all_scope, {"target": target}))
        for kr in keyed_rules:
            if kr.get("count") or kr.get("metadata") or kr.get("check") or kr.get("target"):
                rule_specs.append((keyed_scope, kr))
        dropped = keyed_scope != all_scope
        for sc, fields in rule_specs:
            for divs, benches in scopes(sc, {d: bench_list[d] for d in DIVS}):
                r = Rule(key=key, divisions=divs, benchmarks=benches,
                         count=fields.get("count"), metadata=fields.get("metadata") or [],
                         check=fields.get("check"), target=fields.get("target"), kind=fields.get("kind"))
                r.why = (WHY.get((key, r.kind)) or WHY_CHECK.get(r.check)) if r.check else None
                out.append(r)
        if out and comments:
            # attach comments to the first rule emitted for this key
            for r in out:
                if r.key == key:
                    r.comments = comments + r.comments
                    break
        if dropped:
            over = sorted(f"{d}/{b}" for d in DIVS for b in all_scope[d] - keyed_scope[d])
            note = f"{label} {key}: REQ/CHECK overridden by the benchmark file for {', '.join(over)}"
            if not any(r.key == key for r in out):
                out.append(Rule(key=key, comments=[note + " everywhere; nothing left"]))
            else:
                for r in out:
                    if r.key == key:
                        r.comments.append(note)
                        break
    return out


def dump_rule(r: Rule) -> str:
    if not (r.count or r.metadata or r.check or r.target):
        return "\n".join(f"  # {c}" for c in r.comments)
    return r.dump()


def variant_rules(cfg, d, b, label):
    """Rules of optimizer-variant configs enqueued by a benchmark file's POST (resnet)."""
    out: list[Rule] = []
    for key, rec in cfg["keys"].items():
        post = rec.get("POST") or ""
        m = re.search(r"enqueue_config\('([^']+)'\.format\(v\['value'\]\)\)", post)
        if not m:
            continue
        template = m.group(1)
        values = ast.literal_eval(re.search(r"in\s*(\[.*\])", rec["CHECK"]).group(1))
        for val in values:
            rel = template.format(val)
            VARIANTS_USED.add(rel.split("/")[-1]) if rel.startswith(f"training_{CURRENT[0]}/") else None
            vcfg = load(rel)
            state = file_state(vcfg)
            vlabel = rel
            first = True
            for vkey, vrec in vcfg["keys"].items():
                count = translate_req(vrec.get("REQ"))
                comments = []
                if first:
                    comments = [f"--- {vlabel}: enqueued by {label} when {key} == {val!r}.",
                                f"Its REQ counts hold only for that {key}; parity counts cannot be conditional, so",
                                f"'required when {key} is {val}' is a check on {key} that the key was logged, plus a check",
                                "on the key that every occurrence repeats the first value (EXACTLY_ONE with identical",
                                f"repeats is only a warning in mlp_compliance); its CHECKs are guarded by {key}."]
                    first = False
                if count:
                    assert count == "exactly_one", count
                    out.append(Rule(key=key, divisions=[d], benchmarks=[b],
                                    check=f"value != {val!r} or t_{vkey} is not None",
                                    kind="log.event_missing",
                                    why=f"{vkey} is required when {key} is {val} ({rel}: REQ EXACTLY_ONE)",
                                    comments=comments))
                    comments = []
                    out.append(Rule(key=vkey, divisions=[d], benchmarks=[b],
                                    check=f"{key} != {val!r} or value == {vkey}",
                                    kind="log.event_missing",
                                    why=f"{vkey} must be logged once when {key} is {val}: a repeat with another "
                                        f"value breaks {rel}'s REQ EXACTLY_ONE"))
                for c in as_list(vrec.get("CHECK")):
                    p = translate_check(vkey, c, state)
                    assert p.kind == "check"
                    cm = list(comments)
                    if p.note:
                        cm.append(f"{vlabel} {vkey}: CHECK {p.original!r} ({p.note})")
                    out.append(Rule(key=vkey, divisions=[d], benchmarks=[b],
                                    check=f"{key} != {val!r} or ({p.text})", kind=p.rule_kind,
                                    comments=cm))
                    comments = []
    return out


HEADER = """\
# MLPerf Training {rnd} log rules, transcribed from mlcommons/logging
# ({path}, commit {commit}) into parity's rule data.
# Generated by a one-off transcription script and reviewed by hand; each rule corresponds to a KEY record
# of that round's YAMLs (or of a config they enqueue). Conventions:
# * divisions/benchmarks: common.yaml rules apply everywhere; {{closed,open}}_common.yaml rules to their
#   division; {{closed,open}}_<benchmark>.yaml rules to that division and benchmark.
# * Override semantics: mlp_compliance deletes the keyed messages (CHECK and REQ failures, except
#   AT_LEAST_ONE_OR) of earlier configs for every key a later config redefines. A common rule is therefore
#   scoped to the benchmarks whose files do NOT redefine its key; AT_LEAST_ONE_OR counts and
#   ATLEAST_ONE_CHECK targets are reported without a key and keep their full scope.
# * Log-order state (s['init_started'], s['init_stopped'], s['run_started']) is restated over the first
#   occurrence timestamps t_<key>; s['first_init_start'] is t_init_start; s['compile_time_mins'] is the
#   division's init_limit_minutes. Other s[...] values are the formula the config's POST stored.
# * is_integer(x) in mlp_compliance is abs(round(x) - x) < 0.00001 (tolerant), so it is written out.
# * Not expressible and left to the checker: submission_* keys are only checked on their first occurrence;
#   EXACTLY_ONE with identical repeated values is a warning, not a failure; "Failed executing CHECK code"
#   (an exception) is a failure, which parity reports as a failed check with the reason.
# * BEGIN/END blocks and POST bookkeeping without a check are left out (in_epoch, last_epoch, in_block,
#   block_first_epoch, run_stopped, accuracy_printed are initialised or set but never checked).
"""


VARIANTS_USED: set[str] = set()
CURRENT = [""]


def round_file(rnd: str, rulebook: str, init_limit: dict[str, float], extra_comments: dict | None = None):
    VARIANTS_USED.clear()
    CURRENT[0] = rnd
    extra_comments = extra_comments or {}
    common, divcommon, bench_list, bench_cfg, chain, missing_cfg = build_round(rnd)
    src_path = f"mlperf_logging/compliance_checker/training_{rnd}"
    text = [HEADER.format(rnd=rnd, path=src_path, commit=COMMIT)]
    for line in extra_comments.get("header", []):
        text.append(f"# {line}\n")
    text.append(f"round: {json.dumps(rnd)}\n")
    text.append(f"source:\n  repository: mlcommons/logging\n  path: {src_path}\n  commit: {json.dumps(COMMIT)}\n")
    text.append(f"rulebook: {rulebook}\n")
    text.append("# common.yaml submission_division POST: " + extra_comments.get("init", "") + "\n")
    text.append(f"init_limit_minutes:\n  closed: {init_limit['closed']}\n  open: {init_limit['open']}\n")
    text.append("# the submission_benchmark allow-lists of closed_common.yaml / open_common.yaml\n")
    if missing_cfg:
        extra_comments.setdefault("benchmarks", []).append(
            "allow-listed without a config file (mlp_compliance fails such logs with 'Could not find config "
            "file'): " + ", ".join(f"{d}_{b}.yaml" for d, b in missing_cfg))
    for line in extra_comments.get("benchmarks", []):
        text.append(f"# {line}\n")
    text.append("benchmarks:\n")
    for d in DIVS:
        text.append(f"  {d}: [{', '.join(bench_list[d])}]\n")
    # BEGIN blocks that build a virtual key (stable diffusion's aggregated_eval_accuracy)
    agg_benches = sorted({b for d in DIVS for b in bench_list[d] if bench_cfg[d][b] is not None
                          and bench_cfg[d][b]["begin"] is not None
                          and "aggregated_eval_accuracy" in bench_cfg[d][b]["begin"]["CODE"]})
    if agg_benches:
        for d in DIVS:
            for b in agg_benches:
                code = bench_cfg[d][b]["begin"]["CODE"] if bench_cfg[d].get(b) else ""
                assert "line.key == \"eval_accuracy\" and 'metric' in line.value['metadata']" in code, (d, b)
                assert "samples_count = line.value['metadata']['samples_count']" in code, (d, b)
        text.append("# mlperf-logging builds aggregated_eval_accuracy in Python (stable diffusion's BEGIN block): one record per\n"
                    "# samples_count, holding each eval_accuracy by its metadata.metric (FID, CLIP). Here it is data:\n")
        text.append("aggregations:\n  - key: aggregated_eval_accuracy\n    source: eval_accuracy\n"
                    "    group_by: samples_count\n    name_by: metric\n"
                    f"    benchmarks: [{', '.join(agg_benches)}]\n\n")
    text.append("rules:\n")
    all_pairs = sorted(chain)
    sections = []
    sections.append(("common.yaml", rules_for_config(common, all_pairs, chain, bench_list, "common.yaml")))
    for d in DIVS:
        label = f"{d}_common.yaml"
        sections.append((label, rules_for_config(divcommon[d], [(d, b) for b in bench_list[d]], chain,
                                                 bench_list, label)))
    for d in DIVS:
        for b in bench_list[d]:
            cfg = bench_cfg[d][b]
            label = f"{d}_{b}.yaml"
            if cfg is None:
                continue
            rs = rules_for_config(cfg, [(d, b)], chain, bench_list, label)
            rs += variant_rules(cfg, d, b, label)
            sections.append((label, rs))
    allrules = []
    for label, rs in sections:
        text.append(f"\n  # ---------------- training_{rnd}/{label}\n")
        for line in extra_comments.get(label, []):
            text.append(f"  # {line}\n")
        for r in rs:
            text.append(dump_rule(r) + "\n")
            if r.count or r.metadata or r.check or r.target:
                allrules.append(r)
    # files of the round that no allow-listed benchmark reaches
    listing = subprocess.run(["git", "-C", REPO, "ls-tree", "--name-only", f"HEAD:{D}/training_{rnd}/"],
                             capture_output=True, text=True).stdout.split()
    used = {"common.yaml", "closed_common.yaml", "open_common.yaml"} | {
        f"{d}_{b}.yaml" for d in DIVS for b in bench_list[d]} | VARIANTS_USED
    if rnd == "4.0.0":
        used |= {"closed_resnet_lars.yaml", "closed_resnet_sgd.yaml"}  # explained in the tail comment
    unused = sorted(set(listing) - used)
    tail = []
    if unused:
        tail.append("\n  # Not transcribed: " + ", ".join(unused) + " -- no allow-listed benchmark of this")
        tail.append("  # round's {closed,open}_common.yaml enqueues them (a log naming such a benchmark already")
        tail.append("  # fails submission_benchmark's CHECK).")
    for line in extra_comments.get("tail", []):
        tail.append(f"  # {line}")
    if missing_cfg:
        tail.append("  # Allow-listed but without a config file in this round (mlp_compliance reports 'Could not")
        tail.append("  # find config file' and fails such logs): " + ", ".join(f"{d}_{b}.yaml" for d, b in missing_cfg))
    text.append("\n".join(tail) + ("\n" if tail else ""))
    # sanity: t_<key> references must be rule keys
    keys = {r.key for r in allrules}
    for r in allrules:
        for expr in (r.check, r.target):
            if expr:
                for name in re.findall(r"\bt_(\w+)", expr):
                    if name not in keys:
                        print(f"WARNING {rnd}: t_{name} referenced but {name} has no rule", file=sys.stderr)
    out = "".join(text)
    with open(f"{OUT}/training_{rnd}.yaml", "w") as fh:
        fh.write(out)
    return allrules


def _main():
    rounds = sys.argv[1:] or ["5.1.0"]
    for rnd in rounds:
        rb = "mlperf-training-v0.7" if rnd == "0.7.0" else "mlperf-training-v6.0"
        lim = {"closed": 20, "open": 20} if rnd == "0.7.0" else {"closed": 30, "open": 240}
        rs = round_file(rnd, rb, lim, EXTRA.get(rnd) if "EXTRA" in globals() else None)
        print(rnd, len(rs))

SD_NOTE = [
    "aggregated_eval_accuracy is a VIRTUAL key built by this file's BEGIN block (see aggregations: above):",
    "one event per metadata.samples_count of the eval_accuracy lines carrying metadata.metric, valued",
    "{'samples_count': n, <metric>: value, ...}, e.g. FID and CLIP.",
]
EXTRA = {
    "4.0.0": {
        "init": "compile_time_mins = 240 if open else 30",
        "closed_stable_diffusion.yaml": SD_NOTE,
        "open_stable_diffusion.yaml": SD_NOTE,
        "tail": ["training_4.0.0/closed_resnet_{lars,sgd}.yaml are not used either: 4.0.0 closed_resnet.yaml",
                 "enqueues training_3.1.0/closed_resnet_{lars,sgd}.yaml (identical content, inlined above)."],
    },
    "5.0.0": {
        "init": "compile_time_mins = 240 if open else 30",
        "closed_stable_diffusion.yaml": SD_NOTE,
        "open_stable_diffusion.yaml": SD_NOTE,
    },
    "5.1.0": {"init": "compile_time_mins = 240 if open else 30"},
    "6.0.0": {"init": "compile_time_mins = 240 if open else 30"},
    "0.7.0": {
        "init": "none; init_stop's CHECK hard-codes 20*60*1e3 ms for both divisions",
        "closed_ssd.yaml": [
            "opt_learning_rate_decay_boundary_epochs has two CHECK: entries in one mapping; YAML keeps the last",
            "(is_integer(10 * (v['value'][1] / 50.0 - 1))), so the first ([0] / 40.0) is never run and is left out.",
        ],
        "closed_minigo.yaml": [
            "block_start, block_stop, train_samples and eval_samples are redefined here with NAME only: that",
            "only switches off common.yaml's REQ/CHECK for them in closed minigo (scoped out above); common's",
            "AT_LEAST_ONE_OR requirements are unkeyed and still apply.",
        ],
    },
}

if __name__ == "__main__":
    _main()
