"""The analytics views of sql/marts, on small warehouses with known answers."""

import duckdb
import polars as pl

from flows import schema


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
