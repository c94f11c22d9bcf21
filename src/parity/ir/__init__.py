"""Loaders into a small neutral graph/tensor model (ONNX first)."""

from parity.ir.from_onnx import graph_from_model, load_graph
from parity.ir.graph import Graph, Node, Param, ValueInfo
from parity.ir.onnx_file import read_onnx

__all__ = ["Graph", "Node", "Param", "ValueInfo", "graph_from_model", "load_graph", "read_onnx"]
