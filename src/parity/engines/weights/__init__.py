"""Weight provenance (inference) and initialisation distributions (training)."""

from parity.engines.weights.classify import TensorVerdict, classify
from parity.engines.weights.distribution import compare_distributions
from parity.engines.weights.engine import compare_weights, parameter_pairs

__all__ = ["TensorVerdict", "classify", "compare_distributions", "compare_weights", "parameter_pairs"]
