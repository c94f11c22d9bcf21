"""No-op removal: Identity, inference-mode Dropout, identity Transpose, Reshape to the same shape.

Also arithmetic with a neutral constant (adding zeros, multiplying by ones). Each of these passes its
input through unchanged, so removing it changes no value the model computes.
"""

from __future__ import annotations

import numpy as np

from parity.engines.graph.params import is_param
from parity.engines.graph.rewrite import Application, Rewrite, RewriteSet
from parity.ir import Graph, Node
from parity.observations.kinds import DROPOUT_REMOVED, IDENTITY_REMOVED, PARAMETER_REMOVED


class RemoveIdentity(Rewrite):
    """Replaces Identity(x) with x."""

    says = ("Identity removed", "Identity added")

    name = "remove-identity"
    ops = ("Identity",)
    kind = IDENTITY_REMOVED

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
    kind = DROPOUT_REMOVED

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
    kind = IDENTITY_REMOVED

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
    kind = IDENTITY_REMOVED
    silent = True  # Reshape placement is normalised (see linear.py), so counts of no-op Reshapes mean nothing

    def apply(self, graph: Graph, node: Node) -> Application | None:
        before = graph.value_info(node.inputs[0]).shape
        after = graph.value_info(node.outputs[0]).shape
        if before is None or after is None or before != after or not all(isinstance(d, int) for d in before):
            return None
        graph.bypass(node, node.inputs[0])
        return self.applied([node])


#: op → (the neutral value, the input slots where it is neutral)
NEUTRAL = {
    "Add": (0.0, (0, 1)),
    "Sub": (0.0, (1,)),
    "Mul": (1.0, (0, 1)),
    "Div": (1.0, (1,)),
    "Pow": (1.0, (1,)),
}
#: a constant with more elements than this is not read to look for neutrality (it is a weight)
MAX_NEUTRAL = 1 << 16


class RemoveNeutralArithmetic(Rewrite):
    """Replaces x + 0, x − 0, x · 1, x / 1 and x ** 1 (a constant of neutral entries) with x.

    Models initialised with zero biases carry Adds that simplifiers drop; the constant must not widen
    x's shape by broadcasting, or the op is not a no-op. A scalar constant is the exporter's; a tensor
    is a parameter (a zero-initialised bias), so its removal is its own change kind: the same function
    at these values, but a parameter fewer to train.
    """

    says = ("arithmetic with a neutral parameter removed", "arithmetic with a neutral parameter added")

    name = "remove-neutral-arithmetic"
    ops = tuple(NEUTRAL)
    kind = PARAMETER_REMOVED

    def apply(self, graph: Graph, node: Node) -> Application | None:
        if len(node.inputs) != 2:
            return None
        neutral, slots = NEUTRAL[node.op]
        for slot in slots:
            constant, other = node.inputs[slot], node.inputs[1 - slot]
            if not is_param(graph, constant) or is_param(graph, other):
                continue
            param = graph.params[constant]
            if int(np.prod(param.shape, dtype=np.int64)) > MAX_NEUTRAL:
                continue
            kept, out = graph.value_info(other).shape, graph.value_info(node.outputs[0]).shape
            if kept is None or out is None or tuple(kept) != tuple(out):
                continue
            values = np.asarray(param.values())
            if values.size and np.all(values == neutral):
                graph.bypass(node, other)
                if values.size == 1:  # an exporter's constant, not a parameter
                    return RemoveIdentity.applied(RemoveIdentity(), [node])
                return self.applied([node], neutral=neutral, parameter=constant)
        return None


rewrites = RewriteSet(
    [
        RemoveIdentity(),
        RemoveDropout(),
        RemoveIdentityTranspose(),
        RemoveNoopReshape(),
        RemoveNeutralArithmetic(),
    ]
)
