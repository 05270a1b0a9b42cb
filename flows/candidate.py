"""A run's next warehouse version: the file beside the published one, and the writer open on it
until the swap."""

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from flows.load import RunCounts, Writer
from flows.sqlfiles import sql
from flows.upgrade import ForeignWarehouseError
from flows.warehouse import NextVersion


@dataclass(frozen=True)
class Candidate:
    """A run's next warehouse version: the file, and the writer open on it until publish."""

    file: NextVersion
    writer: Writer

    @property
    def path(self) -> Path:
        return self.file.path

    @classmethod
    def prepare(cls, published: Path, run_id: str) -> "Candidate":
        """Copy the published file (hold the writer lock) and open it, upgraded to the
        current schema."""
        file = NextVersion.prepare(published, run_id)
        try:
            try:
                return cls(file, Writer.open(file.path))
            except duckdb.InvalidInputException as error:
                if "storage version" not in str(error) or not _holds_nothing(file.path):
                    raise ForeignWarehouseError(
                        f"is not in the DuckDB 1.5 storage format newsflow writes, and holds "
                        f"tables ({str(error).splitlines()[0]}); newsflow leaves it untouched. "
                        "Give --warehouse a new file name or the path of a newsflow warehouse"
                    ) from None
                # An empty database a newer DuckDB created: nothing to keep, start afresh.
                file.discard()
                return cls(file, Writer.open(file.path))
        except ForeignWarehouseError as error:
            file.discard()
            raise ForeignWarehouseError(f"{published} {error}") from None
        except BaseException:
            file.discard()
            raise

    def seal(
        self,
        run_id: str,
        started_at: datetime,
        finished_at: datetime,
        counts: RunCounts,
        dq_result: str,
        version: str,
    ) -> dict[str, int]:
        """Record the run, close the writer and check the file holds everything; return the
        totals. Only `publish` (the swap) is left."""
        totals = self.writer.record_run(run_id, started_at, finished_at, counts, dq_result, version)
        self.writer.close()
        self.file.seal()
        return totals

    def publish(
        self,
        run_id: str,
        started_at: datetime,
        finished_at: datetime,
        counts: RunCounts,
        dq_result: str,
        version: str,
    ) -> dict[str, int]:
        """Seal the next version and swap it in for the published file."""
        totals = self.seal(run_id, started_at, finished_at, counts, dq_result, version)
        self.file.swap()
        return totals

    def discard(self) -> None:
        """Drop the next version; the published file is untouched."""
        # The file is deleted next: a writer that cannot close cleanly changes nothing.
        with contextlib.suppress(duckdb.Error):
            self.writer.close()
        self.file.discard()


def _holds_nothing(path: Path) -> bool:
    """Whether the DuckDB file at `path` holds no table or view of its own."""
    with duckdb.connect(str(path), read_only=True) as con:
        ((count,),) = con.execute(sql("checks/object_count")).fetchall()
    return count == 0
