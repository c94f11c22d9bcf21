"""RCP statistics: the rules' appendix example, and synthetic run sets for every outcome."""

import math

import pytest
from scipy import stats

from parity.engines.convergence import rcp
from parity.engines.convergence.rcp import (
    Reference,
    check_convergence,
    interpolate,
    min_acceptable_mean,
    prune,
)
from parity.engines.convergence.student import t_cdf, t_ppf

APPENDIX = [16, 14, 16, 17, 16, 16, 15, 16, 15, 16]  # training_rules.adoc, Appendix: RCP Examples


@pytest.mark.parametrize("df", [1, 2, 5, 9, 17, 40, 200])
@pytest.mark.parametrize("p", [0.5, 0.9, 0.95, 0.99])
def test_student_t_matches_scipy(df, p):
    assert t_ppf(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-7, abs=1e-6)
    assert t_cdf(1.7, df) == pytest.approx(stats.t.cdf(1.7, df), rel=1e-9)


def _reference(values, method, bs=128.0):
    kept = rcp.olympic(values, 1)
    import statistics

    spread = statistics.pstdev(kept if method == "rules" else values)
    return Reference("ref", bs, tuple(values), statistics.fmean(kept), spread, len(kept))


def test_appendix_example_gives_the_rules_numbers():
    reference = _reference(APPENDIX, "rules")
    assert reference.mean == pytest.approx(15.75)
    assert reference.stdev == pytest.approx(0.43, abs=0.005)
    minimum = min_acceptable_mean(reference, 5 - 2)
    assert minimum == pytest.approx(15.21, abs=0.01)
    assert reference.mean / minimum - 1 == pytest.approx(0.0353, abs=0.001)


def test_mlperf_logging_statistics_are_more_lenient_on_the_same_example():
    reference = _reference(APPENDIX, "mlperf-logging")
    assert reference.stdev == pytest.approx(0.781, abs=0.001)
    assert min_acceptable_mean(reference, 5 - 2) == pytest.approx(14.78, abs=0.01)


@pytest.fixture
def resnet_rcps(monkeypatch):
    """Synthetic RCPs for a 5-run benchmark at three batch sizes (monkeypatched loader)."""
    import statistics

    records = {
        1024.0: [40, 41, 40, 42, 41, 40, 41, 42, 40, 41],
        2048.0: [44, 45, 44, 46, 45, 44, 45, 46, 44, 45],
        4096.0: [52, 53, 52, 54, 53, 52, 53, 54, 52, 53],
    }

    def load(round_name, benchmark, method):
        found = []
        for bs, runs in records.items():
            kept = rcp.olympic([float(v) for v in runs], 1)
            spread = statistics.pstdev(kept if method == "rules" else runs)
            found.append(
                Reference(f"ref_{int(bs)}", bs, tuple(runs), statistics.fmean(kept), spread, len(kept))
            )
        return found

    monkeypatch.setattr(rcp, "load_references", load)
    return records


def test_runs_as_slow_as_the_reference_pass(resnet_rcps):
    verdict = check_convergence("resnet", "5.1.0", 2048, [45, 44, 46, 45, 45])
    assert verdict.status == "passed" and verdict.normalisation == pytest.approx(1.0)


def test_runs_much_faster_than_the_reference_fail(resnet_rcps):
    verdict = check_convergence("resnet", "5.1.0", 2048, [40, 41, 40, 41, 40])
    assert verdict.status == "faster_than_reference"
    assert verdict.submission_mean < verdict.min_acceptable_mean


def test_passing_but_faster_than_the_mean_is_normalised(resnet_rcps):
    verdict = check_convergence("resnet", "5.1.0", 2048, [44, 44, 44.5, 44, 44])
    assert verdict.status == "passed"
    assert verdict.normalisation == pytest.approx(verdict.reference.mean / verdict.submission_mean)
    assert verdict.normalisation > 1


@pytest.mark.parametrize("count", [1, 3, 4])
def test_fewer_runs_than_the_benchmark_requires_are_no_pass(resnet_rcps, count):
    # resnet's test is over 5 runs; the olympic mean of fewer is not the test (mlperf-logging's is NaN)
    verdict = check_convergence("resnet", "5.1.0", 2048, [45] * count)
    assert verdict.status == "insufficient_runs" and f"{count} run(s)" in verdict.message
    assert check_convergence("resnet", "5.1.0", 2048, [40] * count).status != "passed"


def test_a_batch_size_between_rcps_is_interpolated(resnet_rcps):
    verdict = check_convergence("resnet", "5.1.0", 3072, [48.5, 49, 48.5, 49, 49])
    assert verdict.reference.interpolated
    assert verdict.reference.mean == pytest.approx((44.75 + 52.75) / 2)  # olympic means of the two neighbours
    assert verdict.status == "passed"


def test_a_batch_size_above_every_rcp_is_missing_an_rcp(resnet_rcps):
    assert check_convergence("resnet", "5.1.0", 8192, [60] * 5).status == "reference_missing"


def test_a_smaller_batch_size_passes_only_if_slower_than_the_smallest_rcp(resnet_rcps):
    assert check_convergence("resnet", "5.1.0", 512, [45] * 5).status == "passed"
    assert check_convergence("resnet", "5.1.0", 512, [30] * 5).status == "reference_missing"


def test_more_than_one_non_converged_run_is_insufficient_convergence(resnet_rcps):
    assert check_convergence("resnet", "5.1.0", 2048, [45, math.inf, math.inf, 45, 45]).status == (
        "insufficient_convergence"
    )
    assert check_convergence("resnet", "5.1.0", 2048, [45, math.inf, 46, 45, 45]).status == "passed"


def test_pruning_drops_slower_than_interpolated_and_smaller_than_fastest():
    refs = [
        Reference("a", 256, (), 50, 1, 8),
        Reference("b", 512, (), 40, 1, 8),
        Reference("c", 1024, (), 47, 1, 8),
        Reference("d", 2048, (), 48, 1, 8),
    ]
    kept = prune(refs)
    assert [r.name for r in kept] == ["b", "d"]  # a: smaller than the fastest; c: slower than the b-d line
    assert interpolate(refs[1], refs[3], 1024, 8).mean == pytest.approx(42.666, abs=1e-3)


def test_missing_rcps_for_a_round_or_benchmark():
    assert check_convergence("no_such_benchmark", "5.1.0", 8, [1, 2, 3]).status == "reference_missing"
