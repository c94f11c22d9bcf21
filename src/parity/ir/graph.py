"""A small neutral graph: what the graph engine canonicalises and matches.

Nodes carry an op type (domain-qualified for non-standard domains), semantic attributes (hashable,
opset-independent), and the names of the values they read and write. Parameters are references to the
tensors in the loaded model (name, shape, dtype, and how to get the values), never copies. Every node
remembers the original node names it stands for (``origin``) and the rewrite that made it, so a
canonicalised graph can always be traced back to the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Shape = tuple[int | str | None, ...] | None


@dataclass(slots=True)
class ValueInfo:
    """Type of a value: element type name (onnx spelling, e.g. 'FLOAT') and shape (None if unknown)."""

    dtype: str | None = None
    shape: Shape = None


@dataclass(slots=True)
class Param:
    """A constant tensor of the model, by reference: values are read only when someone asks."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    load: Callable[[], np.ndarray] = field(repr=False, compare=False)
    transform: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    #: what a transform needs to be checked (e.g. the scale and zero point of a dequantization)
    info: dict = field(default_factory=dict, compare=False)
    #: the parameters a derived parameter is computed from, in the transform's argument order
    parents: tuple[Param, ...] = field(default=(), repr=False, compare=False)

    def values(self) -> np.ndarray:
        """The tensor's values (reads the model's buffer; may be large)."""
        return self.load()


@dataclass(slots=True)
class Node:
    """One operation of the graph."""

    name: str
    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    origin: tuple[str, ...] = ()
    rewrite: str | None = None
    history: tuple[str, ...] = ()
    #: outer-scope names its subgraphs (a Loop's or If's bodies) read, in the order first read
    captures: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin:
            self.origin = (self.name,)


@dataclass(frozen=True)
class SourceNames:
    """Names as they are in the model file (canonicalisation renames and rewires the Graph itself)."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    writers: dict[str, str]
    reads: dict[str, tuple[str, ...]]
    ops: dict[str, str] = field(default_factory=dict)


@dataclass
class Graph:
    """A model's main graph in neutral form, with producer and consumer indexes kept up to date."""

    name: str
    nodes: dict[str, Node]
    inputs: list[str]
    outputs: list[str]
    values: dict[str, ValueInfo]
    params: dict[str, Param]
    opsets: dict[str, int]
    path: str | None = None
    producer: dict[str, str] = field(default_factory=dict)
    consumers: dict[str, list[str]] = field(default_factory=dict)
    #: names of nodes added since the canonicaliser last looked (its worklist feed)
    added: list[str] = field(default_factory=list, repr=False)
    #: the file as written, kept through canonicalisation: outputs, tensor → writing node, node → inputs
    source: SourceNames | None = field(default=None, repr=False)
    #: what reading the file took beyond parsing it (node order restored), for the report
    notes: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.reindex()

    # --- indexes -------------------------------------------------------------------------------------
    def reindex(self) -> None:
        """Rebuild producer/consumer indexes (after bulk edits)."""
        self.producer = {}
        self.consumers = {}
        for node in self.nodes.values():
            self._index(node)

    def _index(self, node: Node) -> None:
        for value in node.outputs:
            if value:
                self.producer[value] = node.name
        for value in node.inputs:
            if value:
                self.consumers.setdefault(value, []).append(node.name)

    def producer_of(self, value: str) -> Node | None:
        """The node writing ``value``, or None for graph inputs, parameters and missing optionals."""
        name = self.producer.get(value)
        return None if name is None else self.nodes[name]

    def consumers_of(self, value: str) -> list[Node]:
        """Nodes reading ``value``, in graph order."""
        return [self.nodes[name] for name in self.consumers.get(value, ())]

    def is_output(self, value: str) -> bool:
        """True if ``value`` is a graph output."""
        return value in self.outputs

    # --- edits ---------------------------------------------------------------------------------------
    def remove_node(self, node: Node) -> None:
        """Delete ``node`` (its outputs must already be unused or rerouted)."""
        del self.nodes[node.name]
        for value in node.outputs:
            if self.producer.get(value) == node.name:
                del self.producer[value]
        for value in node.inputs:
            readers = self.consumers.get(value)
            if readers and node.name in readers:
                readers.remove(node.name)

    def add_node(self, node: Node) -> Node:
        """Insert ``node`` (its name must be new)."""
        if node.name in self.nodes:
            raise ValueError(f"duplicate node name {node.name!r}")
        self.nodes[node.name] = node
        self.added.append(node.name)
        self._index(node)
        return node

    def replace_uses(self, old: str, new: str) -> None:
        """Make every reader of value ``old`` read ``new`` instead (graph outputs included)."""
        for reader in self.consumers.pop(old, []):
            node = self.nodes[reader]
            node.inputs = [new if value == old else value for value in node.inputs]
            self.consumers.setdefault(new, []).append(reader)
        self.outputs = [new if value == old else value for value in self.outputs]

    def bypass(self, node: Node, keep: str) -> None:
        """Remove a node that passes value ``keep`` through unchanged to its first output."""
        out = node.outputs[0]
        self.remove_node(node)
        self.replace_uses(out, keep)
        if out in self.values and keep not in self.values:
            self.values[keep] = self.values[out]

    def neighbours(self, node: Node) -> list[str]:
        """Names of the nodes that produce this node's inputs or read its outputs."""
        found = [self.producer[v] for v in node.inputs if v in self.producer]
        found += [reader for v in node.outputs for reader in self.consumers.get(v, ())]
        return found

    def unique_name(self, base: str) -> str:
        """A node name not used yet."""
        name, index = base, 1
        while name in self.nodes:
            index += 1
            name = f"{base}_{index}"
        return name

    # --- traversal -----------------------------------------------------------------------------------
    def topological(self) -> Iterator[Node]:
        """Nodes in topological order (Kahn's algorithm); raises ValueError on a cycle."""
        pending = {name: 0 for name in self.nodes}
        for node in self.nodes.values():
            pending[node.name] = len({self.producer[v] for v in node.inputs if v in self.producer})
        ready = [name for name, count in pending.items() if count == 0]
        seen = 0
        while ready:
            name = ready.pop()
            seen += 1
            node = self.nodes[name]
            yield node
            for reader in dict.fromkeys(r for value in node.outputs for r in self.consumers.get(value, ())):
                pending[reader] -= 1
                if pending[reader] == 0:
                    ready.append(reader)
        if seen != len(self.nodes):
            raise ValueError("the graph has a cycle")

    def value_info(self, value: str) -> ValueInfo:
        """Type of ``value`` (parameters included); an empty ValueInfo if unknown."""
        if value in self.params:
            param = self.params[value]
            return ValueInfo(param.dtype, param.shape)
        return self.values.get(value) or ValueInfo()

    def op_counts(self) -> dict[str, int]:
        """How many nodes of each op type."""
        counts: dict[str, int] = {}
        for node in self.nodes.values():
            counts[node.op] = counts.get(node.op, 0) + 1
        return counts
