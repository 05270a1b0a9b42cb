"""`newsflow prune`: remove the pages whose files are gone, or list them first (dry run)."""

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from flows.build import newsflow_version
from flows.candidate import Candidate
from flows.load import RunCounts
from flows.run import new_run_id
from flows.sqlfiles import sql
from flows.warehouse import WriterLock, storage_error


class PruneCheckError(Exception):
    """The warehouse would lose a parent row that other rows still need: nothing is removed."""


@dataclass(frozen=True)
class Pruned:
    """The pages whose files are gone (source, source_path, article_id, title,
    last_seen_run), and the run that removed them (None for a dry run)."""

    pages: pl.DataFrame
    run_id: str | None = None


def missing_pages(warehouse: Path, sources: tuple[str, ...] = ()) -> Pruned:
    """The pages of `sources` (all when empty) whose files the latest run did not find."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return Pruned(con.sql(sql("load/missing_page"), params=[list(sources)] * 2).pl())


def prune(warehouse: Path, sources: tuple[str, ...] = (), wait: bool = False) -> Pruned:
    """Remove every row of the pages whose files are gone, and publish the result as one run
    (kind prune) the way ingest runs publish: all or nothing."""
    try:
        with WriterLock(warehouse, wait=wait):
            return _prune(warehouse, sources)
    except Exception as error:
        refused = storage_error(error, warehouse)
        if refused is None:
            raise
        raise refused from error


def _prune(warehouse: Path, sources: tuple[str, ...]) -> Pruned:
    from flows.tasks import now

    started_at = now()
    run_id = new_run_id(started_at)
    candidate = Candidate.prepare(warehouse, run_id)
    try:
        gone = candidate.writer.missing_pages(sources)
        candidate.writer.prune(gone)
        broken = candidate.writer.run_checks().filter(pl.col("unexpected_count") > 0)
        if not broken.is_empty():
            raise PruneCheckError(
                f"removing the pages would break {broken.height} warehouse checks; nothing "
                "was removed"
            )
        counts = RunCounts(0, 0, 0, 0, 0, kind="prune")
        candidate.publish(run_id, started_at, now(), counts, "passed", newsflow_version())
    except BaseException:
        candidate.discard()
        raise
    return Pruned(gone, run_id)
