"""The engine registry: what each engine reads and emits, checked against the vocabulary and the code."""

import ast
from pathlib import Path

import pytest

import parity
from parity.audit.artifacts import MLLOG_FILE, MODEL_PAIR, all_artifacts
from parity.audit.engines import ENGINES, MllogEngine, UndeclaredKind, check_declared, engines_for, run
from parity.observations import Observation, all_kinds, get_kind
from parity.observations.kinds import LOG_EVENT_MISSING, SUBMISSION_STRAY_FILE


@pytest.mark.parametrize("engine", ENGINES, ids=[engine.name for engine in ENGINES])
def test_an_engine_reads_one_artifact_and_emits_vocabulary_kinds(engine):
    assert engine.reads in all_artifacts()
    assert engine.emits, f"{engine.name} declares no kinds"
    for kind in engine.emits:
        assert get_kind(kind) is kind, f"{engine.name} declares {kind!r}, not a vocabulary constant"
    assert engine.step and engine.name


def test_every_kind_of_the_vocabulary_has_an_engine_that_emits_it():
    emitted = set().union(*(engine.emits for engine in ENGINES))
    assert set(all_kinds()) - emitted == set()


def test_engines_are_found_by_the_artifact_they_read():
    assert [engine.name for engine in engines_for(MODEL_PAIR)] == ["graph", "weights", "numeric"]
    assert engines_for(MLLOG_FILE) == (MllogEngine,)
    assert {engine for artifact in all_artifacts() for engine in engines_for(artifact)} == set(ENGINES)


def test_an_undeclared_kind_is_refused_as_a_bug():
    class Strays:
        name, reads, step = "strays", MLLOG_FILE, "testing"
        emits = frozenset({LOG_EVENT_MISSING})

        def observe(self, subject):
            return [Observation(SUBMISSION_STRAY_FILE)]

    with pytest.raises(UndeclaredKind, match=r"strays engine emitted submission\.stray_file"):
        run(Strays, None)
    check_declared(Strays, [Observation(LOG_EVENT_MISSING)])  # a declared one passes


def test_the_mllog_engine_runs_on_a_real_log_through_the_registry(tmp_path):
    import mllog_files
    from parity.engines.logs.parser import parse
    from parity.engines.logs.rounds import load_round

    runs = mllog_files.flux_runs(tmp_path / "v5.1" / "flux1")
    log = runs / "result_0.txt"
    log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")  # no run_stop
    checked = run(MllogEngine, (parse(str(log)), load_round("5.1.0"), None, None))
    assert LOG_EVENT_MISSING in {o.kind for o in checked.observations}


def test_the_report_layer_imports_no_engine_and_no_audit():
    """Reports read the typed results' fields; they never compute what an engine should have."""
    imported = []
    for path in (Path(parity.__file__).parent / "report").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            engines = [n for n in names if n.startswith(("parity.engines", "parity.audit"))]
            imported += [f"{path.name}: {name}" for name in engines]
    assert imported == []
