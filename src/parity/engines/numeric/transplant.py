"""Training compares computation, not the draw: the reference's weights transplanted into the candidate.

Under the training rules initial weights need only the reference's distribution, so a candidate with
re-drawn weights computes other numbers from the same function. When every weight differs only as the
training rules allow (drawn again from the same distribution), the candidate's file is copied with each
such parameter replaced by the reference parameter it stands for (through the graph correspondence) and
run again; that run's outputs are what is judged, and the report names the transplanted weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from parity.engines.graph import GraphComparison
from parity.engines.weights.distribution import FROM_REFERENCE
from parity.observations.kinds import WEIGHTS_REINIT_SAME

#: weight verdicts a transplant replaces (the values are a draw, not the reference's)
DRAWN = frozenset({WEIGHTS_REINIT_SAME})
#: weight verdicts that leave the values as they are (the reference's, under a transform)
KEPT = FROM_REFERENCE


def transplant_plan(comparison: GraphComparison, verdicts: list) -> dict[str, str] | None:
    """Candidate initializer → reference parameter, when the weights differ only by the draw; else None.

    Only stored tensors paired one to one, with the same shape and no transform on either side, can be
    moved across; a re-drawn tensor that cannot be is a reason not to transplant at all.
    """
    if not verdicts or not any(v.kind in DRAWN for v in verdicts):
        return None
    if any(v.kind not in DRAWN | KEPT for v in verdicts):
        return None
    plan = {}
    for verdict in verdicts:
        if verdict.kind not in DRAWN:
            continue
        if verdict.transforms or len(verdict.reference) != 1 or len(verdict.candidate) != 1:
            return None
        plan[verdict.candidate[0]] = verdict.reference[0]
    return plan


def write_transplanted(
    comparison: GraphComparison, candidate: Path, plan: dict[str, str], target: Path
) -> list[str]:
    """The candidate's model with the planned parameters replaced by the reference's values; their names."""
    model = onnx.load(str(candidate), load_external_data=True)
    reference = comparison.reference.params
    moved = []
    for tensor in model.graph.initializer:
        source = plan.get(tensor.name)
        if source is None or source not in reference:
            continue
        values = np.asarray(reference[source].values())
        stored = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)
        if tuple(values.shape) != tuple(tensor.dims):
            continue
        tensor.CopyFrom(numpy_helper.from_array(values.astype(stored), tensor.name))
        moved.append(tensor.name)
    onnx.save(model, str(target))
    return sorted(moved)
