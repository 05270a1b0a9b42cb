"""Table declarations, read from the DDL in sql/schema so that columns are declared once."""

from functools import cache

import duckdb
import polars as pl

from flows.sqlfiles import sql

# Creation order: every table a later one refers to comes first.
TABLES = (
    "article",
    "comment",
    "entity",
    "entity_mention",
    "candidate_mention",
    "page",
    "source_file",
    "quarantine",
    "ingest_run",
    "dq_result",
    "schema_version",
    "article_story",
    "story_band",
    "article_entity",
    "article_entity_pair",
)

_POLARS_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "INTEGER": pl.Int32(),
    "BIGINT": pl.Int64(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
    "BOOLEAN": pl.Boolean(),
    "DOUBLE": pl.Float64(),
    "BLOB": pl.Binary(),
}


# Views over the tables, created (or replaced) after them.
MARTS = (
    "entity_candidate",
    "parse_review",
    "article_overview",
    "commenter",
    "entity_monthly",
    "entity_comention",
    "mentioned_entity",
    "story",
    "repeated_comment",
    "run_health",
)


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every warehouse table (and its descriptions) that does not exist yet, then the
    views over them."""
    for table in TABLES:
        con.execute(sql(f"schema/{table}"))
    for mart in MARTS:
        con.execute(sql(f"marts/{mart}"))


@cache
def _column_types() -> dict[str, list[tuple[str, str]]]:
    """(column, DuckDB type) of every table, in DDL order, read from the DDL itself."""
    con = duckdb.connect()
    create_tables(con)
    rows = con.execute(
        """
        select table_name, column_name, data_type
        from duckdb_columns()
        where not internal
        order by table_name, column_index
        """
    ).fetchall()
    con.close()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append((column, data_type))
    return columns


def polars_schema(table: str) -> pl.Schema:
    """Column names and polars dtypes of `table`, in DDL order."""
    return pl.Schema({name: _POLARS_TYPES[kind] for name, kind in _column_types()[table]})


def conform(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Select and cast `frame` to exactly the columns of `table`."""
    schema = polars_schema(table)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def empty(table: str) -> pl.DataFrame:
    """A frame with no rows and the columns of `table`."""
    return pl.DataFrame(schema=polars_schema(table))
