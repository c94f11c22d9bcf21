"""No-op removal: Identity, inference-mode Dropout, identity Transpose, and Reshape to the same shape.

Each of these passes its input through unchanged, so removing it changes no value the model computes.
"""

from __future__ import annotations

from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet
from parity.ir import Graph, Node


class RemoveIdentity(Rewrite):
    """Replaces Identity(x) with x."""

    says = ("Identity removed", "Identity added")

    name = "remove-identity"
    ops = ("Identity",)
    kind = "graph.identity_removed"

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if len(node.inputs) != 1 or not node.inputs[0]:
            return None
        graph.bypass(node, node.inputs[0])
        return self.applied([node])


class RemoveDropout(Rewrite):
    """Replaces inference-mode Dropout(x) with x (its mask output unused)."""

    says = ("Dropout removed", "Dropout added")

    name = "remove-dropout"
    ops = ("Dropout",)
    kind = "graph.dropout_removed"

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if node.attrs.get("training_mode") or (
            len(node.inputs) > 1 and node.inputs[1:] != [""] * (len(node.inputs) - 1)
        ):
            return None
        if any(graph.consumers.get(out) or graph.is_output(out) for out in node.outputs[1:] if out):
            return None
        graph.bypass(node, node.inputs[0])
        return self.applied([node], ratio=node.attrs.get("ratio", 0.5))


class RemoveIdentityTranspose(Rewrite):
    """Replaces Transpose(x, perm=identity) with x."""

    says = ("identity Transpose removed", "identity Transpose added")

    name = "remove-identity-transpose"
    ops = ("Transpose",)
    kind = "graph.identity_removed"

    def apply(self, graph: Graph, node: Node) -> Application | None:
        perm = node.attrs.get("perm")
        if perm is None or tuple(perm) != tuple(range(len(perm))):
            return None
        graph.bypass(node, node.inputs[0])
        return self.applied([node])


class RemoveNoopReshape(Rewrite):
    """Replaces Reshape/Squeeze/Unsqueeze/Flatten whose output shape equals its static input shape."""

    says = ("no-op Reshape removed", "no-op Reshape added")

    name = "remove-noop-reshape"
    ops = ("Reshape", "Squeeze", "Unsqueeze", "Flatten")
    kind = "graph.identity_removed"
    silent = True  # Reshape placement is normalised (see linear.py), so counts of no-op Reshapes mean nothing

    def apply(self, graph: Graph, node: Node) -> Application | None:
        before = graph.value_info(node.inputs[0]).shape
        after = graph.value_info(node.outputs[0]).shape
        if before is None or after is None or before != after or not all(isinstance(d, int) for d in before):
            return None
        graph.bypass(node, node.inputs[0])
        return self.applied([node])


rewrites = RewriteSet([RemoveIdentity(), RemoveDropout(), RemoveIdentityTranspose(), RemoveNoopReshape()])
