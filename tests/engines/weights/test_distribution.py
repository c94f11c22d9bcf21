"""Initial weights judged by distribution (training): what a re-draw looks like and what pruning does.

A fresh draw from the reference's initialiser passes; exact zeros that such a draw practically never
gives (pruning, a mask) fail even where the tensor is too small for KS to see them; a single value
against another (a one-output layer's bias) is no evidence either way.
"""

import numpy as np
import pytest

from parity.engines.weights.distribution import compare_distributions
from parity.ir import Param


def _param(name: str, values: np.ndarray) -> Param:
    values = np.asarray(values, dtype=np.float32)
    return Param(name, "FLOAT", values.shape, lambda: values)


def _draw(seed: int, shape=(16, 16)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.25, 0.25, shape)


def test_a_fresh_draw_from_the_same_initialiser_passes():
    verdict = compare_distributions(_param("w", _draw(0)), _param("w", _draw(1)))
    assert verdict.kind == "weights.reinitialised_same_distribution"


@pytest.mark.parametrize("fraction", [0.3, 0.1, 0.05])
def test_zeros_a_draw_never_gives_fail_even_in_a_small_tensor(fraction):
    pruned = _draw(1)
    flat = pruned.reshape(-1)
    flat[np.argsort(np.abs(flat))[: int(fraction * flat.size)]] = 0.0
    verdict = compare_distributions(_param("w", _draw(0)), _param("w", pruned))
    assert verdict.kind == "weights.distribution_changed"
    assert verdict.metrics["candidate_zeros"] == int(fraction * 256)
    assert verdict.metrics["zero_atom_pvalue"] < 1e-3


def test_zeros_the_reference_has_too_are_a_draw_of_the_same_distribution():
    sparse = [np.where(np.random.default_rng(s).random((16, 16)) < 0.3, 0.0, _draw(s)) for s in (0, 1)]
    verdict = compare_distributions(_param("w", sparse[0]), _param("w", sparse[1]))
    assert verdict.kind == "weights.reinitialised_same_distribution"


def test_one_value_against_another_is_no_evidence():
    verdict = compare_distributions(_param("b", np.array([0.12])), _param("b", np.array([-0.31])))
    assert verdict.kind == "weights.reinitialised_same_distribution"


def test_constants_of_more_than_one_entry_are_compared_as_constants():
    verdict = compare_distributions(_param("g", np.ones(8)), _param("g", np.full(8, 0.5)))
    assert verdict.kind == "weights.distribution_changed"
