"""A structural difference is forbidden only with a witness; without one it is unexplained.

The pattern registry (rewrites, proofs) always lags behind the tools, so a region it cannot explain is
not, by that alone, another function. A region observed as removed, added or changed keeps that kind only
when something tells the two sides apart:

- the region's own numeric verification found an input on which its two sides differ beyond the
  precision's tolerance (numeric/regions.py puts it in ``details["witness"]``);
- a method refuted the region (normal forms that differ at a random point: a symbolic counterexample);
- the region could not be verified at its own boundary (no boundary, it does not load or run, its sides
  give other shapes), so it grows to the whole model: the whole models' outputs differ on an input.

A region with none of these becomes ``graph.region_unexplained``, with what was tried; the rulebooks send
it to a reviewer. Differences the rules name by themselves (changed attributes, pruned or replaced
weights, a removed dropout) keep their own kinds and need no witness here.
"""

from __future__ import annotations

from parity.engines.graph.equivalence import RegionCheck
from parity.observations import Evidence, Observation
from parity.observations.kinds import OP_ADDED, OP_CHANGED, OP_REMOVED, REGION_UNEXPLAINED, SHAPE_CHANGED

#: the kinds a region is observed as before a witness decides whether it stays one
STRUCTURAL = frozenset({OP_REMOVED, OP_ADDED, OP_CHANGED})
#: marks a structural observation whose witness the whole models' run may still give
PENDING = "witness_pending"


def region_witness(check: RegionCheck) -> dict | None:
    """The witness a region's own checks found: a differing input, or a refuting method; else None."""
    if check.details.get("witness"):
        return dict(check.details["witness"])
    if check.refuted:
        return {"scope": "region", "found_by": "symbolic evaluation at a random point", "shown": check.reason}
    return None


def apply_witnesses(comparison, whole: dict | None = None, tried: str | None = None) -> None:
    """Give each structural region observation its witness, or make it ``graph.region_unexplained``.

    ``whole`` is a witness from the whole models (an input on which their outputs differ), offered to
    regions that could not be verified at their own boundary; ``tried`` says what the whole-model step
    found when it gave none (outputs agree, or the models did not run). Observations are updated in
    place: the audit has already collected them.
    """
    for check, observation in comparison.regions:
        if observation.kind not in STRUCTURAL:
            continue
        observation.evidence.details.pop(PENDING, None)
        found = region_witness(check)
        if found is None and whole is not None:
            found = {**whole, "region_reason": check.reason or "no method applies"}
        if found is not None:
            observation.evidence.details["witness"] = found
            observation.summary = f"{observation.summary} ({_said(found)})"
            continue
        _unexplain(observation, check, tried)
    for observation in _inferred_shapes(comparison):
        observation.evidence.details.pop(PENDING, None)
        if whole is not None:
            observation.evidence.details["witness"] = dict(whole)
            observation.summary = f"{observation.summary} ({_said(whole)})"
            continue
        _unexplain(observation, None, tried)


def mark_pending(comparison) -> list[Observation]:
    """Structural observations without a witness of their own: the whole models may give one."""
    pending = []
    for check, observation in comparison.regions:
        if observation.kind in STRUCTURAL and region_witness(check) is None:
            observation.evidence.details[PENDING] = True
            pending.append(observation)
    for observation in _inferred_shapes(comparison):
        observation.evidence.details[PENDING] = True
        pending.append(observation)
    return pending


def _inferred_shapes(comparison) -> list[Observation]:
    """Shape changes of matched operations seen only in inferred output shapes (no parameter differs).

    A parameter of another shape (a layer's width) is the change itself; an output shape that shape
    inference derived differently, with every parameter the same, is structure to be witnessed.
    """
    return [
        observation
        for observation in comparison.observations
        if observation.kind == SHAPE_CHANGED
        and "witness" not in observation.evidence.details
        and all("input" not in pair for pair in observation.evidence.details.get("pairs", [{"input": 0}]))
    ]


def _unexplain(observation: Observation, check: RegionCheck | None, tried: str | None) -> None:
    details = dict(observation.evidence.details)
    details["observed_as"] = observation.kind
    if check is None:  # matched operations whose inferred output shapes differ
        details["why_not_settled"] = "inferred output shapes differ while every parameter is the same"
        steps = ["matching (the operations pair, their parameters agree)"]
    else:
        details["why_not_settled"] = check.reason or "no method applies"
        steps = [
            "rewrites and proofs (symbolic, exact index maps, constant evaluation)",
            *(["numeric verification of the region"] if check.boundary is not None else []),
        ]
    details["tried"] = [*steps, *([tried] if tried else [])]
    details.pop("equivalence_not_established", None)
    verb = observation.summary.split(":", 1)
    what = verb[1].strip() if len(verb) == 2 and check is not None else observation.summary
    observation.kind = REGION_UNEXPLAINED
    observation.summary = f"unexplained, no witness: {what}"
    observation.evidence = Evidence(
        locations=observation.evidence.locations, metrics=observation.evidence.metrics, details=details
    )


def _said(witness: dict) -> str:
    """The witness in a few words, as a solver prints its counterexample."""
    where = witness.get("reference_output")
    if witness.get("found_by", "").startswith("symbolic"):
        return "witness: the normal forms differ at a random point"
    error = witness.get("scaled_error")
    amount = f"scaled error {error:.2g}" if isinstance(error, float) else "non-finite on one side"
    scope = "the whole models" if witness.get("scope") == "model" else "the regions"
    return f"witness: {scope} differ on {witness.get('input', 'an input')}, {amount}" + (
        f" at {where}" if where else ""
    )
