"""Training's question about weights: do the initial values follow the reference's distribution?

Same values are not required (seeds differ run to run). Provenance is asked first, because it is the
stronger fact: a candidate that starts from the reference's own values (identical, rearranged, folded,
in a narrower format) says so. Only values the reference does not explain are tested, with a two-sample
Kolmogorov–Smirnov test (scipy) on the flattened values, the moments as evidence: a re-draw from the
same initialiser passes it; pruning, a changed initialiser or edited values that shift the
distribution do not.
"""

from __future__ import annotations

import numpy as np

from parity.engines.weights.classify import TensorVerdict, classify
from parity.ir import Param
from parity.observations.kinds import (
    WEIGHTS_DISTRIBUTION_CHANGED,
    WEIGHTS_FOLDED,
    WEIGHTS_IDENTICAL,
    WEIGHTS_MODIFIED,
    WEIGHTS_PRECISION_REDUCED,
    WEIGHTS_PRUNED,
    WEIGHTS_QUANTIZED,
    WEIGHTS_REARRANGED,
    WEIGHTS_RECOMPUTED,
    WEIGHTS_REINIT_SAME,
    WEIGHTS_UNFOLDED,
)

#: KS p-value below which the distributions differ
ALPHA = 0.001
#: product of the two sample sizes up to which the KS p-value is computed exactly
EXACT_KS = 10_000
#: values sampled per tensor for the test (the test's power saturates long before a full ResNet layer)
SAMPLE = 200_000
#: at most this fraction of entries changed, a tensor is the reference's edited, not a new draw
EDITED = 0.5
#: provenance verdicts that answer training's question on their own (the values are the reference's)
FROM_REFERENCE = frozenset(
    {
        WEIGHTS_IDENTICAL,
        WEIGHTS_RECOMPUTED,
        WEIGHTS_REARRANGED,
        WEIGHTS_FOLDED,
        WEIGHTS_UNFOLDED,
        WEIGHTS_PRECISION_REDUCED,
        WEIGHTS_QUANTIZED,
    }
)


def compare_distributions(reference: Param, candidate: Param) -> TensorVerdict:
    """The provenance verdict when the reference explains the values; otherwise the distribution test.

    Values that differ from the reference's are a re-draw from the same distribution, a changed
    distribution, or (when the distribution still matches) pruned or edited values, kept as such so a
    reviewer sees them: a few changed entries are not a re-draw.
    """
    provenance = classify(reference, candidate)
    if provenance.kind in FROM_REFERENCE or "problem" in provenance.details:
        return provenance
    verdict = _distribution(reference, candidate)
    edited = provenance.kind == WEIGHTS_PRUNED or (
        provenance.kind == WEIGHTS_MODIFIED and provenance.metrics.get("differing_fraction", 1.0) <= EDITED
    )
    if verdict.kind == WEIGHTS_REINIT_SAME and edited:
        verdict.kind = provenance.kind
    verdict.metrics.update({k: v for k, v in provenance.metrics.items() if k not in verdict.metrics})
    return verdict


def _distribution(reference: Param, candidate: Param) -> TensorVerdict:
    """weights.identical, weights.reinitialised_same_distribution or weights.distribution_changed."""
    from scipy import stats

    r = np.asarray(reference.values(), dtype=np.float64).reshape(-1)
    c = np.asarray(candidate.values(), dtype=np.float64).reshape(-1)
    verdict = TensorVerdict(
        WEIGHTS_IDENTICAL,
        reference.sources or (reference.name,),
        candidate.sources or (candidate.name,),
        tuple(dict.fromkeys([*reference.transform, *candidate.transform])),
    )
    verdict.metrics.update(
        {
            "elements": float(r.size),
            "reference_mean": float(r.mean()) if r.size else 0.0,
            "candidate_mean": float(c.mean()) if c.size else 0.0,
            "reference_std": float(r.std()) if r.size else 0.0,
            "candidate_std": float(c.std()) if c.size else 0.0,
        }
    )
    if r.shape == c.shape and np.array_equal(r, c):
        return verdict
    if not np.isfinite(c).all() or r.size == 0 or c.size == 0:
        verdict.kind = WEIGHTS_DISTRIBUTION_CHANGED
        verdict.details["problem"] = "non-finite or empty values"
        return verdict
    rng = np.random.default_rng(0)
    sample_r = r if r.size <= SAMPLE else rng.choice(r, SAMPLE, replace=False)
    sample_c = c if c.size <= SAMPLE else rng.choice(c, SAMPLE, replace=False)
    if sample_r.std() == 0 and sample_c.std() == 0 and min(sample_r.size, sample_c.size) > 1:  # constants
        same = bool(np.isclose(sample_r[0], sample_c[0]))
        statistic, pvalue = (0.0, 1.0) if same else (1.0, 0.0)
    else:
        # the exact distribution for small tensors (one bias value against another is no evidence);
        # the asymptotic one where exact enumeration would be slow
        small = sample_r.size * sample_c.size <= EXACT_KS
        result = stats.ks_2samp(sample_r, sample_c, method="exact" if small else "asymp")
        statistic, pvalue = float(result.statistic), float(result.pvalue)
    verdict.metrics.update({"ks_statistic": statistic, "ks_pvalue": pvalue})
    zeros = _zero_atom(r, c)
    if zeros is not None:
        verdict.metrics.update(zeros)
        pvalue = min(pvalue, zeros["zero_atom_pvalue"])
    verdict.kind = WEIGHTS_REINIT_SAME if pvalue >= ALPHA else WEIGHTS_DISTRIBUTION_CHANGED
    return verdict


def _zero_atom(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float] | None:
    """How likely the candidate's exact zeros are under the reference's distribution (None: no zeros).

    KS compares shapes and barely sees an atom in a small tensor: 30% zeros in 256 entries passes it.
    A draw from the reference's distribution gives an exact zero with probability at most
    (zeros in the reference + 1) / (entries + 1) (the rule of succession); the chance of the candidate's
    count or more under that rate (binomial tail) is the witness that its values are not such a draw.
    """
    from scipy import stats

    found = int(np.count_nonzero(candidate == 0))
    if found == 0:
        return None
    rate = (int(np.count_nonzero(reference == 0)) + 1) / (reference.size + 1)
    tail = float(stats.binom.sf(found - 1, candidate.size, rate))
    return {"candidate_zeros": float(found), "zero_atom_pvalue": tail}
