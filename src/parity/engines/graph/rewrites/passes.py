"""Whole-graph passes: dead code elimination and common subexpression elimination.

Dead code is every node none of whose outputs reaches a graph output (through inputs, or through what
a Loop's or If's body reads from the outer scope). Two nodes are one subexpression when they have the
same op, attributes and the very same inputs and captures; the later one is merged into the first.
"""

from __future__ import annotations

from parity.engines.graph.rewrite import Application, GraphPass, RewriteSet
from parity.ir import Graph
from parity.observations.kinds import CSE_MERGED, DEAD_CODE_REMOVED


class RemoveDeadCode(GraphPass):
    """Removes nodes whose results reach no graph output."""

    says = ("dead code removed", "dead code present")

    name = "remove-dead-code"
    kind = DEAD_CODE_REMOVED

    def run(self, graph: Graph) -> list[Application]:
        live: set[str] = set()
        stack = [graph.producer[v] for v in graph.outputs if v in graph.producer]
        while stack:
            name = stack.pop()
            if name in live:
                continue
            live.add(name)
            node = graph.nodes[name]  # a Loop's or If's body reads its captures: they are live too
            stack.extend(graph.producer[v] for v in (*node.inputs, *node.captures) if v in graph.producer)
        dead = [node for name, node in graph.nodes.items() if name not in live]
        for node in dead:
            graph.remove_node(node)
        return [Application(self.name, node.origin, {"op": node.op}) for node in dead]


class MergeCommonSubexpressions(GraphPass):
    """Merges nodes that compute the same op with the same attributes on the same inputs."""

    says = ("duplicate computations merged", "computations duplicated")

    name = "merge-common-subexpressions"
    kind = CSE_MERGED

    def run(self, graph: Graph) -> list[Application]:
        seen: dict[tuple, str] = {}
        merged = []
        for node in list(graph.topological()):
            key = (node.op, _freeze(node.attrs), tuple(node.inputs), node.captures, len(node.outputs))
            first = seen.get(key)
            if first is None:
                seen[key] = node.name
                continue
            keep = graph.nodes[first]
            graph.remove_node(node)
            for old, new in zip(node.outputs, keep.outputs, strict=True):
                if old:
                    graph.replace_uses(old, new)
            merged.append(Application(self.name, node.origin + keep.origin, {"op": node.op}))
        return merged


def _freeze(attrs: dict) -> tuple:
    items = tuple(sorted(attrs.items()))
    try:
        hash(items)
    except TypeError:
        return tuple((key, repr(value)) for key, value in items)
    return items


rewrites = RewriteSet([], [RemoveDeadCode(), MergeCommonSubexpressions()])
