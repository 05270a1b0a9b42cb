"""`newsflow export --parquet`: every table and mart, read back with polars."""

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl

from flows.export import exported

NEWSFLOW = Path(sys.executable).with_name("newsflow")


def test_export_writes_every_table_and_mart_partitioned_by_crawl_month(
    mart_warehouse: Path, tmp_path: Path
):
    folder = tmp_path / "parquet"
    done = subprocess.run(
        [str(NEWSFLOW), "export", "--parquet", str(folder), "--warehouse", str(mart_warehouse)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    with duckdb.connect(str(mart_warehouse), read_only=True) as con:
        expected = {
            name: con.execute(f"select count(*) from {name}").fetchall()[0][0]
            for name in exported()
        }
    read_back = {
        name: pl.scan_parquet(folder / name / "**" / "*.parquet", hive_partitioning=True)
        .select(pl.len())
        .collect()
        .item()
        for name in exported()
    }
    assert read_back == expected
    assert expected["comment"] == 7  # the tables are not empty
    articles = pl.read_parquet(folder / "article" / "**" / "*.parquet", hive_partitioning=True)
    per_month = dict(articles.group_by("month").len().iter_rows())
    assert per_month == {"2026-01": 1, "2026-02": 2, "none": 1}
    comments = pl.read_parquet(folder / "comment" / "month=2026-02" / "*.parquet")
    assert sorted(comments["comment_id"]) == ["c4", "c5", "c6"]
    assert sorted(path.name for path in folder.iterdir()) == sorted(exported())


def test_export_again_replaces_the_files(mart_warehouse: Path, tmp_path: Path):
    from flows.export import export_parquet

    folder = tmp_path / "parquet"
    export_parquet(mart_warehouse, folder)
    written = export_parquet(mart_warehouse, folder)

    story = pl.read_parquet(folder / "story" / "*.parquet")
    assert story.height == written["story"] == 2
    assert pl.read_parquet(folder / "article" / "**" / "*.parquet").height == 4
