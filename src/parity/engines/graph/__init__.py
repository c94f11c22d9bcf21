"""Structural equivalence: canonicalising rewrites, matching, residual differences."""

from parity.engines.graph.engine import GraphComparison, compare_graphs
from parity.engines.graph.matching import Correspondence, match
from parity.engines.graph.rewrite import Application, GraphPass, Rewrite, RewriteSet, canonicalise
from parity.engines.graph.rewrites import DEFAULT_REWRITES

__all__ = [
    "DEFAULT_REWRITES",
    "Application",
    "Correspondence",
    "GraphComparison",
    "GraphPass",
    "Rewrite",
    "RewriteSet",
    "canonicalise",
    "compare_graphs",
    "match",
]
