"""The analytics views of sql/marts, on small warehouses with known answers."""

import duckdb
import polars as pl

from flows import schema
from flows.parse import parse_pages

# Pages written for these tests, one per kind of parse an analyst should check.
CLEAN = """\
Library Extends Its Opening Hours

The town library will stay open until nine in the evening from next month.
"""
NO_TITLE = "The council met once this week.\n"
COMMENTS_ONLY = """\
Notify of
View all comments
Anna Berg

Lovely to see the square busy again.

Jon Dahl

The parking was a nightmare though.
"""
UNSPLIT_ONLY = """\
3 thoughts on “Harbour Crane Collapses”

The crane was old, everyone knew it.

Lucky nobody was under it at the time.

Who pays for the repairs now?

Comments are closed.
"""
CUT_OFF = """\
Ferry Fares Rise

Fares go up in May.


Notify of
Alice Moor

Again?

Bob Lane

Yes.

Alice Moor
"""


def warehouse_of(pages: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding the articles parsed from `pages` (path: text)."""
    frame = pl.DataFrame(
        {"source_path": list(pages), "sha256": list(pages), "text": list(pages.values())}
    )
    article, _, _ = parse_pages(frame)
    con = duckdb.connect()
    schema.create_tables(con)
    loaded = schema.conform(article.with_columns(loaded_by_run=pl.lit("r1")), "article")
    con.register("loaded", loaded)
    con.execute("insert into article by name select * from loaded")
    return con


def test_parse_review_lists_flagged_pages_least_confident_first():
    con = warehouse_of(
        {
            "clean.txt": CLEAN,
            "no_title.txt": NO_TITLE,
            "comments_only.txt": COMMENTS_ONLY,
            "unsplit_only.txt": UNSPLIT_ONLY,
            "cut_off.txt": CUT_OFF,
        }
    )

    rows = con.execute(
        "select source_path, title, layout, n_comments, parse_confidence, parse_flags, "
        "unsplit_chars from parse_review"
    ).fetchall()

    assert rows == [
        (
            "unsplit_only.txt",
            None,
            "unknown",
            0,
            0.0,
            "no_title,no_body,unsplit_text,comment_section_unsplit",
            # Three paragraphs (36, 38 and 29 characters) and the two blank lines between.
            36 + 38 + 29 + 4,
        ),
        ("comments_only.txt", None, "wpdiscuz", 2, 0.72, "no_title,no_body", 0),
        # The last author line (10 of 73 characters) is left unsplit: 63 / 73 * 0.95.
        ("cut_off.txt", "Ferry Fares Rise", "wpdiscuz", 2, 0.82, "unsplit_text,cut_off_author", 10),
        ("no_title.txt", None, "none", 0, 0.9, "no_title", 0),
    ]


def test_parse_review_leaves_out_rows_loaded_before_flags_were_recorded():
    con = warehouse_of({"no_title.txt": NO_TITLE})
    con.execute("update article set parse_flags = null, parse_confidence = null")

    assert con.execute("select count(*) from parse_review").fetchone() == (0,)
