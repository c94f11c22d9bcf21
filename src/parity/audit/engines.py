"""The engines an audit runs, registered in one tuple (pytest's ``default_plugins``).

An engine has a name, the change kinds it may emit, and ``observe(context)``; it keeps what later engines
reuse (the graph correspondence) in the context's stash. Adding a check is adding an engine here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from parity.observations import Observation


@dataclass
class AuditContext:
    """What an audit is about, and the state engines share."""

    reference: Path
    candidate: Path
    max_model_bytes: int
    stash: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    """The engine protocol."""

    name: ClassVar[str]

    def observe(self, context: AuditContext) -> list[Observation]:
        """Observations about how the candidate differs from the reference."""
        ...


class GraphEngine:
    """Structural equivalence of the two ONNX graphs (see parity.engines.graph)."""

    name = "graph"

    def observe(self, context: AuditContext) -> list[Observation]:
        """Load, canonicalise and match both graphs; stash the comparison for later engines."""
        from parity.engines.graph import compare_graphs
        from parity.ir import load_graph

        reference = load_graph(context.reference, context.max_model_bytes)
        candidate = load_graph(context.candidate, context.max_model_bytes)
        comparison = compare_graphs(reference, candidate)
        context.stash["graph"] = comparison
        return comparison.observations


ENGINES: tuple[type[Engine], ...] = (GraphEngine,)
