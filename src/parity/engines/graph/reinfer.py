"""Shape inference again, on the canonical graph: constants folded by the rewrites make shapes static.

Exporters compute Expand targets, Reshape targets and masks from ``Shape`` at run time, so onnx's
inference on the file leaves their results with symbolic dimensions. After canonicalisation those
computations are constants, and a second inference (on a light copy: large weights are typed inputs,
never read) gives static shapes, which shape-dependent rewrites and the region proofs need.
"""

from __future__ import annotations

from parity.ir import Graph, ValueInfo
from parity.ir.from_onnx import infer_shapes, value_info_of

#: parameters up to this many elements are values in the light copy (shape tensors, scalars)
SMALL = 4096


def refresh_shapes(graph: Graph) -> int:
    """Fill in shapes that are unknown or symbolic where inference now finds static ones; how many."""
    from parity.ir.to_onnx import graph_to_model

    try:
        light = graph_to_model(graph, max_initializer=SMALL)
        inferred = infer_shapes(light)
    except Exception:  # inference is best effort: what it cannot infer stays as it was
        return 0
    improved = 0
    for value in [*inferred.graph.value_info, *inferred.graph.output]:
        found = value_info_of(value)
        if found.shape is None or not all(isinstance(d, int) for d in found.shape):
            continue
        known = graph.values.get(value.name)
        if known is not None and known.shape is not None and all(isinstance(d, int) for d in known.shape):
            continue
        graph.values[value.name] = ValueInfo(found.dtype or (known.dtype if known else None), found.shape)
        improved += 1
    return improved
