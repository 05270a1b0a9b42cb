"""The data-quality gate: every rule catches a page or row that breaks it, with the right
severity and policy; page-level failures quarantine only their page, batch-level ones stop."""

import json
import pickle
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows import quality, schema
from flows.entities import text_fields
from flows.quality import DataQualityError, RuleResult
from flows.quality.rules import share


def article_row(article_id: str | None, **changes: Any) -> dict:
    row = {
        "article_id": article_id,
        "source_path": f"{article_id}.txt",
        "title": "A title",
        "body": "A body.",
        "crawl_month": date(2020, 2, 1),
        "layout": "wpdiscuz",
        "n_comments": 0,
        "sha256": "x",
        "parser_version": "1",
        "loaded_by_run": "r",
        "unsplit_text": None,
        "parse_flags": None,
        "parse_confidence": 1.0,
    }
    return row | changes


def comment_row(article_id: str, comment_id: str | None, position: int, **changes: Any) -> dict:
    row = {
        "comment_id": comment_id,
        "article_id": article_id,
        "position": position,
        "author": "Ann Example",
        "depth": 0,
        "parent_comment_id": None,
        "body": "Nice.",
    }
    return row | changes


def mention_row(article_id: str, mention_id: str | None, **changes: Any) -> dict:
    """A mention of Damascus in the title "Visit Damascus"."""
    row = {
        "mention_id": mention_id,
        "entity_id": "damascus",
        "article_id": article_id,
        "comment_id": None,
        "field": "title",
        "char_start": 6,
        "char_end": 14,
        "surface": "Damascus",
        "extractor": "gazetteer",
    }
    return row | changes


def entity_row(entity_id: str | None, **changes: Any) -> dict:
    row = {
        "entity_id": entity_id,
        "name": "Damascus",
        "type": "LOC",
        "wikidata_id": "Q3766",
        "source": "gazetteer",
    }
    return row | changes


@dataclass
class Case:
    """Rows of one page (or reference rows) that break one rule."""

    rule: tuple[str, str, str]
    policy: str
    articles: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    mentions: list[dict] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    # The page the rule must quarantine, or a key its example rows must show.
    page: str | None = None
    example: str | None = None


def page_case(rule, page, article=None, comments=(), mentions=(), policy="page", **kw) -> Case:
    """A page that breaks `rule`: its article row, comments and mentions."""
    articles = [article_row(page, n_comments=len(comments)) | (article or {})]
    return Case(
        rule, policy, articles, list(comments), list(mentions), page=page, example=kw.get("example")
    )


def comment_case(rule, page, comments) -> Case:
    """A page with one comment that breaks a comment-level `rule`: the comment is named."""
    return page_case(
        rule, page, comments=comments, policy="comment", example=comments[0]["comment_id"]
    )


def key_case(rule, example, **rows) -> Case:
    """Rows that break a batch-level rule; its examples must show `example`."""
    return Case(rule, "batch", example=example, **rows)


TITLE_MENTION = {"title": "Visit Damascus"}
CASES = [
    # article
    key_case(
        ("article", "expect_column_values_to_not_be_null", "article_id"),
        "keyless.txt",
        articles=[article_row(None, source_path="keyless.txt")],
    ),
    key_case(
        ("article", "expect_column_values_to_be_unique", "article_id"),
        "twice",
        articles=[article_row("twice"), article_row("twice", source_path="twice-2.txt")],
    ),
    page_case(
        ("article", "expect_column_value_lengths_to_be_between", "title"),
        "p-empty-title",
        {"title": ""},
    ),
    page_case(
        ("article", "expect_column_value_lengths_to_be_between", "body"),
        "p-empty-body",
        {"body": ""},
    ),
    page_case(
        ("article", "expect_column_values_to_not_be_null", "body"),
        "p-nothing-but-title",
        {"body": None},
    ),
    page_case(
        ("article", "expect_column_values_to_not_match_regex", "title"),
        "p-chrome-title",
        {"title": "Support SouthFront"},
    ),
    page_case(
        ("article", "expect_column_values_to_not_match_regex", "body"),
        "p-chrome-body",
        {"body": "Text.\n\nClick to see full-size image"},
    ),
    page_case(
        ("article", "expect_column_pair_values_to_be_equal", "n_comments"),
        "p-miscounted",
        {"n_comments": 3},
    ),
    page_case(
        ("article", "expect_column_values_to_be_between", "crawl_month"),
        "p-before-the-web",
        {"crawl_month": date(1980, 1, 1)},
    ),
    page_case(
        ("article", "expect_column_values_to_be_between", "crawl_month"),
        "p-future-month",
        {"crawl_month": date(2099, 1, 1)},
    ),
    page_case(
        ("article", "expect_column_values_to_be_in_set", "layout"),
        "p-odd-layout",
        {"layout": "threaded"},
    ),
    page_case(
        ("article", "expect_column_value_lengths_to_be_between", "unsplit_text"),
        "p-empty-unsplit-text",
        {"unsplit_text": ""},
    ),
    page_case(
        ("article", "expect_column_values_to_match_regex", "parse_flags"),
        "p-empty-flags",
        {"parse_flags": ""},
    ),
    page_case(
        ("article", "expect_column_values_to_be_between", "parse_confidence"),
        "p-overconfident",
        {"parse_confidence": 1.5},
    ),
    # comment
    key_case(
        ("comment", "expect_column_values_to_not_be_null", "comment_id"),
        "k-keyless-comment",
        articles=[article_row("k-keyless-comment", n_comments=1)],
        comments=[comment_row("k-keyless-comment", None, 1)],
    ),
    key_case(
        ("comment", "expect_column_values_to_be_unique", "comment_id"),
        "c-twice",
        articles=[article_row("k-twice", n_comments=2)],
        comments=[comment_row("k-twice", "c-twice", 1), comment_row("k-twice", "c-twice", 2)],
    ),
    key_case(
        ("comment", "expect_column_pair_values_to_be_equal", "article_id"),
        "c-orphan",
        comments=[comment_row("no-such-article", "c-orphan", 1)],
    ),
    page_case(
        ("comment", "expect_column_pair_values_to_be_equal", "position"),
        "p-position-gap",
        comments=[
            comment_row("p-position-gap", "c-gap-1", 1),
            comment_row("p-position-gap", "c-gap-3", 3),
        ],
    ),
    page_case(
        ("comment", "expect_column_values_to_be_between", "depth"),
        "p-negative-depth",
        comments=[comment_row("p-negative-depth", "c-negative", 1, depth=-1)],
    ),
    page_case(
        ("comment", "expect_column_values_to_not_be_null", "parent_comment_id"),
        "p-reply-without-parent",
        comments=[comment_row("p-reply-without-parent", "c-reply", 1, depth=1)],
    ),
    page_case(
        ("comment", "expect_column_values_to_be_null", "parent_comment_id"),
        "p-top-level-with-parent",
        comments=[
            comment_row("p-top-level-with-parent", "c-top", 1),
            comment_row("p-top-level-with-parent", "c-top-2", 2, parent_comment_id="c-top"),
        ],
    ),
    page_case(
        ("comment", "expect_column_pair_values_to_be_equal", "depth"),
        "p-reply-skips-a-level",
        comments=[
            comment_row("p-reply-skips-a-level", "c-root", 1),
            comment_row("p-reply-skips-a-level", "c-deep", 2, depth=2, parent_comment_id="c-root"),
        ],
    ),
    page_case(
        ("comment", "expect_column_pair_values_to_be_equal", "depth"),
        "p-parent-comes-later",
        comments=[
            comment_row("p-parent-comes-later", "c-early", 1, depth=1, parent_comment_id="c-late"),
            comment_row("p-parent-comes-later", "c-late", 2),
        ],
    ),
    page_case(
        ("comment", "expect_column_pair_values_to_be_equal", "depth"),
        "p-parent-on-another-page",
        comments=[
            comment_row("p-parent-on-another-page", "c-stray", 1, depth=1, parent_comment_id="c1")
        ],
    ),
    # comment rules that concern one comment: it is kept and marked, its page loads
    comment_case(
        ("comment", "expect_column_value_lengths_to_be_between", "body"),
        "p-empty-comment",
        comments=[comment_row("p-empty-comment", "c-empty", 1, body="")],
    ),
    comment_case(
        ("comment", "expect_column_values_to_not_match_regex", "body"),
        "p-chrome-comment",
        comments=[comment_row("p-chrome-comment", "c-chrome", 1, body="Good.\nLoad More Comments")],
    ),
    comment_case(
        ("comment", "expect_column_value_lengths_to_be_between", "author"),
        "p-empty-author",
        comments=[comment_row("p-empty-author", "c-empty-author", 1, author="")],
    ),
    comment_case(
        ("comment", "expect_column_values_to_not_match_regex", "author"),
        "p-chrome-author",
        comments=[comment_row("p-chrome-author", "c-chrome-author", 1, author="Notify of")],
    ),
    # entity (reference rows: every rule is batch-level)
    key_case(
        ("entity", "expect_column_values_to_not_be_null", "entity_id"),
        None,
        entities=[entity_row(None)],
    ),
    key_case(
        ("entity", "expect_column_values_to_be_unique", "entity_id"),
        "twice",
        entities=[entity_row("twice"), entity_row("twice")],
    ),
    key_case(
        ("entity", "expect_column_value_lengths_to_be_between", "name"),
        "nameless",
        entities=[entity_row("nameless", name="")],
    ),
    key_case(
        ("entity", "expect_column_values_to_be_in_set", "type"),
        "thing",
        entities=[entity_row("thing", type="THING")],
    ),
    key_case(
        ("entity", "expect_column_values_to_match_regex", "wikidata_id"),
        "bad-qid",
        entities=[entity_row("bad-qid", wikidata_id="3766")],
    ),
    key_case(
        ("entity", "expect_column_values_to_be_in_set", "source"),
        "scraped",
        entities=[entity_row("scraped", source="wikipedia")],
    ),
    # entity_mention
    key_case(
        ("entity_mention", "expect_column_values_to_not_be_null", "mention_id"),
        "k-keyless-mention",
        articles=[article_row("k-keyless-mention", **TITLE_MENTION)],
        mentions=[mention_row("k-keyless-mention", None)],
    ),
    key_case(
        ("entity_mention", "expect_column_values_to_be_unique", "mention_id"),
        "m-twice",
        articles=[article_row("k-mention-twice", **TITLE_MENTION)],
        mentions=[
            mention_row("k-mention-twice", "m-twice"),
            mention_row("k-mention-twice", "m-twice"),
        ],
    ),
    key_case(
        ("entity_mention", "expect_column_pair_values_to_be_equal", "entity_id"),
        "m-atlantis",
        articles=[article_row("k-unknown-entity", **TITLE_MENTION)],
        mentions=[mention_row("k-unknown-entity", "m-atlantis", entity_id="atlantis")],
    ),
    key_case(
        ("entity_mention", "expect_column_pair_values_to_be_equal", "article_id"),
        "m-orphan",
        mentions=[mention_row("no-such-page", "m-orphan")],
    ),
    key_case(
        ("entity_mention", "expect_column_pair_values_to_be_equal", "comment_id"),
        "m-lost-comment",
        articles=[article_row("k-lost-comment")],
        mentions=[
            mention_row("k-lost-comment", "m-lost-comment", field="comment", comment_id="gone")
        ],
    ),
    page_case(
        ("entity_mention", "expect_column_values_to_be_in_set", "field"),
        "p-caption-field",
        TITLE_MENTION,
        mentions=[mention_row("p-caption-field", "m-caption", field="caption")],
    ),
    page_case(
        ("entity_mention", "expect_column_values_to_not_be_null", "comment_id"),
        "p-comment-mention-without-comment",
        TITLE_MENTION,
        mentions=[
            mention_row("p-comment-mention-without-comment", "m-no-comment", field="comment")
        ],
    ),
    page_case(
        ("entity_mention", "expect_column_values_to_be_null", "comment_id"),
        "p-title-mention-with-comment",
        TITLE_MENTION,
        comments=[comment_row("p-title-mention-with-comment", "c-here", 1)],
        mentions=[mention_row("p-title-mention-with-comment", "m-title", comment_id="c-here")],
    ),
    page_case(
        ("entity_mention", "expect_column_values_to_be_between", "char_start"),
        "p-negative-offset",
        TITLE_MENTION,
        mentions=[mention_row("p-negative-offset", "m-negative", char_start=-1)],
    ),
    page_case(
        ("entity_mention", "expect_column_pair_values_a_to_be_greater_than_b", "char_end"),
        "p-empty-mention",
        TITLE_MENTION,
        mentions=[mention_row("p-empty-mention", "m-empty", char_end=6, surface="")],
    ),
    page_case(
        ("entity_mention", "expect_column_pair_values_a_to_be_greater_than_b", "text_length"),
        "p-offsets-past-the-text",
        TITLE_MENTION,
        mentions=[
            mention_row(
                "p-offsets-past-the-text", "m-past", char_start=10, char_end=18, surface="ascus"
            )
        ],
    ),
    page_case(
        ("entity_mention", "expect_column_pair_values_to_be_equal", "surface"),
        "p-surface-not-at-offsets",
        TITLE_MENTION,
        mentions=[mention_row("p-surface-not-at-offsets", "m-shifted", surface="Damascu")],
    ),
    page_case(
        ("entity_mention", "expect_column_values_to_be_in_set", "extractor"),
        "p-unknown-extractor",
        TITLE_MENTION,
        mentions=[mention_row("p-unknown-extractor", "m-spacy", extractor="spacy")],
    ),
]


def clean_rows() -> dict[str, list[dict]]:
    """Four pages and the reference entity that pass every rule, soft ones included: one
    with comments, one without, one of only comments, and one of only text the parser could
    not place."""
    unplaced = {"title": None, "body": None, "unsplit_text": "Text the parser could not place."}
    return {
        "articles": [
            article_row("a1", title="Visit Damascus", n_comments=2),
            article_row("a2", layout="none"),
            article_row("a3", title=None, body=None, n_comments=1, parse_flags="no_title,no_body"),
            article_row("a4", layout="unknown", parse_flags="unsplit_text", **unplaced),
        ],
        "comments": [
            comment_row("a1", "c1", 1),
            comment_row("a1", "c2", 2, author=None, depth=1, parent_comment_id="c1"),
            comment_row("a3", "c3", 1),
        ],
        "mentions": [mention_row("a1", "m1")],
        "entities": [entity_row("damascus")],
    }


def frames_of(rows: dict[str, list[dict]]) -> dict[str, pl.DataFrame]:
    """The checked frames (derived columns added) of literal rows."""
    article = pl.DataFrame(rows["articles"], schema=schema.polars_schema("article"))
    comment = pl.DataFrame(rows["comments"], schema=schema.polars_schema("comment"))
    mention = pl.DataFrame(rows["mentions"], schema=schema.polars_schema("entity_mention"))
    entity = pl.DataFrame(rows["entities"], schema=schema.polars_schema("entity"))
    return quality.checked_frames(article, comment, mention, text_fields(article, comment), entity)


def with_cases(cases: list[Case]) -> dict[str, list[dict]]:
    rows = clean_rows()
    for case in cases:
        rows["articles"] += case.articles
        rows["comments"] += case.comments
        rows["mentions"] += case.mentions
        rows["entities"] += case.entities
    return rows


@pytest.fixture(scope="module", params=["polars", "gx"])
def gate(request: pytest.FixtureRequest) -> quality.QualityGate | quality.RowRules:
    """Each rule test runs twice: on the polars rules a run judges every batch with, and on
    Great Expectations itself, which judges the same suites."""
    if request.param == "gx":
        return quality.shared_gate()
    return quality.RowRules(quality.load_suite_documents(), quality.suite_parameters())


@pytest.fixture(scope="module")
def caught(gate: quality.QualityGate) -> dict[tuple, RuleResult]:
    """Every rule's result on one batch holding every case, each on a page of its own: one
    validation per suite serves every rule's test."""
    return {r.key: r for r in gate.validate(frames_of(with_cases(CASES)))}


def test_clean_frames_pass_every_rule(gate: quality.QualityGate):
    results = gate.validate(frames_of(clean_rows()))

    assert [r.describe() for r in results if not r.success] == []
    assert len(results) == sum(
        len(d["expectations"]) for d in quality.load_suite_documents().values()
    )


@pytest.mark.parametrize(
    "case", CASES, ids=[case.page or case.example or case.rule[2] for case in CASES]
)
def test_each_rule_catches_what_breaks_it_with_its_policy(caught, case: Case):
    result = caught[case.rule]

    assert not result.success
    assert (result.severity, result.policy) == ("critical", case.policy)
    if case.policy == "page":
        assert case.page in result.pages
    elif case.policy == "comment":
        assert (result.pages, result.comments) == ((), (case.example,))
    else:
        assert result.pages == SET_ASIDE.get(case.rule, result.pages)
        if case.example is not None:
            assert case.example in json.dumps(result.examples)


# The batch-level rules of CASES whose breaking rows each name a page of the batch: those
# pages are set aside, the rest of the batch loads. The others stop the run.
SET_ASIDE = {
    ("article", "expect_column_values_to_be_unique", "article_id"): ("twice",),
    ("comment", "expect_column_values_to_not_be_null", "comment_id"): ("k-keyless-comment",),
    ("comment", "expect_column_values_to_be_unique", "comment_id"): ("k-twice",),
    ("entity_mention", "expect_column_values_to_not_be_null", "mention_id"): ("k-keyless-mention",),
    ("entity_mention", "expect_column_values_to_be_unique", "mention_id"): ("k-mention-twice",),
    ("entity_mention", "expect_column_pair_values_to_be_equal", "entity_id"): ("k-unknown-entity",),
    ("entity_mention", "expect_column_pair_values_to_be_equal", "comment_id"): ("k-lost-comment",),
}


def test_batch_rules_broken_by_pages_of_the_batch_set_them_aside_the_rest_stop(caught):
    article_ids = frames_of(with_cases(CASES))["article"]["article_id"]

    settled = quality.settle(list(caught.values()), article_ids)

    assert {r.key: r.pages for r in settled if r.set_aside} == SET_ASIDE
    assert {r.key for r in settled if r.stops_run} == {
        case.rule for case in CASES if case.policy == "batch" and case.rule not in SET_ASIDE
    }


SOFT_RULES = [
    ("article", "expect_column_values_to_not_be_null", "title"),
    ("article", "expect_column_values_to_be_between", "n_comments"),
    ("article", "expect_column_values_to_be_between", "authorless_comment_share"),
    ("article", "expect_column_values_to_be_between", "mentions_per_1000_words"),
]


@pytest.fixture(scope="module")
def soft_batch() -> dict[str, list[dict]]:
    """Three pages that are each fine, but together: one of two pages with a body has no
    title, two of three have no comments, the page with comments has no authors, and every
    word of a page names an entity."""
    rows = clean_rows()
    rows["articles"] = [
        article_row("s1", title="Damascus", body=None, n_comments=2),
        article_row("s2", title=None, body="A body."),
        article_row("s3", body="Another body."),
    ]
    rows["comments"] = [
        comment_row("s1", "s1-c1", 1, author=None),
        comment_row("s1", "s1-c2", 2, author=None),
    ]
    rows["mentions"] = [mention_row("s1", "m-s1", char_start=0, char_end=8)]
    return rows


@pytest.mark.parametrize("rule", SOFT_RULES, ids=[rule[2] for rule in SOFT_RULES])
def test_each_soft_rule_below_its_threshold_is_a_warning(gate, soft_batch, rule):
    results = {r.key: r for r in gate.validate(frames_of(soft_batch), suites=["article"])}

    assert not results[rule].success
    assert (results[rule].severity, results[rule].policy) == ("warning", "warn")


def threshold_batch(column: str, breaking: int) -> dict[str, list[dict]]:
    """Twenty pages with a body and one (authored) comment each, `breaking` of which break
    the soft rule on `column`."""
    rows = clean_rows() | {"articles": [], "comments": [], "mentions": []}
    for number in range(20):
        page, broken = f"t{number}", number < breaking
        article = article_row(page, n_comments=1)
        comment = comment_row(page, f"{page}-c1", 1)
        if broken and column == "title":
            article["title"] = None
        if broken and column == "n_comments":
            article["n_comments"], comment = 0, None
        if broken and column == "authorless_comment_share":
            comment["author"] = None
        if broken and column == "mentions_per_1000_words":
            # 2 mentions in 5 words (title, body, comment): 400 per 1,000 words.
            article |= {"title": "Visit Damascus", "body": "Damascus."}
            rows["mentions"] += [
                mention_row(page, f"{page}-m1"),
                mention_row(page, f"{page}-m2", field="body", char_start=0, char_end=8),
            ]
        rows["articles"].append(article)
        rows["comments"] += [comment] if comment else []
    return rows


# Each soft rule's `mostly`, pinned from both sides on 20 pages: the most pages that may break
# it (the share just at its threshold) pass, one more fails.
THRESHOLDS = [
    ("title", 2, True),  # mostly 0.9 of pages with a body have a title
    ("title", 3, False),
    ("n_comments", 10, True),  # mostly 0.5 of pages have a comment
    ("n_comments", 11, False),
    ("authorless_comment_share", 2, True),  # mostly 0.9 of pages have half or fewer
    ("authorless_comment_share", 3, False),
    ("mentions_per_1000_words", 1, True),  # mostly 0.95 of pages have 200 or fewer
    ("mentions_per_1000_words", 2, False),
]


@pytest.mark.parametrize(
    ("column", "breaking", "success"),
    THRESHOLDS,
    ids=[f"{column}-{breaking}-of-20" for column, breaking, _ in THRESHOLDS],
)
def test_each_soft_rule_threshold_is_where_the_docs_say(gate, column, breaking, success):
    (rule,) = [rule for rule in SOFT_RULES if rule[2] == column]
    results = gate.validate(frames_of(threshold_batch(column, breaking)), suites=["article"])

    assert {r.key: r.success for r in results}[rule] is success


def test_every_rule_has_a_test_here():
    tested = {case.rule for case in CASES} | set(SOFT_RULES)
    rules = {
        (suite, e["type"], e["kwargs"].get("column") or e["kwargs"].get("column_A"))
        for suite, document in quality.load_suite_documents().items()
        for e in document["expectations"]
    }
    assert rules == tested


def test_rules_are_named_once_and_state_their_policy():
    for suite, document in quality.load_suite_documents().items():
        keys = [
            (e["type"], e["kwargs"].get("column") or e["kwargs"].get("column_A"))
            for e in document["expectations"]
        ]
        assert len(keys) == len(set(keys)), suite  # dq_result tells rules apart by these
        for expectation in document["expectations"]:
            policy = expectation["meta"]["policy"]
            assert policy in quality.POLICIES
            assert expectation["severity"] == ("warning" if policy == "warn" else "critical")
            assert ("mostly" in expectation["kwargs"]) == (policy == "warn")
            assert expectation["meta"]["notes"]


def test_every_rule_names_a_column_of_its_table():
    derived = {
        "article": {"comment_rows", "authorless_comment_share", "mentions_per_1000_words"},
        "comment": {"expected_position", "parent_depth_plus_one", "article_id_found"},
        "entity_mention": {
            "text_length",
            "text_at_offsets",
            "entity_id_found",
            "article_id_found",
            "comment_id_found",
        },
    }
    for suite, document in quality.load_suite_documents().items():
        columns = set(schema.polars_schema(suite)) | derived.get(suite, set())
        for expectation in document["expectations"]:
            kwargs = expectation["kwargs"]
            named = {kwargs.get(key) for key in ("column", "column_A", "column_B")} - {None}
            assert named <= columns, (suite, expectation["type"], named - columns)


def split(results: list[RuleResult], rows: dict[str, list[dict]]):
    frames = frames_of(rows)
    results = quality.settle(results, frames["article"]["article_id"])
    plain = {
        name: frames[name].select(schema.polars_schema(name).names())
        for name in ("article", "comment", "entity_mention")
    }
    return quality.set_aside(results, plain["article"], plain["comment"], plain["entity_mention"])


def test_a_page_level_failure_quarantines_only_that_page(gate: quality.QualityGate):
    bad_page = page_case(
        ("article", "expect_column_values_to_not_match_regex", "body"),
        "p-chrome-body",
        {"body": "Text.\n\nClick to see full-size image"},
    )
    rows = with_cases([bad_page])

    article, comment, mention, quarantined = split(gate.validate(frames_of(rows)), rows)

    clean = frames_of(clean_rows())
    assert_frame_equal(article, clean["article"].select(article.columns))
    assert_frame_equal(comment, clean["comment"].select(comment.columns))
    assert mention.height == clean["entity_mention"].height
    assert quarantined.select("source_path", "reason").to_dicts() == [
        {
            "source_path": "p-chrome-body.txt",
            "reason": "dq:expect_column_values_to_not_match_regex",
        }
    ]
    assert "article.body" in quarantined["message"][0]
    assert quarantined.columns == schema.empty("quarantine").drop("run_id").columns


def test_a_comment_level_failure_keeps_the_comment_and_its_page_and_marks_it(
    gate: quality.QualityGate,
):
    comments = [
        comment_row("p-two", "c-good", 1, body="Fair point."),
        comment_row("p-two", "c-empty", 2, body=""),
        comment_row("p-two", "c-chrome", 3, body="Good.\nLoad More Comments", author="Notify of"),
    ]
    rows = with_cases([page_case(None, "p-two", comments=comments)])
    results = gate.validate(frames_of(rows))
    ledger = quality.RunLedger("r1")
    ledger.add(results)

    article, comment, _, quarantined = split(results, rows)

    assert quarantined.height == 0
    assert "p-two" in article["article_id"].to_list()
    flags = dict(
        comment.filter(pl.col("article_id") == "p-two").select("comment_id", "dq_flags").rows()
    )
    assert flags == {
        "c-good": None,
        "c-empty": "body:expect_column_value_lengths_to_be_between",
        "c-chrome": "body:expect_column_values_to_not_match_regex, "
        "author:expect_column_values_to_not_match_regex",
    }
    assert comment.filter(pl.col("article_id") != "p-two")["dq_flags"].null_count() == (
        comment.height - 3
    )
    assert ledger.status() == "comments_flagged"
    broken = ledger.frame().filter(~pl.col("success"))
    assert sorted(
        zip(broken["column_name"], broken["policy"], broken["unexpected_count"], strict=True)
    ) == [
        ("author", "comment", 1),
        ("body", "comment", 1),
        ("body", "comment", 1),
    ]


def test_a_batch_level_failure_stops_naming_the_rule_and_example_rows(caught):
    rows = with_cases(CASES)

    with pytest.raises(DataQualityError) as failure:
        split(list(caught.values()), rows)

    message = str(failure.value)
    assert "comment.article_id: expect_column_pair_values_to_be_equal failed for 1 rows" in message
    assert '"comment_id": "c-orphan"' in message
    assert all(r.policy == "batch" for r in failure.value.failures)
    assert "comment.comment_id: expect_column_values_to_be_unique" not in message


def test_a_page_that_breaks_a_batch_level_rule_alone_is_set_aside(gate):
    twice = [comment_row("p-dup", "c-dup", 1), comment_row("p-dup", "c-dup", 2, body="Again.")]
    rows = with_cases([page_case(None, "p-dup", comments=twice)])
    ledger = quality.RunLedger("r1")
    results = quality.settle(
        gate.validate(frames_of(rows)), frames_of(rows)["article"]["article_id"]
    )
    ledger.add(results)

    article, comment, _, quarantined = split(results, rows)

    assert quarantined.select("source_path", "reason").to_dicts() == [
        {"source_path": "p-dup.txt", "reason": "dq:expect_column_values_to_be_unique"}
    ]
    assert "comment.comment_id" in quarantined["message"][0]
    assert "p-dup" not in article["article_id"].to_list()
    assert "c-dup" not in comment["comment_id"].to_list()
    assert article.height == frames_of(clean_rows())["article"].height
    assert ledger.status() == "pages_quarantined"
    row = ledger.frame().filter(pl.col("column_name") == "comment_id", ~pl.col("success"))
    assert row.select("policy", "unexpected_count", "pages_quarantined").rows() == [("batch", 2, 1)]


def test_polars_rules_judge_every_rule_as_great_expectations_does(soft_batch):
    """The run judges batches with the polars rules; Great Expectations, on the same suites,
    must come to the same result, examples and pages included."""
    rules = quality.RowRules(quality.load_suite_documents(), quality.suite_parameters())
    assert rules.gx_only == {}
    for rows in (with_cases(CASES), clean_rows(), soft_batch):
        frames = frames_of(rows)
        by_gx = {r.key: r for r in quality.shared_gate().validate(frames)}
        by_polars = {r.key: r for r in rules.validate(frames)}
        assert by_polars == by_gx


def test_warnings_load_every_page_and_are_recorded(gate, soft_batch):
    results = gate.validate(frames_of(soft_batch))
    ledger = quality.RunLedger("r1")
    ledger.add(results)

    article, _, _, quarantined = split(results, soft_batch)

    assert (article.height, quarantined.height) == (3, 0)
    assert ledger.status() == "warnings"


def test_the_ledger_sums_batches_into_dq_result_rows():
    def rule(success: bool, unexpected: int, examples: list, pages=()) -> RuleResult:
        return RuleResult(
            "comment",
            "expect_column_values_to_be_between",
            "depth",
            success,
            "critical",
            "page",
            unexpected,
            examples,
            element_count=10,
            notes="Reply depth is 0 or more.",
            pages=pages,
        )

    ledger = quality.RunLedger("r1")
    ledger.add([rule(True, 0, [])])
    ledger.add([rule(False, 2, [{"depth": -1}], pages=("a9",))])

    assert ledger.status() == "pages_quarantined"
    expected = pl.DataFrame(
        {
            "run_id": ["r1"],
            "suite": ["comment"],
            "expectation": ["expect_column_values_to_be_between"],
            "column_name": ["depth"],
            "severity": ["critical"],
            "policy": ["page"],
            "success": [False],
            "observed_value": ["2 of 20 rows unexpected (10.00%)"],
            "element_count": [20],
            "unexpected_count": [2],
            "pages_quarantined": [1],
            "examples": ['[{"depth": -1}]'],
            "notes": ["Reply depth is 0 or more."],
        },
        schema=schema.polars_schema("dq_result"),
    )
    assert_frame_equal(ledger.frame(), expected)


# Columns named, so that rows stay valid when a table gains a column.
COMMENT_COLUMNS = (
    "(comment_id, article_id, position, author, depth, parent_comment_id, body, normalised_text, "
    "entities_named)"
)
ARTICLE_COLUMNS = (
    "(article_id, source_path, title, body, crawl_month, layout, n_comments, sha256, "
    "parser_version, loaded_by_run, unsplit_text, parse_flags, parse_confidence, source)"
)


def warehouse_with(statements: list[str]) -> pl.DataFrame:
    con = duckdb.connect()
    schema.create_tables(con)
    con.execute(
        f"insert into article {ARTICLE_COLUMNS} values "
        "('a1', 'a1.txt', 'T', 'B', null, 'wpdiscuz', 1, 'x', '1', 'r', null, null, 1.0, 'crawl')"
    )
    con.execute(
        f"insert into comment {COMMENT_COLUMNS} values "
        "('c1', 'a1', 1, null, 0, null, 'Hi.', 'hi', 0)"
    )
    con.execute("insert into entity values ('damascus', 'Damascus', 'LOC', null, 'gazetteer')")
    for statement in statements:
        con.execute(statement)
    from flows.load import warehouse_checks

    return warehouse_checks(con)


INSERT_ARTICLE = f"insert into article {ARTICLE_COLUMNS} values "
INSERT_MENTION = "insert into entity_mention values "
WAREHOUSE_CASES = {
    "comment.article_id": (
        [
            f"insert into comment {COMMENT_COLUMNS} values "
            "('c9', 'gone', 1, null, 0, null, 'x', 'x', 0)"
        ],
        "c9",
    ),
    "comment.parent_comment_id": (
        [
            INSERT_ARTICLE
            + "('a2', 'a2.txt', 'T', 'B', null, 'wpdiscuz', 1, 'x', '1', 'r', null, null, 1.0, "
            "'crawl')",
            f"insert into comment {COMMENT_COLUMNS} values "
            "('c2', 'a2', 1, null, 1, 'c1', 'x', 'x', 0)",
        ],
        "c2",
    ),
    "entity_mention.entity_id": (
        [INSERT_MENTION + "('m1', 'atlantis', 'a1', null, 'title', 0, 1, 'T', 'g')"],
        "m1",
    ),
    "entity_mention.article_id": (
        [INSERT_MENTION + "('m2', 'damascus', 'gone', null, 'title', 0, 1, 'T', 'g')"],
        "m2",
    ),
    "entity_mention.comment_id": (
        [INSERT_MENTION + "('m3', 'damascus', 'a1', 'gone', 'comment', 0, 1, 'H', 'g')"],
        "m3",
    ),
    "article.n_comments": (
        ["update article set n_comments = 5"],
        "a1",
    ),
}


def test_the_warehouse_passes_its_checks_when_whole():
    assert [r for r in quality.warehouse_results(warehouse_with([])) if not r.success] == []


def test_a_broken_warehouse_rule_says_what_broke_and_how_often():
    statements, _ = WAREHOUSE_CASES["comment.article_id"]

    (broken,) = [r for r in quality.warehouse_results(warehouse_with(statements)) if not r.success]

    assert broken == RuleResult(
        suite="warehouse",
        expectation="relationship",
        column="comment.article_id",
        success=False,
        severity="critical",
        policy="batch",
        unexpected_count=1,
        examples=["c9"],
        element_count=2,
        observed_value="1 of 2 rows unexpected (50.00%)",
        notes="Every comment's article exists.",
    )


@pytest.mark.parametrize("column", list(WAREHOUSE_CASES))
def test_each_warehouse_rule_stops_the_run_with_example_keys(column: str):
    statements, example = WAREHOUSE_CASES[column]

    results = quality.warehouse_results(warehouse_with(statements))

    broken = [r for r in results if not r.success]
    assert [(r.column, r.severity, r.policy, r.examples) for r in broken] == [
        (column, "critical", "batch", [example])
    ]
    with pytest.raises(DataQualityError, match=f"warehouse.{column}"):
        quality.require_passed(results)


def test_stages_that_do_not_validate_never_import_great_expectations():
    code = (
        "import sys, flows.quality, flows.load, flows.cli, flows.parse, flows.entities; "
        "sys.exit('great_expectations' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# The ledger and the policy, on hand-made results


def result(success: bool = False, policy: str = "page", **changes: Any) -> RuleResult:
    """One rule's result on one batch: by default a page-level rule broken by 1 row of 10."""
    fields: dict[str, Any] = {
        "suite": "article",
        "expectation": "expect_column_values_to_not_match_regex",
        "column": "body",
        "success": success,
        "severity": "critical",
        "policy": policy,
        "unexpected_count": 0 if success else 1,
        "examples": [],
        "element_count": 10,
        "notes": "A body holds no chrome line.",
    }
    return RuleResult(**(fields | changes))


def over_two_batches(first: RuleResult, second: RuleResult) -> RuleResult:
    ledger = quality.RunLedger("r1")
    ledger.add([first])
    ledger.add([second])
    (combined,) = ledger.results
    assert ledger.batches == 2
    return combined


@pytest.mark.parametrize(
    ("first", "second", "unexpected", "elements"),
    [
        pytest.param(None, None, None, None, id="neither-counted"),
        pytest.param(None, 3, 3, 10, id="second-counted"),
        pytest.param(2, None, 2, 10, id="first-counted"),
        pytest.param(2, 3, 5, 20, id="both-counted"),
    ],
)
def test_the_ledger_adds_counts_a_batch_did_not_report_as_none(first, second, unexpected, elements):
    def counted(count: int | None) -> RuleResult:
        return result(
            unexpected_count=count,
            element_count=None if count is None else 10,
            observed_value=None if count is None else "batch's own",
        )

    combined = over_two_batches(counted(first), counted(second))

    assert (combined.unexpected_count, combined.element_count) == (unexpected, elements)
    if unexpected is None:
        assert combined.observed_value is None
    elif first is None or second is None:
        # One batch counted: the share is over the rows of that batch only.
        assert combined.observed_value == f"{unexpected} of 10 rows unexpected ({unexpected}0.00%)"
    else:
        assert combined.observed_value == "5 of 20 rows unexpected (25.00%)"


def test_the_ledger_keeps_a_batch_s_observed_value_when_it_has_no_counts():
    combined = over_two_batches(
        result(unexpected_count=None, observed_value="first"),
        result(unexpected_count=None, observed_value="mean 3.5"),
    )

    assert combined.observed_value == "mean 3.5"


def test_the_ledger_sums_unpinned_rows_keeps_the_first_error_and_no_pages():
    combined = over_two_batches(
        result(unpinned=1, pages=("a1",), error=None),
        result(unpinned=2, pages=("a2",), error="no such column"),
    )

    assert (combined.unpinned, combined.pages, combined.error) == (3, (), "no such column")
    assert over_two_batches(result(error="first"), result(error=None)).error == "first"


# (success, set_aside) of a batch-level rule in two batches -> set aside over the run.
RUN_PASSED, RUN_SET_ASIDE, RUN_STOPPED = (True, False), (False, True), (False, False)


@pytest.mark.parametrize(
    ("first", "second", "set_aside", "status"),
    [
        pytest.param(RUN_PASSED, RUN_PASSED, False, "passed", id="passed-twice"),
        pytest.param(RUN_PASSED, RUN_SET_ASIDE, True, "pages_quarantined", id="then-set-aside"),
        pytest.param(
            RUN_SET_ASIDE, RUN_PASSED, True, "pages_quarantined", id="set-aside-then-passed"
        ),
        pytest.param(RUN_SET_ASIDE, RUN_SET_ASIDE, True, "pages_quarantined", id="set-aside-twice"),
        pytest.param(RUN_STOPPED, RUN_SET_ASIDE, False, "failed", id="stopped-then-set-aside"),
        pytest.param(RUN_SET_ASIDE, RUN_STOPPED, False, "failed", id="set-aside-then-stopped"),
    ],
)
def test_a_batch_rule_is_set_aside_over_the_run_only_if_every_break_was(
    first, second, set_aside, status
):
    def batch(success: bool, aside: bool) -> RuleResult:
        return result(success, "batch", set_aside=aside, pages=() if success else ("a1",))

    ledger = quality.RunLedger("r1")
    ledger.add([batch(*first)])
    ledger.add([batch(*second)])

    (combined,) = ledger.results
    assert combined.set_aside is set_aside
    assert ledger.status() == status


def test_pages_quarantined_counts_only_pages_set_aside_in_every_batch():
    ledger = quality.RunLedger("r1")
    ledger.add([result(pages=("a1", "a2")), result(False, "warn", column="title", pages=("a3",))])
    ledger.add([result(pages=("a4",)), result(False, "warn", column="title", pages=("a5",))])

    quarantined = dict(ledger.frame().select("column_name", "pages_quarantined").rows())
    assert quarantined == {"body": 3, "title": 0}


def test_dq_result_examples_are_json_with_dates_and_any_script():
    ledger = quality.RunLedger("r1")
    ledger.add([result(examples=[{"crawl_month": date(2020, 2, 1), "author": "Café Ердоган"}])])

    assert ledger.frame()["examples"].to_list() == [
        '[{"crawl_month": "2020-02-01", "author": "Café Ердоган"}]'
    ]


def test_a_page_broken_twice_is_quarantined_with_both_rules_in_words():
    article = pl.DataFrame(
        [article_row("a1", sha256="0f" * 32, source="crawl")],
        schema=schema.polars_schema("article"),
    )
    empty = {name: schema.empty(name) for name in ("comment", "entity_mention")}
    broken = [
        result(),
        result(suite="comment", column="author", notes="An author is a name.", policy="page"),
    ]
    broken = [replace(r, pages=("a1",)) for r in broken]

    kept, _, _, quarantined = quality.set_aside(
        broken, article, empty["comment"], empty["entity_mention"]
    )

    assert kept.is_empty()
    assert quarantined.rows(named=True) == [
        {
            "source_path": "a1.txt",
            "reason": "dq:expect_column_values_to_not_match_regex",
            "message": "The page's rows broke data-quality rules: "
            "article.body: expect_column_values_to_not_match_regex (A body holds no chrome "
            "line); comment.author: expect_column_values_to_not_match_regex (An author is a "
            "name). The rest of the batch loaded; see dq_result and the Data Docs for example "
            "rows.",
            "size_bytes": None,
            "sha256": "0f" * 32,
            "source": "crawl",
        }
    ]
    assert quarantined.schema["size_bytes"] == pl.Int64()


def test_only_comment_level_rules_flag_comments():
    article = pl.DataFrame([article_row("a1")], schema=schema.polars_schema("article"))
    comment = pl.DataFrame([comment_row("a1", f"c{n}", n) for n in (3, 1, 2)])
    flagged = [
        result(False, "warn", comments=("c1",)),
        result(False, "comment", suite="comment", column="body", comments=("c2",)),
        result(True, "comment", suite="comment", column="author", comments=("c3",)),
    ]

    _, comment, _, _ = quality.set_aside(flagged, article, comment, schema.empty("entity_mention"))

    assert comment.select("comment_id", "dq_flags").rows() == [
        ("c3", None),
        ("c1", None),
        ("c2", "body:expect_column_values_to_not_match_regex"),
    ]


def test_the_gate_s_error_reads_each_failure_and_survives_pickling():
    failures = [
        result(False, "batch", examples=[{"crawl_month": date(2020, 2, 1)}]),
        result(False, "batch", suite="entity", column=None, notes="Ids are unique."),
    ]
    error = DataQualityError(failures)

    assert str(error) == (
        "data-quality gate failed: article.body: expect_column_values_to_not_match_regex "
        'failed for 1 rows (A body holds no chrome line.), e.g. [{"crawl_month": '
        '"2020-02-01"}]; entity: expect_column_values_to_not_match_regex failed for 1 rows '
        "(Ids are unique.), e.g. []"
    )
    # A flow run on Dask hands the error back pickled.
    assert pickle.loads(pickle.dumps(error)).failures == failures
    error.data_docs = Path("/tmp/docs/index.html")
    assert str(error).endswith("e.g. [] (Data Docs: /tmp/docs/index.html)")


def test_the_run_status_is_passed_or_failed_in_those_words():
    passed, failed = quality.RunLedger("r1"), quality.RunLedger("r2")
    passed.add([result(True)])
    failed.add([result(False, "batch")])

    assert (passed.status(), failed.status()) == ("passed", "failed")


def test_a_rule_over_no_rows_observes_none_of_none():
    assert share(0, 0) == "0 of 0 rows unexpected (0.00%)"
    assert share(1, 3) == "1 of 3 rows unexpected (33.33%)"


def test_the_data_docs_are_written_in_a_process_of_their_own(tmp_path: Path):
    # Importing GX and validating again take seconds of pure Python: in the run's process
    # they would hold its interpreter lock against the stories and the publish.
    script = f"""
import sys
from pathlib import Path
from flows import entities, quality
frames = {{"entity": entities.load_gazetteer().entities}}
rules = quality.RowRules(quality.load_suite_documents(), quality.suite_parameters())
results = rules.validate(frames, ("entity",))
batch = quality.DocsBatch("r1-reference", frames, ("entity",), results)
writing = quality.write_data_docs_beside(
    [batch], Path({str(tmp_path / "docs")!r}), "r1", own_process=True
)
index, disagreements = writing.result()
print(index, disagreements, "great_expectations" in sys.modules)
"""
    printed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()

    assert printed == [str(tmp_path / "docs" / "index.html"), "[]", "False"]
    assert "r1-reference" in (tmp_path / "docs" / "index.html").read_text(encoding="utf-8")
