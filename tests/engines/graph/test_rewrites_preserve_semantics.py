"""Every canonicalisation preserves what the model computes: canonicalise a real model (and each tool's
output), export it back to ONNX, run both with onnxruntime, compare. A rewrite that changed semantics
would hide violations, so this is the rewrites' correctness test."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from model_variants import REFERENCES, VARIANTS
from parity.engines.graph import DEFAULT_REWRITES, canonicalise
from parity.ir import load_graph
from parity.ir.to_onnx import graph_to_model

# NCHWc filters are stored blocked with a machine-dependent block size: structure is canonical, values are
# recovered by the weights engine, so the exported graph cannot run as-is.
RUNNABLE = [(m, v) for m in REFERENCES for v in VARIANTS if v != "ort_all"]


def _run(model_or_path, x):
    source = model_or_path if isinstance(model_or_path, str) else model_or_path.SerializeToString()
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0].astype(np.float64)


@pytest.mark.parametrize(("model", "variant"), RUNNABLE, ids=[f"{m}-{v}" for m, v in RUNNABLE])
def test_canonical_graph_computes_what_the_model_computes(variants, model, variant):
    path = str(variants[(model, variant)])
    graph = load_graph(path)
    canonicalise(graph, DEFAULT_REWRITES)
    exported = graph_to_model(graph, float_type="FLOAT")
    onnx.checker.check_model(exported)
    shape = [d.dim_value for d in onnx.load(path).graph.input[0].type.tensor_type.shape.dim]
    x = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    expected, got = _run(path, x), _run(exported, x)
    scale = np.abs(expected).max()
    # fp16 rounds every value; int8 candidates run here without their activation quantization, so only a
    # coarse bound applies (a wrong decomposition is off by the output's whole scale)
    tolerance = {"fp16": 2e-2, "int8_qdq": 0.25, "int8_qoperator": 0.25}.get(variant, 1e-5)
    assert np.abs(expected - got).max() <= tolerance * max(scale, 1.0)
    assert not any("." in node.op for node in graph.nodes.values()), "contrib ops left after canonicalisation"
