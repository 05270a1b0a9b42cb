"""The analytics views of sql/marts, on small warehouses with known answers."""

import math
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from flows import schema
from flows.load import Writer
from flows.sqlfiles import sql


def article(path: str, **review: object) -> dict:
    """An article row of the page `path`, with the parse review columns given."""
    row = {
        "article_id": path.removesuffix(".txt"),
        "source": "crawl",
        "source_path": path,
        "title": "A title",
        "body": "A body.",
        "crawl_month": None,
        "layout": "wpdiscuz",
        "n_comments": 2,
        "sha256": "x",
        "parser_version": "3",
        "loaded_by_run": "r1",
        "unsplit_text": None,
        "parse_flags": None,
        "parse_confidence": 1.0,
    }
    return row | review


def warehouse_of(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    schema.create_tables(con)
    con.register("loaded", pl.DataFrame(rows, schema=schema.polars_schema("article")))
    con.execute("insert into article by name select * from loaded")
    return con


def test_parse_review_lists_flagged_pages_least_confident_first():
    unsplit = "Text the parser could not place.\n\nAnd more."
    con = warehouse_of(
        [
            article("clean.txt"),
            article("no_title.txt", title=None, parse_flags="no_title", parse_confidence=0.9),
            article(
                "comments_only.txt",
                title=None,
                body=None,
                parse_flags="no_title,no_body",
                parse_confidence=0.5,
            ),
            # Two pages as sure as each other: the one with more text left unsplit first.
            article(
                "little_unsplit.txt",
                unsplit_text="Bob Lane",
                parse_flags="unsplit_text",
                parse_confidence=0.5,
            ),
            article(
                "unsplit_only.txt",
                title=None,
                body=None,
                layout="unknown",
                n_comments=0,
                unsplit_text=unsplit,
                parse_flags="no_title,no_body,unsplit_text",
                parse_confidence=0.0,
            ),
            # Loaded before the parser recorded flags: nothing to say about it.
            article("old.txt", parse_confidence=None),
        ]
    )

    rows = con.execute(
        "select source_path, title, layout, n_comments, parse_confidence, parse_flags, "
        "unsplit_chars from parse_review"
    ).fetchall()

    assert rows == [
        ("unsplit_only.txt", None, "unknown", 0, 0.0, "no_title,no_body,unsplit_text", 43),
        ("little_unsplit.txt", "A title", "wpdiscuz", 2, 0.5, "unsplit_text", 8),
        ("comments_only.txt", None, "wpdiscuz", 2, 0.5, "no_title,no_body", 0),
        ("no_title.txt", None, "wpdiscuz", 2, 0.9, "no_title", 0),
    ]
    assert len(unsplit) == 43


def rows_of(warehouse: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query).fetchall()


JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


def test_article_overview_counts_comments_mentions_and_story(mart_warehouse: Path):
    rows = rows_of(
        mart_warehouse, "select * exclude (source_path) from article_overview order by 1"
    )

    assert rows == [
        ("a-copy", None, FEB, "wpdiscuz", 1, 0, 1, 4, 0, "Latakia (1), Russia (1), Syria (1)", 1),
        ("a-ferry", "Ferry fares rise", JAN, "numbered", 3, 1, 2, 4, 1,
         "Latakia (1), NATO (1), Russia (1)", 1),
        ("a-only-comments", None, None, "wpdiscuz", 1, 0, 1, 0, 0, None, None),
        ("a-strike", "Port workers strike", FEB, "numbered", 2, 0, 2, 2, 2,
         "NATO (2), Syria (1), Vladimir Putin (1)", 2),
    ]  # fmt: skip


def test_commenter_counts_comments_articles_months_and_replies(mart_warehouse: Path):
    rows = rows_of(mart_warehouse, "select * from commenter order by author")

    assert rows == [
        # Alice's comment on the mirror copy counts as an article of its own.
        ("Alice Moor", 3, 3, JAN, FEB, 1, 1, 35.0),
        # The page without a crawl month sets neither month.
        ("Bob Lane", 2, 2, JAN, JAN, 1, 0, (46 + 2) / 2),
        ("Carol Tan", 1, 1, FEB, FEB, 0, 1, 37.0),
    ]


def test_entity_monthly_splits_article_text_and_comments(mart_warehouse: Path):
    rows = rows_of(
        mart_warehouse, "select * exclude (name, type) from entity_monthly order by 1, 2"
    )

    assert rows == [
        ("latakia", JAN, 1, 0, 1),
        ("latakia", FEB, 1, 0, 1),
        ("nato", JAN, 0, 1, 1),
        ("nato", FEB, 1, 1, 1),
        ("putin", JAN, 1, 0, 1),
        ("putin", FEB, 2, 0, 2),
        ("russia", JAN, 1, 0, 1),
        ("russia", FEB, 1, 0, 1),
        ("syria", JAN, 1, 0, 1),
        ("syria", FEB, 1, 1, 2),
    ]


def test_mentioned_entity_leaves_out_entities_never_named(mart_warehouse: Path):
    rows = rows_of(
        mart_warehouse, "select * exclude (wikidata_id, source) from mentioned_entity order by 1"
    )

    assert rows == [
        ("latakia", "Latakia", "LOC", 2, 2, 0, 2, JAN, FEB),
        ("nato", "NATO", "ORG", 3, 1, 2, 2, JAN, FEB),
        ("putin", "Vladimir Putin", "PERSON", 3, 3, 0, 3, JAN, FEB),
        ("russia", "Russia", "LOC", 2, 2, 0, 2, JAN, FEB),
        ("syria", "Syria", "LOC", 3, 2, 1, 3, JAN, FEB),
    ]
    assert rows_of(mart_warehouse, "select count(*) from entity") == [(6,)]


def test_entity_comention_pairs_entities_of_an_article_and_of_a_comment(mart_warehouse: Path):
    rows = rows_of(
        mart_warehouse,
        "select scope, entity_id, other_entity_id, together, entity_units, other_units, units, "
        "round(lift, 3), round(pmi, 3) from entity_comention order by 1, 2, 3",
    )

    # Article scope: the ferry story's two copies name latakia, putin, russia and syria; the
    # strike names nato and putin. Putin is in all three articles, so no pair with him lifts.
    ln15 = round(math.log(1.5), 3)
    assert rows == [
        ("article", "latakia", "putin", 2, 2, 3, 3, 1.0, 0.0),
        ("article", "latakia", "russia", 2, 2, 2, 3, 1.5, ln15),
        ("article", "latakia", "syria", 2, 2, 2, 3, 1.5, ln15),
        ("article", "nato", "putin", 1, 1, 3, 3, 1.0, 0.0),
        ("article", "putin", "russia", 2, 3, 2, 3, 1.0, 0.0),
        ("article", "putin", "syria", 2, 3, 2, 3, 1.0, 0.0),
        ("article", "russia", "syria", 2, 2, 2, 3, 1.5, ln15),
        # Comment scope: only Alice's reply names two entities.
        ("comment", "nato", "syria", 1, 2, 1, 2, 1.0, 0.0),
    ]


def test_story_groups_a_mirror_copy_with_its_original(mart_warehouse: Path):
    rows = rows_of(mart_warehouse, "select * from story order by story_id")

    assert rows == [
        (1, "Ferry fares rise", JAN, FEB, 2, 2, "site-one, site-two", 4, "a-ferry"),
        (2, "Port workers strike", FEB, FEB, 1, 1, "site-one", 2, "a-strike"),
    ]


def test_repeated_comment_finds_one_text_under_several_pages_and_names(mart_warehouse: Path):
    rows = rows_of(mart_warehouse, "select * from repeated_comment")

    # "ok" is too short to count; the text of Alice, Carol and a guest is one, whatever its
    # case and punctuation. Its copies on the mirror page are one story.
    assert rows == [
        (
            "fares are too high again shameful",
            4,
            3,
            2,
            2,
            1,
            "Alice Moor, Carol Tan",
            JAN,
            FEB,
            "Fares are too high again, shameful!",
        )
    ]


def test_run_health_lists_runs_latest_first_with_broken_rules(mart_warehouse: Path):
    rows = rows_of(mart_warehouse, "select * exclude (started_at, finished_at) from run_health")

    assert rows == [
        ("r2", "ingest", 75.0, 6, 3, 1, 2, 4, 7, "pages_quarantined", 3, 2, 1,
         "article.body:expect_column_values_to_not_match_regex, "
         "comment.author:expect_column_proportion_of_unique_values_to_be_between",
         "dq:expect_column_values_to_not_match_regex: 1, empty: 1"),
        ("r1", "ingest", 30.0, 2, 1, 0, 1, 1, 3, "passed", 1, 0, 0, None, "empty: 1"),
    ]  # fmt: skip


def test_every_mart_and_column_is_described(mart_warehouse: Path):
    undescribed = rows_of(
        mart_warehouse,
        "select table_name, column_name from duckdb_columns() "
        f"where table_name in {schema.MARTS} and (comment is null or comment = '')",
    )
    views = rows_of(
        mart_warehouse,
        f"select view_name from duckdb_views() where view_name in {schema.MARTS} "
        "and comment is not null",
    )

    assert undescribed == []
    assert sorted(name for (name,) in views) == sorted(schema.MARTS)


def test_a_page_crawled_again_counts_once_and_in_each_crawl_month(
    mart_warehouse: Path, tmp_path: Path
):
    # The ferry page crawled again by another crawl of the same month, nothing changed: a new
    # article naming the first as its previous version, with the same comments and mentions.
    again = tmp_path / "news.duckdb"
    shutil.copy(mart_warehouse, again)
    con = duckdb.connect(str(again))
    con.execute(
        """
        insert into article select * replace (
            'a-ferry-2' as article_id, 'crawl-jan-2' as source, 'r3' as loaded_by_run,
            'a-ferry' as previous_article_id)
        from article where article_id = 'a-ferry';
        insert into comment select * replace (
            comment_id || '-2' as comment_id, 'a-ferry-2' as article_id,
            parent_comment_id || '-2' as parent_comment_id)
        from comment where article_id = 'a-ferry';
        """
    )
    mentions = con.sql(
        "select * replace ('a-ferry-2' as article_id, comment_id || '-2' as comment_id, "
        "'a-ferry-2/' || mention_id as mention_id) from entity_mention "
        "where article_id = 'a-ferry'"
    ).pl()
    con.register("staged_entity_mention", mentions)
    con.execute("insert into entity_mention by name select * from staged_entity_mention")
    con.execute(sql("load/article_entity"))
    con.execute(sql("load/article_entity_pair"))
    writer = Writer(con)
    writer.update_stories()
    writer.close()

    # Totals over pages count the page once, at its latest version.
    for mart in ("mentioned_entity", "commenter", "entity_comention", "repeated_comment"):
        query = f"select * from {mart} order by all"
        assert rows_of(again, query) == rows_of(mart_warehouse, query), mart
    # A month shows what its crawls held: both versions are in January.
    monthly = "select * exclude (name, type) from entity_monthly where entity_id = 'latakia'"
    assert rows_of(again, f"{monthly} order by all") == [
        ("latakia", JAN, 2, 0, 2),
        ("latakia", FEB, 1, 0, 1),
    ]
    # Each version is an article of its own, in the story of the page.
    assert rows_of(again, "select article_id, story_id from article_overview order by 1") == [
        ("a-copy", 1),
        ("a-ferry", 1),
        ("a-ferry-2", 1),
        ("a-only-comments", None),
        ("a-strike", 2),
    ]
