"""The DDL in sql/schema is the one declaration of every table, described for BI users."""

from pathlib import Path

import duckdb
import polars as pl

from flows import schema


def test_every_table_and_column_has_a_description():
    con = duckdb.connect()
    schema.create_tables(con)
    tables = con.execute(
        "select table_name from duckdb_tables() where comment is null or comment = ''"
    ).fetchall()
    columns = con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where not internal and (comment is null or comment = '')"
    ).fetchall()
    assert (tables, columns) == ([], [])


def test_polars_schema_follows_the_ddl():
    assert schema.polars_schema("comment") == pl.Schema(
        {
            "comment_id": pl.String(),
            "article_id": pl.String(),
            "position": pl.Int32(),
            "author": pl.String(),
            "depth": pl.Int32(),
            "parent_comment_id": pl.String(),
            "body": pl.String(),
            "dq_flags": pl.String(),
            "normalised_text": pl.String(),
            "entities_named": pl.Int32(),
        }
    )


def test_conform_orders_and_casts_columns():
    frame = pl.DataFrame(
        {
            "extra": [1],
            "name": ["Aleppo"],
            "entity_id": ["aleppo"],
            "type": ["LOC"],
            "wikidata_id": [None],
            "source": ["gazetteer"],
        }
    )

    conformed = schema.conform(frame, "entity")

    assert conformed.columns == ["entity_id", "name", "type", "wikidata_id", "source"]
    assert conformed.schema["wikidata_id"] == pl.String()


def test_every_review_flag_is_named_in_the_description_of_parse_flags():
    from flows.parse import REVIEW_FLAGS

    con = duckdb.connect()
    schema.create_tables(con)
    (description,) = con.execute(
        "select comment from duckdb_columns() "
        "where table_name = 'article' and column_name = 'parse_flags'"
    ).fetchone() or ("",)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")

    assert [flag for flag in REVIEW_FLAGS if flag not in description] == []
    assert [flag for flag in REVIEW_FLAGS if f"| `{flag}` |" not in readme] == []
