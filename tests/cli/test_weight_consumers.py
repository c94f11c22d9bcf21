"""Weights through every consumer (issue 27): scales folded into MatMul weights, fp16-clamped fill values."""

import json

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from cli_runner import check_json

torch = pytest.importorskip("torch")


class _Attention(torch.nn.Module):
    """One attention block as Whisper and BART write it: the query scaled by d^-1/2 after its projection."""

    def __init__(self, width: int = 16, heads: int = 2):
        super().__init__()
        self.heads, self.width = heads, width
        self.q = torch.nn.Linear(width, width)
        self.k = torch.nn.Linear(width, width, bias=False)
        self.v = torch.nn.Linear(width, width)
        self.o = torch.nn.Linear(width, width)
        self.scaling = (width // heads) ** -0.5

    def forward(self, x):
        batch, steps, _ = x.shape

        def split(y):
            return y.view(batch, steps, self.heads, self.width // self.heads).transpose(1, 2)

        q = self.q(x) * self.scaling
        weights = torch.softmax(split(q) @ split(self.k(x)).transpose(-1, -2), -1)
        return self.o((weights @ split(self.v(x))).transpose(1, 2).reshape(batch, steps, self.width))


def _slimmed_attention(folder):
    import onnxslim

    reference, candidate = folder / "ref.onnx", folder / "slim.onnx"
    torch.manual_seed(0)
    torch.onnx.export(
        _Attention().eval(),
        (torch.randn(1, 5, 16),),
        str(reference),
        input_names=["x"],
        output_names=["y"],
        opset_version=17,
        dynamo=False,
    )
    onnx.save(onnxslim.slim(onnx.load(str(reference))), str(candidate))
    return reference, candidate


def _kinds(report) -> dict[str, dict]:
    return {o["kind"]: o for o in report["observations"]}


def test_attention_scaling_folded_by_onnxslim_is_a_fold(capsys, tmp_path):
    """onnxslim folds q·d^-1/2 into the q-projection's Gemm: a scale fold, judged as batch norm's is."""
    reference, candidate = _slimmed_attention(tmp_path)
    fused = [t.name for t in onnx.load(str(candidate)).graph.initializer if t.name.endswith("_weight_fused")]
    assert fused, "onnxslim no longer folds the scaling: the test no longer exercises the fold"
    code, report = check_json(capsys, reference, candidate, "mlperf-inference")
    kinds = _kinds(report)
    assert code == 0 and report["verdict"] == "conforms", kinds
    assert "graph.op_removed" not in kinds and "weights.modified" not in kinds
    assert "scale Mul folded into the MatMul" in kinds["graph.ops_fused"]["summary"]
    assert fused[0] in json.dumps(kinds["weights.folded"])
    code, report = check_json(capsys, reference, candidate, "mlperf-training")
    assert code == 1 and report["verdict"] == "violates"  # trained weights rewritten, as a batch-norm fold
    assert "weights.folded" in _kinds(report) and "weights.modified" not in _kinds(report)


def test_a_column_scaled_by_another_factor_is_still_modified(capsys, tmp_path):
    """The fold explains one factor for every entry (or one per column as stored): not a tampered column."""
    reference, candidate = _slimmed_attention(tmp_path)
    model = onnx.load(str(candidate))
    (weight,) = [t for t in model.graph.initializer if t.name.endswith("_weight_fused")]
    values = numpy_helper.to_array(weight).copy()
    values[:, 3] *= 1.5  # one entry of every output feature (transB or not, the fold is off somewhere)
    weight.CopyFrom(numpy_helper.from_array(values.astype(np.float32), weight.name))
    onnx.save(model, str(candidate))
    code, report = check_json(capsys, reference, candidate, "mlperf-inference")
    assert code == 1 and report["verdict"] == "violates"
    modified = _kinds(report).get("weights.modified")
    assert modified and weight.name in json.dumps(modified)


def test_whisper_encoder_through_onnxslim_conforms(capsys, tmp_path):
    """transformers' WhisperEncoder (tiny config, random weights) through onnxslim: the scaling is a fold."""
    pytest.importorskip("transformers")
    import onnxslim
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    config = WhisperConfig(
        num_mel_bins=8,
        d_model=16,
        encoder_layers=1,
        encoder_attention_heads=2,
        encoder_ffn_dim=32,
        max_source_positions=8,
    )
    torch.manual_seed(0)

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = WhisperEncoder(config).eval()

        def forward(self, features):
            return self.encoder(features).last_hidden_state

    reference, candidate = tmp_path / "ref.onnx", tmp_path / "slim.onnx"
    torch.onnx.export(
        Encoder().eval(),
        (torch.randn(1, 8, 16),),
        str(reference),
        input_names=["features"],
        output_names=["hidden"],
        opset_version=17,
        dynamo=False,
    )
    onnx.save(onnxslim.slim(onnx.load(str(reference))), str(candidate))
    code, report = check_json(capsys, reference, candidate, "mlperf-inference")
    kinds = _kinds(report)
    assert code == 0 and report["verdict"] == "conforms", kinds
    assert "weights.folded" in kinds and "scale Mul folded" in kinds["graph.ops_fused"]["summary"]


class _MaskedAttentionGnn(torch.nn.Module):
    """An R-GAT-like layer in miniature: scores over the graph's edges, non-edges masked with -1e9."""

    def __init__(self):
        super().__init__()
        self.project = torch.nn.Linear(8, 8)

    def forward(self, features, adjacency):
        hidden = self.project(features)
        scores = (hidden @ hidden.t()).masked_fill(adjacency == 0, -1e9)
        return torch.softmax(scores, -1) @ hidden


def _fp16_gnn(folder, converter: str):
    reference, candidate = folder / "ref.onnx", folder / f"{converter}.onnx"
    torch.manual_seed(0)
    sample = (torch.randn(5, 8), (torch.rand(5, 5) > 0.5).float())
    torch.onnx.export(
        _MaskedAttentionGnn().eval(),
        sample,
        str(reference),
        input_names=["features", "adjacency"],
        output_names=["out"],
        opset_version=17,
        dynamo=False,
    )
    if converter == "onnxconverter_common":
        from onnxconverter_common import float16
    else:
        from onnxruntime.transformers import float16
    model = float16.convert_float_to_float16(onnx.load(str(reference)), keep_io_types=True)
    onnx.save(model, str(candidate))
    return reference, candidate


def _fill_value(path) -> float:
    model = onnx.load(str(path))
    values = [numpy_helper.to_array(n.attribute[0].t) for n in model.graph.node if n.op_type == "Constant"]
    values += [numpy_helper.to_array(t) for t in model.graph.initializer]
    return float(min(v.min() for v in values if v.size))


@pytest.mark.parametrize(
    ("converter", "clamped_to", "semantics"),
    [
        ("onnxconverter_common", -1e4, "fp16-clamp"),
        ("onnxruntime", -65504.0, "fp16-clamp-onnxruntime"),
    ],
)
def test_a_clamped_masked_fill_value_is_precision_reduced(capsys, tmp_path, converter, clamped_to, semantics):
    """Each fp16 converter clamps -1e9 to its documented bound: precision reduced, the clamp counted."""
    reference, candidate = _fp16_gnn(tmp_path, converter)
    assert _fill_value(candidate) == clamped_to
    for rulebook in ("mlperf-inference", "mlperf-training"):
        code, report = check_json(capsys, reference, candidate, rulebook)
        kinds = _kinds(report)
        assert code == 0 and report["verdict"] == "conforms", kinds
        assert "weights.replaced" not in kinds and "weights.modified" not in kinds
        reduced = kinds["weights.precision_reduced"]
        assert reduced["evidence"]["metrics"]["clamped"] == 1 and semantics in reduced["summary"]


def test_a_fill_value_no_clamp_explains_is_still_caught(capsys, tmp_path):
    """-1e9 written as -5 in fp16 is no converter's clamp: the masked scores leak, a changed weight."""
    reference, candidate = _fp16_gnn(tmp_path, "onnxruntime")
    model = onnx.load(str(candidate))
    for node in model.graph.node:
        if node.op_type == "Constant" and numpy_helper.to_array(node.attribute[0].t).min() < -1e4:
            node.attribute[0].t.CopyFrom(numpy_helper.from_array(np.array(-5.0, dtype=np.float16)))
    onnx.save(model, str(candidate))
    code, report = check_json(capsys, reference, candidate, "mlperf-inference")
    kinds = _kinds(report)
    assert code == 1 and report["verdict"] == "violates"
    assert {"weights.replaced", "weights.modified"} & set(kinds)


class _Dlrm(torch.nn.Module):
    """DLRM in miniature: an EmbeddingBag (sum over offsets), a bottom and a top Linear; hashed if asked."""

    def __init__(self, rows: int = 50, hashed: int | None = None):
        super().__init__()
        self.hashed = hashed
        self.bag = torch.nn.EmbeddingBag(hashed or rows, 8, mode="sum")
        self.bottom = torch.nn.Linear(4, 8)
        self.top = torch.nn.Linear(16, 1)

    def forward(self, dense, indices, offsets):
        if self.hashed:
            indices = torch.remainder(indices, self.hashed)  # the hashing trick: indices modulo the rows
        dense = torch.relu(self.bottom(dense))
        return torch.sigmoid(self.top(torch.cat([dense, self.bag(indices, offsets)], 1)))


def _export_dlrm(module, path) -> None:
    sample = (torch.randn(2, 4), torch.tensor([1, 2, 3, 4, 5]), torch.tensor([0, 3]))
    torch.onnx.export(
        module.eval(),
        sample,
        str(path),
        input_names=["dense", "indices", "offsets"],
        output_names=["out"],
        opset_version=17,
        dynamo=False,
    )


def _hashed_dlrm(folder, redrawn: bool):
    """The reference DLRM, and one whose table has 20 rows (the reference's first, or drawn anew)."""
    torch.manual_seed(0)
    reference = _Dlrm()
    _export_dlrm(reference, folder / "ref.onnx")
    hashed = _Dlrm(hashed=20)
    state = {k: v for k, v in reference.state_dict().items() if not k.startswith("bag")}
    table = torch.randn(20, 8) if redrawn else reference.bag.weight[:20].detach().clone()
    hashed.load_state_dict({**state, "bag.weight": table})
    _export_dlrm(hashed, folder / "hashed.onnx")
    return folder / "ref.onnx", folder / "hashed.onnx"


@pytest.mark.parametrize("redrawn", [False, True], ids=["rows_kept", "rows_redrawn"])
@pytest.mark.parametrize("rulebook", ["mlperf-inference", "mlperf-training"])
def test_a_hashed_table_is_pruned_or_replaced_with_the_rows_counted(capsys, tmp_path, redrawn, rulebook):
    """A table of 20 rows for the reference's 50 (indices modulo 20) is weights, not a shape mismatch."""
    reference, candidate = _hashed_dlrm(tmp_path, redrawn)
    code, report = check_json(capsys, reference, candidate, rulebook)
    kinds = _kinds(report)
    if rulebook == "mlperf-training" and not redrawn:
        # training compares starting weights by distribution, so kept rows are pruning for a reviewer; the
        # hashing Mod is witnessed by no input (the sampled indices stay below 20, and the Mod's result is
        # read only inside the Loop body, so the region has no boundary output to run): unexplained, for a
        # reviewer too (issue 27: no violation without a witness)
        assert code == 2 and report["verdict"] == "needs_review"
        assert kinds["graph.region_unexplained"]["evidence"]["details"]["observed_as"] == "graph.op_added"
    else:
        assert code == 1 and report["verdict"] == "violates"
    found = kinds["weights.replaced" if redrawn else "weights.pruned"]
    assert "bag.weight" in found["summary"] and "20" in found["summary"] and "50" in found["summary"]
    assert found["evidence"]["metrics"]["rows_removed"] == 30 and found["evidence"]["metrics"]["rows"] == 50


def test_a_pruned_table_is_seen_through_a_loop_onnxruntime_rewrote(capsys, tmp_path):
    """onnxruntime rewrites the EmbeddingBag's Loop body (unmatched), yet the table it reads is compared."""
    from parity.examples.build import optimise_with_onnxruntime

    torch.manual_seed(0)
    reference, candidate = tmp_path / "ref.onnx", tmp_path / "ort.onnx"
    _export_dlrm(_Dlrm(), reference)
    optimise_with_onnxruntime(onnx.load(str(reference)), candidate, "all")
    code, report = check_json(capsys, reference, candidate, "mlperf-inference")
    tables = [o for o in report["observations"] if "bag.weight" in json.dumps(o.get("evidence", {}))]
    assert any(o["kind"] == "weights.identical" for o in tables)  # the unpruned table: compared, identical
    model = onnx.load(str(candidate))
    (table,) = [tensor for tensor in model.graph.initializer if tensor.name == "bag.weight"]
    rows = numpy_helper.to_array(table).copy()
    rows[25:] = 0  # rows the sample indices never read: invisible to the outputs
    table.CopyFrom(numpy_helper.from_array(rows, table.name))
    onnx.save(model, str(candidate))
    code, report = check_json(capsys, reference, candidate, "mlperf-inference")
    pruned = _kinds(report).get("weights.pruned")
    assert code == 1 and pruned and "bag.weight" in pruned["summary"]
