"""onnxruntime's NCHWc layout resolved: the block size, the logical channel counts, the plain filters.

At ``ORT_ENABLE_ALL`` the NchwcTransformer blocks activations by B channels (8 or 16, the machine's
vector width), rounds every Conv's output channels up to a multiple of B (padding filter rows and bias
with zeros), computes a standalone BatchNormalization as a depthwise 1x1 Conv over the padded channels,
and cuts the padding off again in ``ReorderOutput(channels=C)``. None of this changes what the model
computes, but read literally it changes shapes, ops and weights.

This pass runs before the per-node rewrites. It finds every NCHWc tensor's logical channel count
(from ReorderInput's source, ReorderOutput's ``channels``, the filters that read it, and the ops that
keep channels), infers the block size from the channel counts (a padded filter of O' rows for C logical
channels admits only the B with C rounded up to B equal to O'), rewrites each NCHWc filter and bias as a
derived parameter in plain OIHW order without its padding, and gives every NCHWc tensor its logical
shape. The blocked ops themselves are then replaced by standard ones (contrib.py), so results never
depend on the vector width of the machine that optimised the model.
"""

from __future__ import annotations

import os

import numpy as np

from parity.engines.graph.params import derive, is_param
from parity.engines.graph.rewrite import Application, GraphPass, RewriteSet
from parity.ir import Graph, Node, ValueInfo
from parity.ir.layouts import BLOCK_SIZES, filter_layout, unblock
from parity.observations.kinds import LAYOUT_CHANGED

DOMAIN = "com.microsoft.nchwc."
#: elementwise ops that may read NCHWc tensors directly (onnxruntime's own, and what later fusions make
#: of them, such as x · sigmoid(x) into QuickGelu); they keep the channel count
KEEPS_CHANNELS = frozenset(
    {
        "Relu",
        "Sigmoid",
        "Tanh",
        "HardSigmoid",
        "HardSwish",
        "LeakyRelu",
        "Clip",
        "Add",
        "Sum",
        "Sub",
        "Mul",
        "Div",
        "com.microsoft.QuickGelu",
        "com.microsoft.Gelu",
        "com.microsoft.FastGelu",
    }
)
_KEEPING_NCHWC = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Upsample"})


def _native_block() -> int:
    """This machine's NCHWc block: 16 with AVX-512, else 8 (only orders the guesses when ambiguous)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = info.read(1 << 16)
    except OSError:
        return 8
    return 16 if "avx512f" in flags else 8


class _Classes:
    """Union-find over tensors that share one logical channel count."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, value: str) -> str:
        self.parent.setdefault(value, value)
        while self.parent[value] != value:
            self.parent[value] = self.parent[self.parent[value]]
            value = self.parent[value]
        return value

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


class ResolveNchwc(GraphPass):
    """Gives NCHWc tensors their logical shapes and NCHWc filters their plain, unpadded values."""

    says = ("", "")
    name = "resolve-nchwc"
    kind = LAYOUT_CHANGED

    def run(self, graph: Graph) -> list[Application]:
        convs = [n for n in graph.nodes.values() if n.op == f"{DOMAIN}Conv" and not _resolved(graph, n)]
        if not convs and not any(n.op.startswith(DOMAIN) for n in graph.nodes.values()):
            return []
        blocked = self._blocked_values(graph)
        channels, classes, guessed = self._channels(graph, blocked)
        blocks = self._blocks(graph, convs, channels, blocked)
        # counts only a filter's size gave, less the zero channels that are padding
        for root, zeros in self._padding(graph, classes, channels, guessed, blocks, blocked).items():
            if zeros:
                channels.update({v: channels[root] - zeros for v in blocked if classes.find(v) == root})
        blocks = self._blocks(graph, convs, channels, blocked)
        for node in convs:
            self._resolve_conv(graph, node, channels, blocks, blocked)
        for value in blocked:
            count = channels.get(value)
            info = graph.values.get(value)
            if count and info and info.shape and len(info.shape) >= 2:
                graph.values[value] = ValueInfo(info.dtype, (info.shape[0], count, *info.shape[2:]))
        return []  # the layout change itself is reported by the rewrites that remove the NCHWc ops

    @staticmethod
    def _blocked_values(graph: Graph) -> set[str]:
        """Tensors in the NCHWc layout: written by NCHWc ops (not ReorderOutput) or computed from them."""
        found: set[str] = set()
        for node in graph.topological():
            nchwc = node.op.startswith(DOMAIN) and node.op != f"{DOMAIN}ReorderOutput"
            if nchwc or (node.op in KEEPS_CHANNELS | {"Concat"} and any(v in found for v in node.inputs)):
                found.update(v for v in node.outputs if v)
        return found

    @staticmethod
    def _classes(graph: Graph, blocked: set[str]) -> _Classes:
        """Tensors that must have one channel count: what channel-keeping ops read and write."""
        classes = _Classes()
        for node in graph.nodes.values():
            op = node.op.removeprefix(DOMAIN)
            if node.op == f"{DOMAIN}Conv" and is_param(graph, node.inputs[1]):
                stored = graph.params[node.inputs[1]].shape
                if int(node.attrs.get("group", 1)) > 1 and stored[1] == 1:  # depthwise (batch norms too)
                    classes.join(node.outputs[0], node.inputs[0])
                if len(node.inputs) > 3 and node.inputs[3]:  # a fused residual Add
                    classes.join(node.outputs[0], node.inputs[3])
            elif (node.op.startswith(DOMAIN) and op in _KEEPING_NCHWC) or (
                node.op in KEEPS_CHANNELS and any(v in blocked for v in node.inputs)
            ):
                for value in node.inputs[: 2 if node.op in ("Add", "Mul", "Sub", "Div") else 1]:
                    if value in blocked:
                        classes.join(node.outputs[0], value)
        return classes

    def _channels(self, graph: Graph, blocked: set[str]) -> tuple[dict[str, int], _Classes, set[str]]:
        """Logical channel counts the graph determines, the classes, and the classes only filters sized."""
        classes, known = self._classes(graph, blocked), {}

        def fix(value: str, count: int) -> None:
            known[classes.find(value)] = int(count)

        concats, from_filters = [], []
        for node in graph.nodes.values():
            if node.op == f"{DOMAIN}ReorderInput":
                shape = graph.value_info(node.inputs[0]).shape
                if shape and len(shape) > 1 and isinstance(shape[1], int):
                    fix(node.outputs[0], shape[1])
            elif node.op == f"{DOMAIN}ReorderOutput" and "channels" in node.attrs:
                fix(node.inputs[0], node.attrs["channels"])
            elif node.op == f"{DOMAIN}Conv" and is_param(graph, node.inputs[1]):
                stored = graph.params[node.inputs[1]].shape
                group = int(node.attrs.get("group", 1))
                if not (group > 1 and stored[1] == 1) and node.inputs[0] in blocked:
                    from_filters.append((node.inputs[0], stored[1] * group))  # may be padded: last resort
                if not (group > 1 and stored[1] == 1):
                    from_filters.append((node.outputs[0], stored[0]))
            elif node.op == "Concat" and node.outputs[0] in blocked:
                concats.append(node)
        for _ in range(len(concats) + 1):  # concatenations of concatenations settle in this many rounds
            for node in concats:
                parts = [known.get(classes.find(v)) for v in node.inputs if v]
                if all(parts):
                    fix(node.outputs[0], sum(parts))
        guessed = set()
        for value, count in from_filters:
            root = classes.find(value)
            if root not in known:
                known[root] = count
                guessed.add(root)
        counts = {value: known[classes.find(value)] for value in blocked if classes.find(value) in known}
        return counts, classes, guessed

    @staticmethod
    def _trailing_zeros(graph: Graph, classes: _Classes, root: str, block: int, blocked: set[str]) -> int:
        """Channels at the end of a class that every filter writing or reading it keeps at zero.

        The padding onnxruntime adds is zero in the rows of the filters that write the class, their
        biases, and the columns of the filters that read it; a real channel is not (its weights would
        have to be exactly zero in every one of those filters).
        """
        zeros: list[int] = []
        for node in graph.nodes.values():
            if node.op != f"{DOMAIN}Conv" or not is_param(graph, node.inputs[1]):
                continue
            param = graph.params[node.inputs[1]]
            if int(node.attrs.get("group", 1)) > 1 and param.shape[1] == 1:
                continue
            writes = classes.find(node.outputs[0]) == root
            reads = node.inputs[0] in blocked and classes.find(node.inputs[0]) == root
            if not writes and not reads:
                continue
            plain = unblock(np.asarray(param.values()), filter_layout(param.shape, block, reads))
            if writes:
                rows = np.abs(plain).reshape(plain.shape[0], -1).max(axis=1)
                bias = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else ""
                if bias and is_param(graph, bias):
                    rows = np.maximum(rows, np.abs(np.asarray(graph.params[bias].values())).reshape(-1))
                zeros.append(_trailing(rows))
            if reads:
                columns = np.abs(plain).transpose(1, 0, 2, 3).reshape(plain.shape[1], -1).max(axis=1)
                zeros.append(_trailing(columns))
        return min(zeros) if zeros else 0

    def _padding(self, graph: Graph, classes: _Classes, channels, guessed, blocks, blocked) -> dict:
        """Per guessed class, the trailing zero channels that are its padding.

        Each possible block reads the filters in its own layout; the one that explains the most zero
        channels as padding wins (ties go to the native block). Read in the wrong layout, padding is
        scattered and mostly not trailing; and 8 zero channels of 32 are block-16 padding of 24, not
        block-8 padding of 25 with one real channel that every filter keeps at zero.
        """
        found = []
        for order, block in enumerate(blocks):
            padding = {}
            for root in guessed:
                stored = channels.get(root)
                if stored and not stored % block:
                    padding[root] = min(self._trailing_zeros(graph, classes, root, block, blocked), block - 1)
            found.append((sum(padding.values()), -order, padding))
        return max(found, key=lambda item: item[:2])[2] if found else {}

    @staticmethod
    def _blocks(graph: Graph, convs: list[Node], channels: dict[str, int], blocked: set[str]) -> list[int]:
        """Block sizes consistent with every NCHWc filter's stored shape and logical channels."""
        possible = set(BLOCK_SIZES)
        for node in convs:
            if not is_param(graph, node.inputs[1]):
                continue
            out, inp = graph.params[node.inputs[1]].shape[:2]
            logical = channels.get(node.outputs[0], out)
            for block in list(possible):
                padded = -(-logical // block) * block
                reads_blocked = node.inputs[0] in blocked
                if (
                    out % block
                    or padded != out
                    or (reads_blocked and inp > 1 and inp % block)
                    or (not reads_blocked and int(node.attrs.get("group", 1)) == 1 and inp >= block)
                ):
                    possible.discard(block)
        native = int(os.environ.get("PARITY_NCHWC_BLOCK", 0)) or _native_block()
        return sorted(possible, key=lambda b: (b != native, -b)) or [native]

    @staticmethod
    def _resolve_conv(
        graph: Graph, node: Node, channels: dict[str, int], blocks: list[int], blocked: set[str]
    ) -> None:
        if not is_param(graph, node.inputs[1]):
            return
        stored = graph.params[node.inputs[1]]
        out_stored, in_stored = stored.shape[:2]
        group = int(node.attrs.get("group", 1))
        depthwise = group > 1 and in_stored == 1
        logical = channels.get(node.outputs[0], out_stored)
        reads_blocked = node.inputs[0] in blocked and not depthwise
        columns = channels.get(node.inputs[0], in_stored * group) // group if reads_blocked else in_stored
        layouts = [filter_layout(stored.shape, b, reads_blocked) for b in blocks]
        shape = (logical, columns, *stored.shape[2:])
        info = {
            "layouts": layouts,
            "stored_shape": list(stored.shape),
            "padded_rows": out_stored - logical,
            "padded_columns": in_stored - columns,
        }
        inputs = list(node.inputs)
        inputs[1] = derive(
            graph,
            stored.name,
            shape,
            stored.dtype,
            "nchwc_blocked",
            (stored.name,),
            lambda w, layout=layouts[0], rows=logical, cols=columns: unblock(w, layout)[:rows, :cols],
            info,
        )
        if len(inputs) > 2 and inputs[2] and is_param(graph, inputs[2]) and logical < out_stored:
            bias = graph.params[inputs[2]]
            inputs[2] = derive(
                graph,
                bias.name,
                (logical,),
                bias.dtype,
                "nchwc_padding",
                (bias.name,),
                lambda b, rows=logical: b[:rows],
                {"stored_shape": list(bias.shape), "padded_rows": out_stored - logical},
            )
        graph.remove_node(node)
        attrs = dict(node.attrs)
        if depthwise:
            attrs["group"] = logical
        graph.add_node(
            Node(node.name, node.op, inputs, node.outputs, attrs, node.origin, node.rewrite, node.history)
        )
        graph.added.remove(node.name)


def _trailing(magnitudes: np.ndarray) -> int:
    """How many entries at the end are exactly zero."""
    nonzero = np.flatnonzero(magnitudes)
    return int(magnitudes.size - (nonzero[-1] + 1)) if nonzero.size else int(magnitudes.size)


def _resolved(graph: Graph, node: Node) -> bool:
    """Whether this pass already replaced the node's filter (the pass reruns after every sweep)."""
    weight = graph.params.get(node.inputs[1]) if len(node.inputs) > 1 else None
    return weight is not None and weight.transform[-1:] == ("nchwc_blocked",)


rewrites = RewriteSet([], [ResolveNchwc()])
