"""The DDL in sql/schema is the one declaration of every table, described for BI users."""

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
