"""The kinds of artifact a submission holds, each read by the engines registered for it.

An engine declares the one artifact it reads (:attr:`parity.audit.engines.Engine.reads`); ``parity check``
hands the model-pair engines a pair of models, and ``parity audit`` walks a tree, finds each artifact and
hands it to its engines. A plain class (no dataclass): ``parity logs check`` starts without ``inspect``.
"""

from __future__ import annotations

_ARTIFACTS: dict[str, Artifact] = {}


class Artifact:
    """One kind of input: a name for people and what it is on disk."""

    __slots__ = ("meaning", "name")

    def __init__(self, name: str, meaning: str) -> None:
        if name in _ARTIFACTS:
            raise ValueError(f"artifact {name!r} is defined twice")
        self.name, self.meaning = name, meaning
        _ARTIFACTS[name] = self

    def __repr__(self) -> str:
        return f"Artifact({self.name!r})"


MODEL_PAIR = Artifact(
    "model pair", "a reference and a candidate ONNX model, with optional weights files and inputs"
)
MLLOG_FILE = Artifact("MLLOG file", "one training result log (result_*.txt, :::MLLOG lines)")
BENCHMARK_FOLDER = Artifact(
    "benchmark folder", "results/<system>/<benchmark>/ of a training submission: one benchmark's runs"
)
SYSTEM_DESCRIPTION = Artifact("system description", "systems/<system>.json of a training submission")
SUBMISSION_LAYOUT = Artifact(
    "submission layout", "an organisation folder's tree: names and file types, what it holds and should not"
)
INFERENCE_RESULT = Artifact(
    "inference result",
    "results/<system>/<model>/<scenario>/ of an inference submission, with its compliance tests and "
    "measurements (beside it from v6.0, in compliance/ and measurements/ before)",
)
INFERENCE_LAYOUT = Artifact(
    "inference layout", "an inference organisation folder's tree: hygiene, systems, models and scenarios"
)


def all_artifacts() -> list[Artifact]:
    """Every artifact kind, in definition order."""
    return list(_ARTIFACTS.values())
