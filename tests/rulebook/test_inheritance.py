import pytest

from conftest import make_book, make_rule
from parity.errors import BadInput
from parity.rulebook import load_rulebook


def _child(**changes):
    book = {"id": "demo-v2", "title": "Demo v2", "suite": "demo", "round": "v2", "extends": "demo-v1"}
    book.update(changes)
    return book


@pytest.fixture
def parent(write_yaml):
    other = make_rule(
        id="demo.weights.pruning",
        kind="prohibited",
        governs=["weights.pruned"],
        examples=[{"description": "pruned", "observations": ["weights.pruned"], "expect": "violates"}],
    )
    return write_yaml("demo-v1.yaml", make_book([make_rule(), other]))


def test_child_adds_changes_and_removes_rules_and_records_history(parent, write_yaml):
    added = make_rule(
        id="demo.graph.identity",
        governs=["graph.identity_removed"],
        examples=[
            {"description": "identity", "observations": ["graph.identity_removed"], "expect": "conforms"}
        ],
    )
    child = write_yaml(
        "demo-v2.yaml",
        _child(
            adds=[added],
            changes=[
                {"id": "demo.graph.non-weight", "note": "v2 also allows folding", "title": "Folding too"}
            ],
            removes=[{"id": "demo.weights.pruning", "note": "dropped in v2"}],
        ),
    )
    book = load_rulebook(child)
    assert book.lineage == ("demo-v1", "demo-v2")
    assert list(book.rules) == ["demo.graph.non-weight", "demo.graph.identity"]
    assert book.rules["demo.graph.non-weight"].title == "Folding too"
    assert book.rules["demo.graph.non-weight"].statement == make_rule()["statement"]
    assert book.default.value == "deny" and book.round == "v2"
    actions = [(h.rulebook, h.action, h.rule_id) for h in book.history]
    assert ("demo-v2", "removed", "demo.weights.pruning") in actions
    assert ("demo-v2", "changed", "demo.graph.non-weight") in actions
    assert ("demo-v2", "added", "demo.graph.identity") in actions
    assert [h.note for h in book.rule_history("demo.graph.non-weight") if h.action == "changed"] == [
        "v2 also allows folding"
    ]
    assert load_rulebook(parent).rules.keys() == {"demo.graph.non-weight", "demo.weights.pruning"}


def test_child_can_flip_the_default_polarity(parent, write_yaml):
    reason = "allow what no rule names, for this test"
    book = load_rulebook(write_yaml("demo-v2.yaml", _child(default="allow", default_rationale=reason)))
    assert book.default.value == "allow"
    assert book.division_defaults  # inherited open: allow


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"adds": [make_rule()]},
            "rule 'demo.graph.non-weight': duplicate id (already in demo-v1; use `changes`)",
        ),
        (
            {"changes": [{"id": "demo.nothing", "note": "does not exist"}]},
            "`changes` names a rule demo-v1 does not",
        ),
        (
            {"removes": [{"id": "demo.nothing", "note": "does not exist"}]},
            "`removes` names a rule demo-v1 does not",
        ),
        (
            {"changes": [{"id": "demo.graph.non-weight", "note": "bad kind", "governs": ["graph.nope"]}]},
            "rule 'demo.graph.non-weight' (changed): field governs: unknown change kind 'graph.nope'",
        ),
        ({"rules": [make_rule(id="demo.other.rule")]}, "not `rules`"),
        ({"extends": "demo-v9"}, "unknown rulebook 'demo-v9'"),
    ],
)
def test_inconsistent_inheritance_is_rejected(parent, write_yaml, changes, message):
    child = write_yaml("demo-v2.yaml", _child(**changes))
    with pytest.raises(BadInput) as caught:
        load_rulebook(child)
    assert message in str(caught.value) and "demo-v2.yaml" in str(caught.value)


def test_extends_cycle_is_rejected(write_yaml):
    write_yaml("demo-a.yaml", _child(id="demo-a", extends="demo-b"))
    path = write_yaml("demo-b.yaml", _child(id="demo-b", extends="demo-a"))
    with pytest.raises(BadInput, match="`extends` forms a cycle: demo-b -> demo-a -> demo-b"):
        load_rulebook(path)


def test_self_extension_is_a_cycle(write_yaml):
    path = write_yaml("demo-a.yaml", _child(id="demo-a", extends="demo-a"))
    with pytest.raises(BadInput, match="cycle"):
        load_rulebook(path)
