"""The data-quality gate: each rule catches a frame that breaks it; clean frames pass."""

import polars as pl
import pytest

from flows import quality, schema
from flows.quality import DataQualityError, RuleResult


@pytest.fixture(scope="module")
def gate() -> quality.QualityGate:
    return quality.shared_gate()


def article(**changes) -> pl.DataFrame:
    rows = {
        "article_id": ["a1", "a2"],
        "source_path": ["one.txt", "two.txt"],
        "title": ["First title", None],
        "body": ["First body.", "Second body."],
        "crawl_month": [None, None],
        "layout": ["wpdiscuz", "none"],
        "n_comments": [2, 0],
        "sha256": ["x", "y"],
        "parser_version": ["1", "1"],
        "loaded_by_run": ["r", "r"],
    }
    return pl.DataFrame({**rows, **changes}, schema=schema.polars_schema("article"))


def comment(**changes) -> pl.DataFrame:
    rows = {
        "comment_id": ["c1", "c2"],
        "article_id": ["a1", "a1"],
        "position": [1, 2],
        "author": ["Ann Example", None],
        "depth": [0, 0],
        "parent_comment_id": [None, None],
        "body": ["Nice.", "Thanks for this, Damascus."],
    }
    return pl.DataFrame({**rows, **changes}, schema=schema.polars_schema("comment"))


def texts(comments: pl.DataFrame) -> pl.DataFrame:
    from flows.entities import text_fields

    return text_fields(article(), comments)


def mention(**changes) -> pl.DataFrame:
    rows = {
        "mention_id": ["m1"],
        "entity_id": ["damascus"],
        "article_id": ["a1"],
        "comment_id": ["c2"],
        "field": ["comment"],
        "char_start": [17],
        "char_end": [25],
        "surface": ["Damascus"],
        "extractor": ["gazetteer"],
    }
    return pl.DataFrame({**rows, **changes}, schema=schema.polars_schema("entity_mention"))


def failures(
    gate: quality.QualityGate,
    articles: pl.DataFrame | None = None,
    comments: pl.DataFrame | None = None,
    mentions: pl.DataFrame | None = None,
) -> list[RuleResult]:
    comments = comment() if comments is None else comments
    frames = quality.checked_frames(
        article() if articles is None else articles,
        comments,
        mention() if mentions is None else mentions,
        texts(comments),
    )
    return [r for r in gate.validate(frames, ["damascus"]) if not r.success]


def test_clean_frames_pass(gate: quality.QualityGate):
    assert failures(gate) == []


@pytest.mark.parametrize(
    ("broken", "expectation", "column"),
    [
        pytest.param(
            {"articles": article(article_id=["a1", "a1"])},
            "expect_column_values_to_be_unique",
            "article_id",
            id="duplicate-article-key",
        ),
        pytest.param(
            {"articles": article(title=["", None])},
            "expect_column_value_lengths_to_be_between",
            "title",
            id="empty-title",
        ),
        pytest.param(
            {"articles": article(body=["Text.\n\nSupport SouthFront", "Body."])},
            "expect_column_values_to_not_match_regex",
            "body",
            id="chrome-in-body",
        ),
        pytest.param(
            {"comments": comment(article_id=["a1", "missing"])},
            "expect_column_values_to_be_in_set",
            "article_id",
            id="comment-without-article",
        ),
        pytest.param(
            {"comments": comment(position=[1, 3])},
            "expect_column_pair_values_to_be_equal",
            "position",
            id="position-gap",
        ),
        pytest.param(
            {"comments": comment(depth=[0, -1])},
            "expect_column_values_to_be_between",
            "depth",
            id="negative-depth",
        ),
        pytest.param(
            {"comments": comment(author=["Notify of", None])},
            "expect_column_values_to_not_match_regex",
            "author",
            id="chrome-as-author",
        ),
        pytest.param(
            {"mentions": mention(surface=["Damascu"])},
            "expect_column_pair_values_to_be_equal",
            "surface",
            id="surface-not-at-offsets",
        ),
        pytest.param(
            {"mentions": mention(char_start=[20], char_end=[40], surface=["x"])},
            "expect_column_pair_values_a_to_be_greater_than_b",
            "text_length",
            id="offsets-past-the-text",
        ),
        pytest.param(
            {"mentions": mention(entity_id=["unknown"])},
            "expect_column_values_to_be_in_set",
            "entity_id",
            id="mention-of-unknown-entity",
        ),
    ],
)
def test_each_rule_catches_what_breaks_it(gate, broken, expectation, column):
    caught = [(r.expectation, r.column, r.severity) for r in failures(gate, **broken)]

    assert (expectation, column, "critical") in caught


def test_a_failure_stops_the_run_naming_the_rule_and_examples(gate: quality.QualityGate):
    failed = failures(gate, comments=comment(position=[1, 3]))

    with pytest.raises(DataQualityError) as error:
        quality.require_passed(failed)

    assert "comment.position: expect_column_pair_values_to_be_equal" in str(error.value)
    assert "[3, 2]" in str(error.value)


def test_every_rule_names_a_column_of_its_table():
    derived = {
        "comment": {"expected_position"},
        "entity_mention": {"text_length", "text_at_offsets"},
    }
    for suite, document in quality.load_suite_documents().items():
        columns = set(schema.polars_schema(suite)) | derived.get(suite, set())
        for expectation in document["expectations"]:
            kwargs = expectation["kwargs"]
            named = {kwargs.get(key) for key in ("column", "column_A", "column_B")} - {None}
            assert named <= columns, (suite, expectation["type"], named - columns)
