"""Entity quality on the labelled documents, scored as issue 4 scores it, and the scoring code."""

import pytest
from entity_metrics import (
    ENTITY_SET_F1_TARGET,
    TYPED_F1_TARGET,
    GoldEntity,
    Predicted,
    Scores,
    gold_entities,
    labelled_documents,
    match,
    predictions,
    report,
    score,
)
from figures import FIGURES, RecordProperty


@pytest.fixture(scope="module")
def scores() -> Scores:
    return score(gold_entities(), predictions())


def test_entity_quality_meets_the_issue_targets(
    scores: Scores, record_property: RecordProperty
) -> None:
    record_property(
        FIGURES,
        "entities on the labelled documents\n"
        + report(scores)
        + "\nmissed: "
        + "; ".join(scores.misses)
        + "\nextra: "
        + "; ".join(scores.extras),
    )
    assert scores.total("entity-set").f1 >= ENTITY_SET_F1_TARGET
    assert scores.total("typed").f1 >= TYPED_F1_TARGET
    for part in ("article", "comment"):
        assert scores.total("entity-set", part).f1 >= ENTITY_SET_F1_TARGET, part
        assert scores.total("typed", part).f1 >= TYPED_F1_TARGET, part


def test_the_labelled_set_is_the_size_the_issue_asks_for() -> None:
    documents = labelled_documents()
    gold = gold_entities()
    assert 15 <= len(documents) <= 20
    assert all(sections["body"] and sections["comment"] for sections in documents.values())
    assert sum(len(entities) for entities in gold.values()) >= 300
    assert {doc for doc, _ in gold} == set(documents)


def test_a_gold_entity_matches_by_any_name_or_surface_once() -> None:
    gold = [
        GoldEntity("PERSON", frozenset({"Erdogon", "Erdogan"})),
        GoldEntity("LOC", frozenset({"Sochi"})),
        GoldEntity("ORG", frozenset({"SAA"})),
    ]
    predicted = [
        Predicted("Recep Tayyip Erdoğan", "PERSON", frozenset({"Erdogon"})),
        Predicted("Sochi", "ORG", frozenset({"Sochi"})),
        Predicted("Syrian Arab Army", "ORG", frozenset({"Syrian Arab Army"})),
        Predicted("Idlib", "LOC", frozenset({"Idlib"})),
    ]

    missed, extra = match(gold, predicted, typed=False)
    assert [e.names for e in missed] == [frozenset({"SAA"})]
    assert [p.name for p in extra] == ["Syrian Arab Army", "Idlib"]

    missed, extra = match(gold, predicted, typed=True)
    assert [e.type for e in missed] == ["LOC", "ORG"]
    assert [p.name for p in extra] == ["Sochi", "Syrian Arab Army", "Idlib"]
