"""MLPerf's model families through the tools their submitters run, judged as the rules say (a slice).

The whole family corpus (twelve families through every tool at every option, 381 cases) is measured by
``scripts/realtools_report.py --families --baseline``, with Polygraphy's verdicts beside parity's, and
its table is in the README. This slice keeps one case per class a fix was made for in the suite: each
family through tools whose output exercised a rewrite, a proof method or a witness rule, and each
violation kind at least once. It is built once per environment (tests/realtools/cache.py).
"""

import pytest

from realtools.audit import SUITES, audit
from realtools.cache import cached
from realtools.corpus import build
from realtools.tools import family_tools

#: (family, candidate) pairs: tool outputs that must be accepted and violations that must be caught
SLICE = (
    ("retinanet", "ort_extended"),  # a frozen batch norm's arithmetic folded (training forbids it)
    ("retinanet", "int8_qdq"),  # quantized after the fold
    ("retinanet", "violation_skipped_layer"),
    ("unet3d", "onnxsim"),
    ("unet3d", "violation_dropped_norm"),
    ("dlrm", "fp16_ort"),  # EmbeddingBag Loops; tables read inside their bodies
    ("dlrm", "onnxsim"),  # what the Loops read, renamed and reordered: paired by name, else by shape
    ("dlrm", "violation_table_hashed"),
    ("dlrm", "redrawn"),  # a one-value bias re-drawn is no evidence
    ("rnnt", "ort_extended"),
    ("rnnt", "violation_skipped_layer"),
    ("gptj", "ort_transformers"),  # FastGelu; zero biases a fused operator still reads; rotary table folded
    ("gptj", "onnxsim"),  # zero biases dropped (training asks a reviewer)
    ("gptj", "export_dynamic_axes"),  # symbolic dims at the reference's sizes; attention by identity test
    ("gptj", "violation_dropped_residual"),
    ("gptj", "violation_pruned_head"),
    ("mixtral", "onnxsim"),
    ("mixtral", "violation_moe_topk"),
    ("mixtral", "violation_epsilon"),  # an RMSNorm epsilon written as a constant is the attribute
    ("whisper", "onnxslim"),  # attention scaling folded into the q-projection (training forbids it)
    ("whisper", "ort_transformers"),  # FastGelu / Attention fusions; zero biases a fused operator reads
    ("whisper", "violation_epsilon"),
    ("whisper", "violation_early_exit"),
    ("sdunet", "fp16_ort"),
    ("sdunet", "violation_swapped_activation"),
    ("convnext", "int8_qdq"),  # a transpose pushed through an Add: regions take in the producer
    ("convnext", "ort_basic"),
    ("efficientnet", "bf16_weights"),
    ("efficientnet", "violation_dropped_residual"),
    ("swin", "compose_prefix"),
    ("swin", "ort_basic"),  # windows reshaped across the region's edge: the region grows to one shape
    ("swin", "violation_early_exit"),
    ("rgat", "extract_model"),
    ("rgat", "violation_pruned"),  # exact zeros a draw never gives, in a small tensor
    ("rgat", "redrawn"),
)


@pytest.fixture(scope="session")
def families():
    """The slice, built once per environment: case by (family, candidate), and the tool runs that failed."""
    wanted = set(SLICE)
    archs = list(dict.fromkeys(arch for arch, _ in SLICE))
    cases, failed = cached(
        "families-slice",
        lambda folder: build(folder, archs, wanted=wanted, registry=family_tools()),
        repr(sorted(wanted)),
    )
    return {(case.arch, case.name): case for case in cases}, {
        (f["arch"], f["tool"]): f["error"] for f in failed
    }


@pytest.mark.realtools
@pytest.mark.parametrize("suite", list(SUITES))
@pytest.mark.parametrize(("arch", "name"), SLICE, ids=[f"{a}-{n}" for a, n in SLICE])
def test_mlperf_family_through_a_real_tool_is_judged_as_the_rules_say(families, arch, name, suite):
    cases, failed = families
    case = cases.get((arch, name))
    assert case is not None, f"the case was not built: {failed.get((arch, name)) or failed}"
    outcome = audit(case, suite)
    shown = "\n".join(f"  {o:12} {k:34} {s}" for o, k, s in outcome.findings)
    assert outcome.verdict == outcome.expected, f"{outcome.error or ''}\n{shown}"
    assert outcome.located is not False, f"the violation is not located at {case.where!r}:\n{shown}"
