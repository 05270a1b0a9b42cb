"""Build the next warehouse version beside the published file, then swap it in atomically."""

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import duckdb
import polars as pl

from flows.schema import conform, create_tables, empty
from flows.sqlfiles import sql

# DuckDB 2.0 would write storage version 69, which the DuckDB 1.5 shell and BI drivers
# cannot open; files created with this version stay readable by both.
STORAGE_VERSION = "v1.5.0"


class WarehouseBusyError(Exception):
    """Another run holds the writer lock."""


class RelationshipError(Exception):
    """The candidate warehouse has rows whose parent row is missing."""


@dataclass(frozen=True)
class RunCounts:
    files_seen: int
    files_loaded: int
    files_unchanged: int
    files_quarantined: int
    files_ignored: int


class WriterLock:
    """One writer per warehouse: an exclusive lock on `<warehouse>.lock`, released on exit,
    even when the process is killed."""

    def __init__(self, warehouse: Path):
        self.path = warehouse.with_name(warehouse.name + ".lock")
        self._handle: IO[str] | None = None

    def __enter__(self) -> "WriterLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise WarehouseBusyError(
                f"another newsflow run is writing {self.path.with_suffix('')}; "
                "wait for it to finish and try again"
            ) from None
        self._handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()


@dataclass(frozen=True)
class Candidate:
    """The next version of the warehouse: a copy of the published file that the run writes.

    Readers never see it until `publish` renames it over the published file in one step; a
    run that fails or is killed leaves the published file exactly as it was. Each step opens
    its own short connection, so the candidate is plain data that tasks can be handed.
    """

    published: Path
    path: Path

    @classmethod
    def prepare(cls, published: Path, run_id: str) -> "Candidate":
        """Start the next version from the published one (or from nothing)."""
        candidate = cls(published, published.with_name(f".{published.name}.{run_id}.building"))
        published.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(published)
        if published.exists():
            shutil.copyfile(published, candidate.path)
        with candidate._connect() as con:
            create_tables(con)
        return candidate

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect()
        try:
            quoted = str(self.path).replace("'", "''")
            con.execute(f"attach '{quoted}' as warehouse (storage_version '{STORAGE_VERSION}')")
            con.execute("use warehouse")
            yield con
        finally:
            con.close()

    def known_pages(self) -> pl.DataFrame:
        """source_path, sha256 and parser_version of every page already loaded."""
        with self._connect() as con:
            return con.sql(sql("load/known_page")).pl()

    def write_batch(
        self,
        run_id: str,
        pages: pl.DataFrame,
        article: pl.DataFrame,
        comment: pl.DataFrame,
        mention: pl.DataFrame,
        candidate: pl.DataFrame | None = None,
    ) -> None:
        """Replace the rows of the batch's pages with their new rows, in one transaction."""
        staged = {
            "page": conform(pages, "page"),
            "article": conform(article.with_columns(loaded_by_run=pl.lit(run_id)), "article"),
            "comment": conform(comment, "comment"),
            "entity_mention": conform(mention, "entity_mention"),
            "candidate_mention": empty("candidate_mention") if candidate is None else candidate,
        }
        self._transaction(staged, [sql("load/delete_replaced_rows"), *_inserts(*staged)])

    def write_run(
        self,
        run_id: str,
        entity: pl.DataFrame,
        source_files: pl.DataFrame,
        quarantine: pl.DataFrame,
    ) -> None:
        """Record the entities (the gazetteer's and those discovered), the file manifest and the
        quarantined files."""
        staged = {
            "entity": conform(entity, "entity"),
            "source_file": conform(source_files, "source_file"),
            "quarantine": conform(quarantine.with_columns(run_id=pl.lit(run_id)), "quarantine"),
        }
        statements = [
            sql("load/entity"),
            *_inserts("entity", "quarantine"),
            sql("load/source_file"),
        ]
        self._transaction(staged, statements)

    def _transaction(self, staged: dict[str, pl.DataFrame], statements: list[str]) -> None:
        """Run `statements` in one transaction, each frame visible as `staged_<table>`."""
        with self._connect() as con:
            con.execute("begin")
            try:
                for table, frame in staged.items():
                    con.register(f"staged_{table}", frame)
                for statement in statements:
                    con.execute(statement)
                con.execute("commit")
            except Exception:
                con.execute("rollback")
                raise

    def check_relationships(self) -> None:
        """Fail when any row's parent is missing, naming the relationship."""
        with self._connect() as con:
            counts = con.execute(sql("checks/relationships")).fetchall()
        broken = [f"{relationship}: {count} rows" for relationship, count in counts if count]
        if broken:
            raise RelationshipError("rows without their parent row: " + "; ".join(broken))

    def publish(
        self,
        run_id: str,
        started_at: datetime,
        finished_at: datetime,
        counts: RunCounts,
        dq_result: str,
        version: str,
    ) -> dict[str, int]:
        """Record the run, then swap the candidate in for the published file."""
        with self._connect() as con:
            con.execute(
                sql("load/ingest_run"),
                [
                    run_id,
                    started_at,
                    finished_at,
                    counts.files_seen,
                    counts.files_loaded,
                    counts.files_unchanged,
                    counts.files_quarantined,
                    counts.files_ignored,
                    dq_result,
                    version,
                ],
            )
            totals = con.execute(
                "select articles, comments, entities, mentions from ingest_run where run_id = ?",
                [run_id],
            ).fetchone()
            con.execute("checkpoint")
        _durable_replace(self.path, self.published)
        assert totals is not None
        return dict(zip(("articles", "comments", "entities", "mentions"), totals, strict=True))

    def discard(self) -> None:
        """Drop the candidate; the published file is untouched."""
        self.path.unlink(missing_ok=True)


def _inserts(*tables: str) -> list[str]:
    # Table names come from this module, never from input.
    return [f"insert into {table} by name select * from staged_{table}" for table in tables]


def _remove_leftovers(published: Path) -> None:
    """Delete candidates of earlier runs that died before publishing (the writer lock is
    held, so no other run is building one)."""
    for leftover in published.parent.glob(f".{published.name}.*.building*"):
        leftover.unlink(missing_ok=True)


def _durable_replace(source: Path, target: Path) -> None:
    """Rename `source` over `target` so that a crash leaves one or the other, whole."""
    with source.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
