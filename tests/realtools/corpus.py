"""Build the real-tool corpus: every architecture through every tool, plus injected violations.

Each case is a (reference, candidate, inputs) triple with the verdict each suite's rules call for:

- a tool's output conforms under inference, except quantization, whose calibration the rules want as
  evidence (needs review without it);
- under training a tool's output conforms unless it folded batch norms into weights or removed dropout
  (counted in the files: fewer BatchNormalization or Dropout nodes than the reference), which the
  training rules do not allow;
- re-drawn weights (same initialiser, another seed) conform under training and violate inference;
- every injected violation violates both, and must be located (``where``), except a single edited
  weight under training, whose rules check initial weights by distribution: a reviewer decides.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnx

from realtools.architectures import ARCHITECTURES, Architecture, Variant
from realtools.families import architecture
from realtools.tools import TOOLS, Tool, ToolFailed, export
from realtools.violations import VIOLATIONS, redrawn

SAMPLES = 8
#: violations the training rules judge differently: training checks initial weights by distribution, so a
#: few edited values are for a reviewer (a fresh draw may look like that; a checkpoint may not be edited)
VIOLATION_EXPECTED = {
    "modified_weight": {"inference": "violates", "training": "needs_review"},
    # an approximation's attribute: inference allows approximations (judged by the accuracy target),
    # training's rule is the same function, so the changed attribute is the witness
    "epsilon": {"inference": "conforms", "training": "violates"},
}


@dataclass
class Case:
    """One audit the corpus asks for, and what it must say."""

    arch: str
    name: str
    kind: str  # "tool", "violation" or "redrawn"
    reference: str
    candidate: str
    inputs: str
    expected: dict[str, str]
    where: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.arch}-{self.name}"


def planned() -> list[tuple[str, str]]:
    """Every (architecture, candidate) the corpus tries to build, in a fixed order (test ids)."""
    found = []
    for arch in ARCHITECTURES.values():
        found += [(arch.name, tool.name) for tool in TOOLS.values() if tool.applies(arch)]
        found += [(arch.name, f"violation_{name}") for name in arch.violations]
        found.append((arch.name, "redrawn"))
    return found


def _count(path: Path, op: str) -> int:
    model = onnx.load(str(path), load_external_data=False)
    return sum(1 for node in model.graph.node if node.op_type == op)


def tool_expectation(tool: Tool, reference: Path, candidate: Path) -> tuple[dict[str, str], list[str]]:
    """The verdicts the rules call for, from what the tool did to the files."""
    notes = []
    training = "conforms"
    for op, why in (("BatchNormalization", "batch norm folded"), ("Dropout", "dropout removed")):
        before, after = _count(reference, op), _count(candidate, op)
        if after < before:
            training = "violates"
            notes.append(f"{why}: {before} → {after} {op} nodes")
    # a quantizer's pre-processing (onnxruntime's optimiser) is where scales get folded; its output says
    # so before the quantize/dequantize pairs hide the arithmetic
    prepared = candidate.with_name(f"{candidate.stem}.pre.onnx")
    # (dynamic quantization rewrites every product into integer arithmetic: no arithmetic left to count)
    counted = prepared if prepared.exists() else None if tool.quantizes else candidate
    folded = _scales_folded(reference, counted) if counted is not None else None
    if folded and training == "conforms":
        training = "violates"
        notes.append(f"constant scales folded into weights: {folded[0]} → {folded[1]}")
    dropped = _neutral_parameters_dropped(reference, candidate)
    if dropped and training == "conforms":
        training = "needs_review"
        notes.append(f"parameters dropped at their neutral initial value: {', '.join(dropped[:3])}")
    inference = "needs_review" if tool.quantizes else "conforms"
    return {"inference": inference, "training": training}, notes


#: operators that read a weight (their second input a constant) and whose output a scale may follow
WEIGHT_OPS = ("Conv", "MatMul", "Gemm")
#: operators between a product and its scale that only move or re-encode values (a Gemm's 2-D product
#: reshaped back, an activation quantized and dequantized)
PASSING_DATA = (
    "Reshape",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Transpose",
    "QuantizeLinear",
    "DequantizeLinear",
)
#: onnxruntime's fused attention operators, which apply the query's scaling themselves
ATTENTION_OPS = ("Attention", "MultiHeadAttention", "GroupQueryAttention", "PackedAttention")


def _scales_folded(reference: Path, candidate: Path) -> tuple[int, int] | None:
    """Scales by a constant applied to a weight operator's output, counted in both models: fewer in the
    candidate means a tool folded them into the weights (a frozen batch norm's Mul and Add, attention's
    query scaling, a layer scale), which re-parameterises trained weights: (reference, candidate) counts.

    A scale kept as a fused operator's attribute (FusedMatMul's or Gemm's alpha) is counted as kept.
    """

    def count(path: Path) -> int:
        model = onnx.load(str(path), load_external_data=False)
        constants = {t.name for t in model.graph.initializer}
        for node in model.graph.node:  # computed from constants only (a cast, a dequantized weight, a fold)
            if all(v in constants for v in node.input if v) and node.op_type not in ("RandomNormal", "Shape"):
                constants.update(node.output)
        producer = {value: node for node in model.graph.node for value in node.output}
        readers: dict[str, int] = {}
        for node in model.graph.node:
            for value in node.input:
                readers[value] = readers.get(value, 0) + 1

        def weighted(value: str, depth: int = 0):
            node = producer.get(value)
            if node is None or readers.get(value, 0) != 1:  # a scale is the product's only reader
                return False
            if node.op_type in WEIGHT_OPS and len(node.input) > 1 and node.input[1] in constants:
                return True
            if node.op_type == "Add" and depth == 0:  # a bias between the product and the scale
                others = [v for v in node.input if v not in constants]
                return len(others) == 1 and weighted(others[0], 1)
            if node.op_type in PASSING_DATA and depth < 4:
                return weighted(node.input[0], depth + 1)  # a Gemm's 2-D product reshaped back
            return False

        found = 0
        for node in model.graph.node:
            if node.op_type in ("Mul", "Div") and len(node.input) == 2:
                data = [v for v in node.input if v not in constants]
                found += (
                    len(data) == 1
                    and data[0] != node.input[-1] * (node.op_type == "Div")
                    and weighted(data[0])
                )
            alpha = next((a.f for a in node.attribute if a.name == "alpha"), 1.0)
            found += node.op_type in ("FusedMatMul", "Gemm") and alpha != 1.0
            found += node.op_type in ATTENTION_OPS  # the query's scaling is the operator's own
        return found

    before, after = count(reference), count(candidate)
    return (before, after) if after < before else None


def _neutral_parameters_dropped(reference: Path, candidate: Path) -> list[str]:
    """Tensors of zeros added (or ones multiplied) in the reference that no node of the candidate reads.

    A zero-initialised bias is a trained parameter: simplifiers drop its Add, which is the same function
    at initialisation only, so the training rules ask a reviewer (training.graph.trainable-parameters).
    Fusions that keep reading the bias (Gemm, SkipLayerNormalization) keep it. Counted per shape, since
    tools rename and merge equal constants.
    """
    from collections import Counter

    from onnx import numpy_helper

    def neutral_shapes(path: Path, ops: tuple[str, ...] | None) -> Counter:
        model = onnx.load(str(path))
        tensors = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        for node in model.graph.node:  # shared through Identity nodes, or stored quantized or narrower
            if node.op_type in PASSING and node.input[0] in tensors:
                tensors[node.output[0]] = _passed(node, tensors)
        found = Counter()
        for node in model.graph.node:
            if (ops is not None and node.op_type not in ops) or node.op_type in PASSING:
                continue
            for name in node.input:
                array = tensors.get(name)
                if array is not None and array.size >= 2 and (np.all(array == 0) or np.all(array == 1)):
                    found[tuple(array.shape)] += 1
        return found

    missing = neutral_shapes(reference, ("Add", "Mul")) - neutral_shapes(candidate, None)
    return [f"{count} × {list(shape)}" for shape, count in sorted(missing.items())]


#: nodes that hand a stored tensor on unchanged in value: exporters' sharing, dequantization, casts
PASSING = ("Identity", "DequantizeLinear", "Cast")


def _passed(node, tensors: dict[str, np.ndarray]) -> np.ndarray:
    """The value a passing node hands on (a dequantized tensor's real values; a cast's values)."""
    values = tensors[node.input[0]]
    if node.op_type != "DequantizeLinear":
        return values.astype(np.float64)
    scale = tensors.get(node.input[1], np.float64(1.0)) if len(node.input) > 1 else 1.0
    zero = tensors.get(node.input[2], np.int64(0)) if len(node.input) > 2 and node.input[2] else 0
    scale, zero = np.asarray(scale, np.float64), np.asarray(zero, np.float64)
    if scale.size > 1:  # per-channel: along the node's axis
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1) % values.ndim
        shape = [1] * values.ndim
        shape[axis] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape) if zero.size > 1 else zero
    return (values.astype(np.float64) - zero) * scale


def _unloadable(path: Path) -> str | None:
    """Why onnxruntime itself refuses the tool's output (then it is no candidate), or None."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4
    try:
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # the tool wrote a model its own runtime cannot load
        return f"onnxruntime cannot load the output: {str(exc).splitlines()[0][:200]}"
    return None


def _inputs(arch: Architecture, path: Path) -> None:
    np.savez(path, **arch.inputs(np.random.default_rng(42), SAMPLES))


def build(
    folder: Path,
    archs: list[str] | None = None,
    tools: list[str] | None = None,
    violations: bool = True,
    wanted: set[tuple[str, str]] | None = None,
    registry: dict[str, Tool] | None = None,
) -> tuple[list[Case], list[dict]]:
    """Write the corpus under ``folder``; return the cases and the tool runs that failed.

    ``archs`` may name MLPerf families (families.py) too; by default the main corpus is built.
    ``wanted`` keeps only those (architecture, candidate) pairs (a slice of the corpus); ``registry`` is
    the tools to run (the main corpus's ``TOOLS`` by default; ``family_tools()`` for the families).
    """
    registry = registry or TOOLS

    def keep(arch_name: str, name: str) -> bool:
        return wanted is None or (arch_name, name) in wanted

    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    failed: list[dict] = []
    for arch_name in archs or list(ARCHITECTURES):
        arch = architecture(arch_name)
        work = folder / arch_name
        work.mkdir(exist_ok=True)
        reference = work / "reference.onnx"
        export(arch.build(Variant()), arch, reference)
        inputs = work / "inputs.npz"
        _inputs(arch, inputs)
        for tool in [registry[name] for name in (tools or list(registry))]:
            if not tool.applies(arch) or not keep(arch_name, tool.name):
                continue
            candidate = work / f"{tool.name}.onnx"
            started = time.perf_counter()
            try:
                tool.run(reference, arch, candidate, work)
            except ToolFailed as exc:
                failed.append({"arch": arch_name, "tool": tool.name, "error": str(exc)})
                continue
            except Exception as exc:  # a tool's crash: recorded, not a candidate
                failed.append(
                    {
                        "arch": arch_name,
                        "tool": tool.name,
                        "error": f"{type(exc).__name__}: {exc}",
                        "trace": traceback.format_exc(limit=3),
                    }
                )
                continue
            problem = _unloadable(candidate)
            if problem:
                failed.append({"arch": arch_name, "tool": tool.name, "error": problem})
                continue
            own = work / f"{candidate.stem}.reference.onnx"
            ref = own if tool.own_reference else reference
            expected, notes = tool_expectation(tool, ref, candidate)
            notes.append(f"built in {time.perf_counter() - started:.1f} s")
            cases.append(
                Case(
                    arch_name, tool.name, "tool", str(ref), str(candidate), str(inputs), expected, None, notes
                )
            )
        if not violations:
            continue
        for name in (v for v in arch.violations if keep(arch_name, f"violation_{v}")):
            candidate = work / f"violation_{name}.onnx"
            try:
                where = VIOLATIONS[name].make(arch, reference, candidate)
            except ToolFailed as exc:
                failed.append({"arch": arch_name, "tool": f"violation:{name}", "error": str(exc)})
                continue
            cases.append(
                Case(
                    arch_name,
                    f"violation_{name}",
                    "violation",
                    str(reference),
                    str(candidate),
                    str(inputs),
                    VIOLATION_EXPECTED.get(name, {"inference": "violates", "training": "violates"}),
                    where,
                )
            )
        if not keep(arch_name, "redrawn"):
            continue
        candidate = work / "redrawn.onnx"
        redrawn(arch, candidate)
        cases.append(
            Case(
                arch_name,
                "redrawn",
                "redrawn",
                str(reference),
                str(candidate),
                str(inputs),
                {"inference": "violates", "training": "conforms"},
            )
        )
    (folder / "manifest.json").write_text(
        json.dumps({"cases": [asdict(c) for c in cases], "failed": failed}, indent=1, sort_keys=True)
    )
    return cases, failed


def load(folder: Path) -> tuple[list[Case], list[dict]]:
    """The cases of a corpus built earlier (its manifest)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return [Case(**item) for item in manifest["cases"]], manifest["failed"]


def versions() -> dict[str, str]:
    """The versions of every tool the corpus ran."""
    import importlib.metadata as metadata

    found = {}
    for package in (
        "onnx",
        "onnxruntime",
        "onnxsim",
        "onnxslim",
        "onnxconverter-common",
        "onnxscript",
        "torch",
        "transformers",
        "numpy",
    ):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found
