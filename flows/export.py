"""`newsflow export`: the warehouse's tables and marts as Parquet, partitioned by crawl month."""

import shutil
from pathlib import Path

import duckdb

from flows import schema
from flows.sqlfiles import sql

# The LSH index of the stories and the per-article pairs behind entity_comention (as many rows
# as the mentions; the mart itself is exported) are the warehouse's own bookkeeping.
NOT_EXPORTED = ("story_band", "article_entity_pair")


def exported() -> list[str]:
    """The tables and views to export, in schema order."""
    return [name for name in (*schema.TABLES, *schema.MARTS) if name not in NOT_EXPORTED]


def _has_article(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    columns = con.execute(
        "select 1 from duckdb_columns() where table_name = ? and column_name = 'article_id'",
        [name],
    ).fetchall()
    return bool(columns)


def export_parquet(warehouse: Path, folder: Path) -> dict[str, int]:
    """Write every table and mart of `warehouse` under `folder/<name>/`: those with an
    article_id split into `month=YYYY-MM` folders (hive style) by their article's crawl month,
    the others as one file. Return the rows written per name."""
    written = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name in exported():
            target = folder / name
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            quoted = str(target).replace("'", "''")
            # Names come from the schema declaration, never from input.
            (count,) = con.execute(f"select count(*) from {name}").fetchall()[0]
            # An empty table still gets a file, so that readers see its columns.
            if count and _has_article(con, name):
                query = sql("export/partitioned").replace("{name}", name)
                options = "format parquet, partition_by (month)"
                con.execute(f"copy ({query}) to '{quoted}' ({options})")
            else:
                con.execute(f"copy {name} to '{quoted}/data.parquet' (format parquet)")
            written[name] = count
    return written
