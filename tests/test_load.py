"""Publishing: one writer at a time, failed runs leave the published file as it was."""

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows import schema
from flows.load import Candidate, RunCounts, Writer
from flows.warehouse import WarehouseBusyError, WarehouseOpenForWritingError, WriterLock

COUNTS = RunCounts(
    files_seen=1, files_loaded=1, files_unchanged=0, files_quarantined=0, files_ignored=0
)
WHEN = datetime(2026, 11, 22, 12, 0)


def one_page() -> dict[str, pl.DataFrame]:
    return {
        "pages": pl.DataFrame(
            {
                "article_id": ["a1"],
                "source": ["crawl"],
                "source_path": ["one.txt"],
                "sha256": ["x"],
                "raw_text": ["Title\n\nBody."],
            }
        ),
        "article": pl.DataFrame(
            {
                "article_id": ["a1"],
                "source": ["crawl"],
                "source_path": ["one.txt"],
                "title": ["Title"],
                "body": ["Body."],
                "crawl_month": [None],
                "layout": ["none"],
                "n_comments": [0],
                "sha256": ["x"],
                "parser_version": ["1"],
                "unsplit_text": [None],
                "parse_flags": [None],
                "parse_confidence": [1.0],
            }
        ),
        "comment": schema.empty("comment"),
        "mention": schema.empty("entity_mention"),
    }


def publish_one(warehouse: Path, run_id: str) -> None:
    candidate = Candidate.prepare(warehouse, run_id)
    candidate.writer.write_batch(run_id, **one_page())
    candidate.writer.write_run(
        run_id,
        schema.empty("entity"),
        schema.empty("source_file"),
        schema.empty("quarantine").drop("run_id"),
    )
    candidate.publish(run_id, WHEN, WHEN, COUNTS, "passed", "test")


def test_publish_swaps_in_a_complete_warehouse(warehouse: Path):
    publish_one(warehouse, "r1")
    publish_one(warehouse, "r2")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from article").fetchone() == (1,)
        assert con.execute("select run_id from ingest_run order by 1").fetchall() == [
            ("r1",),
            ("r2",),
        ]
    assert [p.name for p in warehouse.parent.iterdir()] == ["news.duckdb"]


def test_a_discarded_candidate_leaves_the_published_file_untouched(warehouse: Path):
    publish_one(warehouse, "r1")
    before = warehouse.read_bytes()

    candidate = Candidate.prepare(warehouse, "r2")
    candidate.writer.write_batch("r2", **one_page())
    candidate.discard()

    assert warehouse.read_bytes() == before
    assert not candidate.path.exists()


def test_leftovers_of_a_dead_run_are_removed_by_the_next(warehouse: Path):
    publish_one(warehouse, "r1")
    leftover = warehouse.with_name(".news.duckdb.r0.building")
    leftover.write_bytes(b"half-written")

    publish_one(warehouse, "r2")

    assert not leftover.exists()


def test_the_warehouse_checks_find_orphan_rows_with_examples(warehouse: Path):
    candidate = Candidate.prepare(warehouse, "r1")
    page = one_page()
    orphan = pl.DataFrame(
        {
            "comment_id": ["c1"],
            "article_id": ["a1"],
            "position": [1],
            "author": [None],
            "depth": [0],
            "parent_comment_id": [None],
            "body": ["Hi."],
            "dq_flags": [None],
        }
    )
    candidate.writer.write_batch("r1", **{**page, "comment": orphan})
    # The run's writer holds the file: close it to break the file from outside, as a bug would.
    candidate.writer.close()
    with duckdb.connect(str(candidate.path)) as con:
        con.execute("delete from article")

    writer = Writer.open(candidate.path)
    checks = writer.run_checks()
    writer.close()
    candidate.discard()

    broken = checks.filter(pl.col("unexpected_count") > 0).select(
        "expectation", "column_name", "unexpected_count", "examples"
    )
    assert broken.to_dicts() == [
        {
            "expectation": "relationship",
            "column_name": "comment.article_id",
            "unexpected_count": 1,
            "examples": ["c1"],
        }
    ]
    assert not warehouse.exists()


def test_a_second_writer_is_turned_away_with_a_clear_message(warehouse: Path):
    with (
        WriterLock(warehouse),
        pytest.raises(WarehouseBusyError, match="another newsflow run"),
        WriterLock(warehouse),
    ):
        pass
    with WriterLock(warehouse):  # released: the next run gets it
        pass


def test_a_write_ahead_log_beside_the_published_file_stops_the_run(warehouse: Path):
    # A program that writes into the published file leaves its changes in news.duckdb.wal
    # until it checkpoints: copying the file alone would drop them.
    publish_one(warehouse, "r1")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("pragma disable_checkpoint_on_shutdown")
        con.execute(
            "insert into quarantine values ('x', 'y.txt', 'empty', 'hand-made', 0, null, 'crawl')"
        )
    assert warehouse.with_name("news.duckdb.wal").exists()
    published = warehouse.read_bytes()

    with pytest.raises(WarehouseOpenForWritingError, match=r"news\.duckdb\.wal exists"):
        Candidate.prepare(warehouse, "r2")

    assert warehouse.read_bytes() == published
    assert list(warehouse.parent.glob(".*.building*")) == []


def test_the_writer_s_memory_is_bounded_whatever_the_crawl(tmp_path: Path):
    # DuckDB's default limit (80 % of the machine's memory) let its buffer pool keep every
    # block a run wrote: the run's memory grew with the crawl.
    writer = Writer.open(tmp_path / "news.duckdb")
    limit = writer._con.execute("select current_setting('memory_limit')").fetchone()
    writer.close()

    assert limit == ("244.1 MiB",)
