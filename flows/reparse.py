"""The `reparse` Prefect flow: rebuild the derived tables from the stored page text."""

from collections.abc import Iterator
from pathlib import Path

import polars as pl
from prefect import flow

from flows import entities, extract, parse, quality
from flows.ingest import (
    BatchStages,
    PendingBatch,
    RunSummary,
    batch_name,
    batch_stages,
    finish,
    known_entities,
    load_pages,
    new_run_id,
    now,
    prepare_task,
    progress_bar,
    publish_task,
    report_task,
    started_ahead,
)
from flows.load import Candidate, WriterLock
from flows.settings import Settings


@flow(name="reparse", log_prints=True)
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
    defaults = Settings()
    settings = Settings(
        warehouse=Path(warehouse) if warehouse else defaults.warehouse,
        batch_size=batch_size or defaults.batch_size,
        task_runner=task_runner or defaults.task_runner,
        dask_address=dask_address or defaults.dask_address,
    )
    if not settings.warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {settings.warehouse}; run `newsflow run` first")
    started_at = now()
    summary = RunSummary(
        run_id=new_run_id(started_at), warehouse=settings.warehouse, kind="reparse"
    )

    with WriterLock(settings.warehouse, wait=wait):
        gazetteer = entities.load_gazetteer()
        with summary.timing("copy warehouse"):
            candidate = prepare_task(settings.warehouse, summary.run_id)
        ledger = quality.RunLedger(summary.run_id)
        try:
            total = candidate.count_stored_pages()
            rejected: list[pl.DataFrame] = [_kept_rows(None)]
            discovered: list[pl.DataFrame] = []
            with (
                progress_bar() as progress,
                batch_stages(settings, gazetteer, total) as stages,
            ):
                bar = progress.add_task("pages", total=total)
                stored = _stored_batches(candidate, total, settings, summary, stages)
                for batch_name, pages, pending in started_ahead(stored, stages.ahead):
                    result = load_pages(
                        candidate, pages, pending, gazetteer, summary, ledger, batch_name
                    )
                    summary.pages_reparsed += result.loaded
                    discovered.append(result.discovered)
                    rejected.extend([_kept_rows(result.unparsable), result.failed])
                    progress.update(bar, advance=pages.height)
            quarantine = pl.concat(rejected)
            summary.files_quarantined = quarantine.height
            summary.quarantine_reasons = dict(quarantine.group_by("reason").len().iter_rows())
            entity = known_entities(gazetteer, discovered)
            with summary.timing("publish"):
                totals = publish_task(
                    candidate, summary, started_at, entity, None, quarantine, ledger
                )
        except quality.DataQualityError as error:
            candidate.discard()
            error.data_docs = report_task(summary, ledger, settings.data_docs)
            raise
        except BaseException:
            candidate.discard()
            raise
    finish(summary, totals, started_at)
    with summary.timing("report"):
        summary.data_docs = report_task(summary, ledger, settings.data_docs)
    return summary


def _stored_batches(
    candidate: Candidate,
    total: int,
    settings: Settings,
    summary: RunSummary,
    stages: BatchStages,
) -> Iterator[tuple[str, pl.DataFrame, PendingBatch]]:
    # Reading a batch ahead of loading the one before is safe: a load rewrites the page rows
    # of its own batch only, with the same keys, so the key-ordered slices do not move.
    for offset in range(0, total, settings.batch_size):
        with summary.timing("read"):
            pages = candidate.stored_pages(offset, settings.batch_size)
        name = batch_name(summary.run_id, offset, settings.batch_size)
        yield name, pages, stages.start(pages)


def _kept_rows(unparsable: pl.DataFrame | None) -> pl.DataFrame:
    """Quarantine rows for stored pages the current parser made nothing of."""
    if unparsable is None:
        return pl.DataFrame(schema=extract.REJECT_SCHEMA)
    return unparsable.select(
        "source_path",
        reason=pl.lit("no_text"),
        message=pl.lit(
            f"Parser version {parse.PARSER_VERSION} finds no article or comment text in the "
            "stored page, only a header or site chrome; the rows an earlier parser made of it "
            "are kept."
        ),
        size_bytes=pl.lit(None, dtype=pl.Int64()),
        sha256="sha256",
    )
