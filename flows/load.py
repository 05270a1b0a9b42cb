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

from flows.schema import conform, empty
from flows.sqlfiles import sql
from flows.upgrade import upgrade

# DuckDB 2.0 would write storage version 69, which the DuckDB 1.5 shell and BI drivers
# cannot open; files created with this version stay readable by both.
STORAGE_VERSION = "v1.5.0"


class WarehouseBusyError(Exception):
    """Another run holds the writer lock."""


class WarehouseOpenForWritingError(Exception):
    """Something other than newsflow has written to the published file."""


@dataclass(frozen=True)
class RunCounts:
    files_seen: int
    files_loaded: int
    files_unchanged: int
    files_quarantined: int
    files_ignored: int
    kind: str = "ingest"


class WriterLock:
    """One writer per warehouse: an exclusive lock on `<warehouse>.lock`, released on exit,
    even when the process is killed."""

    def __init__(self, warehouse: Path, wait: bool = False):
        self.path = warehouse.with_name(warehouse.name + ".lock")
        self.wait = wait
        self._handle: IO[str] | None = None

    def __enter__(self) -> "WriterLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise WarehouseBusyError(
                f"another newsflow run is writing {self.path.with_suffix('')}; "
                "wait for it to finish and try again (or pass --wait)"
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
        """Start the next version from the published one (or from nothing), upgraded to the
        current schema.

        Hold the writer lock: leftovers of dead runs are deleted here. The published file is
        only ever read (copied), never opened by DuckDB, so readers holding it are not
        disturbed and it cannot be changed by anything this run does.
        """
        candidate = cls(published, published.with_name(f".{published.name}.{run_id}.building"))
        published.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(published)
        wal = published.with_name(published.name + ".wal")
        if wal.exists():
            # Committed changes that only the write-ahead log holds: a copy of the file alone
            # would publish without them, and they would be lost.
            raise WarehouseOpenForWritingError(
                f"{wal} exists: a program has {published.name} open read-write, or died while "
                "writing it. Close that program (open the file read-only); if none is "
                f"running, open the file once in the DuckDB shell (`duckdb {published}`, then "
                "`checkpoint;`) and run again."
            )
        if published.exists():
            shutil.copyfile(published, candidate.path)
        try:
            with candidate._connect() as con:
                upgrade(con)
        except BaseException:
            candidate.discard()
            raise
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

    def known_files(self) -> pl.DataFrame:
        """Every file of the manifest (size, modification time, sha256) with the sha256 and
        parser version of the page it loaded, if any."""
        with self._connect() as con:
            return con.sql(sql("load/known_file")).pl()

    def stored_pages(self, offset: int, limit: int) -> pl.DataFrame:
        """A slice of the raw pages (source_path, sha256, text), in key order."""
        with self._connect() as con:
            return con.sql(sql("load/stored_page"), params=[limit, offset]).pl()

    def count_stored_pages(self) -> int:
        with self._connect() as con:
            row = con.execute("select count(*) from page").fetchone()
        return row[0] if row else 0

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
        statements = _inserts(*staged)
        if self._replaces_rows(staged["page"]):
            # The deletes scan whole tables (millions of mentions in a large warehouse): a
            # first load, all pages new, would pay that for every batch.
            statements.insert(0, sql("load/delete_replaced_rows"))
        self._transaction(staged, statements)

    def _replaces_rows(self, pages: pl.DataFrame) -> bool:
        """Whether any of `pages` has rows in the warehouse already."""
        with self._connect() as con:
            con.register("staged_page", pages.select("article_id"))
            row = con.execute(sql("load/replaced_articles")).fetchone()
        return bool(row and row[0])

    def write_run(
        self,
        run_id: str,
        entity: pl.DataFrame,
        source_files: pl.DataFrame | None,
        quarantine: pl.DataFrame,
    ) -> None:
        """Record the entities (the gazetteer's and those discovered), the file manifest and the
        quarantined files.

        `source_files` holds every file the run saw (first_seen_run is kept for files seen
        before); manifest files it did not see are marked missing, their rows kept. A reparse
        run passes None: it reads no folder and leaves the manifest as it was.
        """
        staged = {
            "entity": conform(entity, "entity"),
            "quarantine": conform(quarantine.with_columns(run_id=pl.lit(run_id)), "quarantine"),
        }
        statements = [sql("load/entity"), *_inserts("entity", "quarantine")]
        if source_files is not None:
            staged["source_file"] = conform(source_files, "source_file")
            statements += [sql("load/source_file"), sql("load/source_file_missing")]
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

    def run_checks(self) -> pl.DataFrame:
        """The rules on the whole candidate (sql/checks/warehouse.sql), one row per rule with
        its unexpected_count and example keys; the quality gate judges them."""
        with self._connect() as con:
            return con.sql(sql("checks/warehouse")).pl()

    def write_dq_results(self, dq_result: pl.DataFrame) -> None:
        """Record the run's data-quality results."""
        self._transaction({"dq_result": conform(dq_result, "dq_result")}, _inserts("dq_result"))

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
        totals = self.seal(run_id, started_at, finished_at, counts, dq_result, version)
        self.swap()
        return totals

    def seal(
        self,
        run_id: str,
        started_at: datetime,
        finished_at: datetime,
        counts: RunCounts,
        dq_result: str,
        version: str,
    ) -> dict[str, int]:
        """Record the run and write everything into the candidate file itself (no write-ahead
        log left beside it), so that renaming the file moves all of it."""
        with self._connect() as con:
            con.execute(
                sql("load/ingest_run"),
                [
                    run_id,
                    counts.kind,
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
                "select articles, comments, entities, mentions, files_missing from ingest_run "
                "where run_id = ?",
                [run_id],
            ).fetchone()
            con.execute("checkpoint")
        wal = self.path.with_name(self.path.name + ".wal")
        if wal.exists():
            raise RuntimeError(f"{wal} remains after a checkpoint; not publishing")
        assert totals is not None
        names = ("articles", "comments", "entities", "mentions", "files_missing")
        return dict(zip(names, totals, strict=True))

    def swap(self) -> None:
        """Make the sealed candidate the published file, in one atomic rename."""
        _durable_replace(self.path, self.published)

    def discard(self) -> None:
        """Drop the candidate; the published file is untouched."""
        self.path.unlink(missing_ok=True)
        self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)


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
