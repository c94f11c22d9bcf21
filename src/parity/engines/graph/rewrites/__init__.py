"""The default rewrite registry: a flat concatenation of each family's ``rewrites``.

Order matters only where one pattern contains another: onnxruntime's NCHWc layout is resolved first (a
graph pass), quantized and cast weights are recognised before generic constant folding, and fused
operators are decomposed before the standard rewrites see them.
"""

from parity.engines.graph.rewrite import RewriteSet
from parity.engines.graph.rewrites import (
    batchnorm,
    constants,
    contrib,
    layout,
    linear,
    nchwc,
    noop,
    passes,
    precision,
    qoperator,
    shapes,
)

DEFAULT_REWRITES: RewriteSet = (
    nchwc.rewrites
    + contrib.rewrites
    + qoperator.rewrites
    + noop.rewrites
    + precision.rewrites
    + constants.rewrites
    + batchnorm.rewrites
    + linear.rewrites
    + shapes.rewrites
    + layout.rewrites
    + passes.rewrites
)

__all__ = ["DEFAULT_REWRITES"]
