"""A fixed-seed slice of the fuzzing campaign: every loader, mutants of real files, through the command.

The long campaign (``python scripts/fuzz_campaign.py``, 10,000 mutants per loader) prints the same table;
this slice keeps the promises from regressing: no internal error, one line per error, no read outside
the input, nothing modified, strict JSON, and no run over the time or memory bound.
"""

from __future__ import annotations

from fuzz.harness import run_campaign, table
from fuzz.loaders import loaders

PER_LOADER = 40


def test_a_fixed_slice_of_mutants_breaks_no_promise(tmp_path):
    chosen = loaders(tmp_path / "seeds")
    outcomes = run_campaign(chosen, PER_LOADER, tmp_path, jobs=2)
    assert len(outcomes) == PER_LOADER * len(chosen)
    problems = [
        f"{o.loader} #{o.index}: {sorted(o.columns() - {'tried'})} {o.stderr.strip()[:200]!r}"
        for o in outcomes
        if o.problem()
    ]
    assert not problems, table(outcomes) + "\n" + "\n".join(problems)
    assert {o.loader for o in outcomes if o.code in (0, 1, 2)} >= {"onnx", "evidence", "mllog", "rcp"}
