"""Weights kept outside the model (``--reference-weights`` / ``--candidate-weights``).

The safetensors tensors replace the model's initializers of the same name, by reference.
"""

from __future__ import annotations

from pathlib import Path

from parity.errors import BadInput
from parity.ir.graph import Graph
from parity.ir.safetensors_file import read_safetensors


def attach_weights(graph: Graph, path: str | Path) -> int:
    """Point the graph's parameters at the tensors of ``path`` with the same names; return how many.

    Raises:
        BadInput: the file is bad, or a tensor's shape differs from the model's.
    """
    tensors = read_safetensors(path)
    used = 0
    for name, tensor in tensors.items():
        param = graph.params.get(name)
        if param is None:
            continue
        if tuple(param.shape) != tensor.shape:
            raise BadInput(
                f"tensor {name!r} has shape {list(tensor.shape)}, the model expects {list(param.shape)}", path
            )
        param.load = tensor.load
        param.dtype = tensor.onnx_type
        used += 1
    if tensors and not used:
        raise BadInput("no tensor name matches a parameter of the model", path)
    return used
