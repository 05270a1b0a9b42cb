"""The `reparse` Prefect flow: rebuild the derived tables from the stored page text."""

from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl
from prefect import flow

from flows import extract, parse
from flows.batches import LoadedBatch, batch_name
from flows.ingest import PARSE_TIMEOUT_MESSAGE
from flows.load import Writer
from flows.run import SourceBatch, flow_run_name, run_pages
from flows.settings import Settings, resolve
from flows.summary import RunSummary


@flow(name="reparse", flow_run_name=flow_run_name, log_prints=True)
def reparse(
    warehouse: str | None = None,
    batch_size: int | None = None,
    wait: bool = False,
    task_runner: str | None = None,
    dask_address: str | None = None,
) -> RunSummary:
    """Parse every stored page again and replace its article, comments and mentions.

    A page the current parser makes nothing of keeps the rows it has (made by the parser
    version in article.parser_version) and gets a quarantine row saying so. `task_runner`
    and `dask_address` as for `ingest`.
    """
    settings = resolve(
        warehouse=warehouse,
        batch_size=batch_size,
        task_runner=task_runner,
        dask_address=dask_address,
    )
    settings.require_warehouse()
    return run_pages(StoredSource(settings), settings, wait)


@dataclass
class StoredSource:
    """The pages stored in the warehouse; the file manifest stays as it was."""

    settings: Settings
    kind: str = "reparse"
    total: int = 0
    rejected: list[pl.DataFrame] = field(default_factory=list)

    def discover(self, summary: RunSummary) -> None:
        """Nothing to look for: the pages are in the warehouse."""

    def count(self, writer: Writer, summary: RunSummary) -> int:
        self.total = writer.count_stored_pages()
        return self.total

    def batches(self, writer: Writer, summary: RunSummary) -> Iterator[SourceBatch]:
        # Reading a batch ahead of loading the one before is safe: a load rewrites the page
        # rows of its own batch only, with the same keys, so the key-ordered slices do not move.
        size = self.settings.batch_size
        for offset in range(0, self.total, size):
            with summary.timing("read"):
                pages = writer.stored_pages(offset, size)
            yield SourceBatch(batch_name(summary.run_id, offset, size), pages.height, pages)

    def record(self, batch: SourceBatch, result: LoadedBatch, summary: RunSummary) -> None:
        summary.pages_reparsed += result.loaded
        self.rejected.extend([_kept_rows(result.unparsable), result.failed])

    def finish(self, summary: RunSummary) -> tuple[None, pl.DataFrame]:
        return None, pl.concat([pl.DataFrame(schema=extract.REJECT_SCHEMA), *self.rejected])


def _kept_rows(unparsable: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows for stored pages the current parser made nothing of."""
    return unparsable.select(
        "source_path",
        "reason",
        message=pl.when(pl.col("reason") == "parse_timeout")
        .then(pl.lit(PARSE_TIMEOUT_MESSAGE))
        .otherwise(
            pl.lit(
                f"Parser version {parse.PARSER_VERSION} finds no article or comment text in the "
                "stored page, only a header or site chrome; the rows an earlier parser made of "
                "it are kept."
            )
        ),
        size_bytes=pl.lit(None, dtype=pl.Int64()),
        sha256="sha256",
        source="source",
    )
