"""Layout: a Transpose followed by its inverse is the identity.

Optimisers that move a subgraph to NHWC leave Transpose pairs at its borders; once the inner operations
are canonical again the pairs meet and cancel.
"""

from __future__ import annotations

from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet
from parity.ir import Graph, Node
from parity.observations.kinds import LAYOUT_CHANGED


class CancelTransposePair(Rewrite):
    """Replaces Transpose(Transpose(x, p), q) with x when q undoes p."""

    says = ("Transpose pair removed", "Transpose pair inserted around a layout change")

    name = "cancel-transpose-pair"
    ops = ("Transpose",)
    kind = LAYOUT_CHANGED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        inner = graph.producer_of(node.inputs[0])
        if inner is None or inner.op != "Transpose":
            return None
        p, q = inner.attrs.get("perm"), node.attrs.get("perm")
        if p is None or q is None or len(p) != len(q) or tuple(p[i] for i in q) != tuple(range(len(p))):
            return None
        graph.bypass(node, inner.inputs[0])
        if not graph.consumers.get(inner.outputs[0]) and not graph.is_output(inner.outputs[0]):
            graph.remove_node(inner)
        return self.applied([inner, node], perm=tuple(p))


rewrites = RewriteSet([CancelTransposePair()])
