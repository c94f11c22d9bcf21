"""The rewrite registry's building blocks and the canonicaliser that runs them to a fixed point.

A rewrite is a small pattern at one node plus its replacement (onnxscript's shape, minus the library:
our IR is a few hundred lines and has to carry provenance). Each rewrite names the change kind it
observes: when canonicalisation applies it more often to one model than to the other, the difference
between the models is exactly that change, and the application records which nodes it touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from parity.ir import Graph, Node
from parity.ir.attributes import with_defaults

MAX_PASSES = 20


@dataclass(frozen=True)
class Application:
    """One application of a rewrite: the original node names it touched and what it learned."""

    rewrite: str
    nodes: tuple[str, ...]
    details: dict[str, Any] = field(default_factory=dict)


class Rewrite:
    """Base class: subclasses set the class attributes and implement :meth:`apply`.

    Attributes:
        name: registry name.
        ops: op types of the node where the pattern is anchored ('*' for any).
        kind: change kind when the pattern occurs more often in the reference than in the candidate (the
            candidate already has the canonical form: it made this transformation).
        candidate_kind: change kind when the pattern occurs more often in the candidate (default: ``kind``).
    """

    name: ClassVar[str]
    ops: ClassVar[tuple[str, ...]]
    kind: ClassVar[str]
    candidate_kind: ClassVar[str | None] = None
    silent: ClassVar[bool] = False  # a normalisation that is never a difference (e.g. static Reshape targets)
    #: how a person would say it: (pattern in the reference only, pattern in the candidate only)
    says: ClassVar[tuple[str, str]] = ("", "")

    def apply(self, graph: Graph, node: Node) -> Application | None:
        """Rewrite the pattern anchored at ``node`` in place; None if it does not match."""
        raise NotImplementedError

    def applied(self, nodes: Iterable[Node], **details: Any) -> Application:
        """An Application naming the original nodes behind ``nodes``."""
        origin = tuple(dict.fromkeys(name for node in nodes for name in node.origin))
        return Application(self.name, origin, details)


class GraphPass:
    """A rewrite over the whole graph at once (dead code, common subexpressions)."""

    name: ClassVar[str]
    kind: ClassVar[str]
    candidate_kind: ClassVar[str | None] = None
    says: ClassVar[tuple[str, str]] = ("", "")

    def run(self, graph: Graph) -> list[Application]:
        """Apply everywhere; return one Application per change."""
        raise NotImplementedError


def fresh_value(graph: Graph, base: str) -> str:
    """A value name not used in ``graph`` yet, derived from ``base``."""
    name, index = f"{base}#", 1
    while name in graph.producer or name in graph.params or name in graph.consumers or name in graph.inputs:
        index += 1
        name = f"{base}#{index}"
    return name


def emit(graph: Graph, like: Node, op: str, inputs: list[str], out: str, rewrite: str, **attrs: Any) -> str:
    """Add a node made by ``rewrite`` in place of ``like`` (keeping its provenance); return its output."""
    if "." not in op:
        attrs = with_defaults(op, attrs, graph.opsets.get("", 17))
    graph.add_node(
        Node(
            name=graph.unique_name(f"{like.name}/{op}"),
            op=op,
            inputs=inputs,
            outputs=[out],
            attrs=attrs,
            origin=like.origin,
            rewrite=rewrite,
            history=(*like.history, rewrite),
        )
    )
    return out


@dataclass
class RewriteSet:
    """An ordered registry of rewrites and graph passes, indexed by anchor op."""

    rewrites: list[Rewrite]
    passes: list[GraphPass] = field(default_factory=list)

    def __post_init__(self) -> None:
        names = [r.name for r in self.rewrites] + [p.name for p in self.passes]
        if len(names) != len(set(names)):
            raise ValueError("rewrite names must be unique")
        self.by_op: dict[str, list[Rewrite]] = {}
        for rewrite in self.rewrites:
            for op in rewrite.ops:
                self.by_op.setdefault(op, []).append(rewrite)

    def __add__(self, other: RewriteSet) -> RewriteSet:
        return RewriteSet([*self.rewrites, *other.rewrites], [*self.passes, *other.passes])

    def phrases(self) -> dict[str, tuple[str, str]]:
        """Rewrite name → how a person would say each direction."""
        return {item.name: item.says for item in [*self.rewrites, *self.passes]}

    def kinds(self) -> dict[str, tuple[str, str]]:
        """Rewrite name → (kind, candidate_kind), for rewrites whose applications are differences."""
        items = [*self.rewrites, *self.passes]
        return {
            item.name: (item.kind, item.candidate_kind or item.kind)
            for item in items
            if not getattr(item, "silent", False)
        }


def canonicalise(graph: Graph, rewrites: RewriteSet) -> list[Application]:
    """Apply every rewrite until none matches (bounded); return what was applied, in order.

    A worklist holds the nodes to look at: every node at first, then only the nodes a rewrite created and
    their neighbours; a full sweep follows until one applies nothing (a few patterns look further than
    their neighbours), so the cost stays proportional to the graph times a small number of sweeps. Graph
    passes run once first, so dead code and duplicates present in the file are reported; later runs only
    clean up after other rewrites, and their applications are consequences, not differences.
    """
    from parity.engines.graph.reinfer import refresh_shapes

    log: list[Application] = []
    for graph_pass in rewrites.passes:
        log.extend(graph_pass.run(graph))
    refreshed = False
    wildcard = rewrites.by_op.get("*", [])
    candidates = {op: [*found, *wildcard] for op, found in rewrites.by_op.items() if op != "*"}
    pending = list(graph.nodes)
    for _ in range(MAX_PASSES):
        applied_before = len(log)
        queued = set(pending)
        graph.added.clear()
        while pending:
            name = pending.pop()
            queued.discard(name)
            node = graph.nodes.get(name)
            if node is None:
                continue
            trying = candidates.get(node.op, wildcard)
            if not trying:
                continue
            inputs = tuple(node.inputs)
            readers = [reader for v in node.outputs for reader in graph.consumers.get(v, ())]
            for rewrite in trying:
                application = rewrite.apply(graph, node)
                if application is None:
                    continue
                log.append(application)
                around = [graph.producer[v] for v in inputs if v in graph.producer] + readers
                touched = [*graph.added, *around, *([name] if name in graph.nodes else [])]
                graph.added.clear()
                for other in touched:
                    if other in graph.nodes and other not in queued:
                        queued.add(other)
                        pending.append(other)
                break
        changed = len(log) > applied_before
        for graph_pass in rewrites.passes:
            changed = bool(graph_pass.run(graph)) or changed
        if not changed and not refreshed:
            refreshed = True  # constants are folded now: static shapes let shape-dependent rewrites apply
            changed = refresh_shapes(graph) > 0
        if not changed:
            break
        pending = list(graph.nodes)  # some patterns are not local (value ranges): sweep until nothing applies
    graph.added.clear()
    return log
