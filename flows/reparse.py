"""The `reparse` Prefect flow: rebuild the derived tables from the stored page text."""

from pathlib import Path

import polars as pl
from prefect import flow

from flows import entities, extract, parse, quality
from flows.ingest import (
    RunSummary,
    finish,
    known_entities,
    load_pages,
    new_run_id,
    now,
    prepare_task,
    progress_bar,
    publish_task,
    report_task,
)
from flows.load import WriterLock
from flows.settings import Settings


@flow(name="reparse", log_prints=True)
def reparse(
    warehouse: str | None = None, batch_size: int | None = None, wait: bool = False
) -> RunSummary:
    """Parse every stored page again and replace its article, comments and mentions.

    A page the current parser makes nothing of keeps the rows it has (made by the parser
    version in article.parser_version) and gets a quarantine row saying so.
    """
    defaults = Settings()
    settings = Settings(
        warehouse=Path(warehouse) if warehouse else defaults.warehouse,
        batch_size=batch_size or defaults.batch_size,
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
            with progress_bar() as progress, parse.worker_pool(settings.parse_workers) as pool:
                bar = progress.add_task("pages", total=total)
                for offset in range(0, total, settings.batch_size):
                    with summary.timing("read"):
                        pages = candidate.stored_pages(offset, settings.batch_size)
                    batch_name = f"{summary.run_id}-batch{offset // settings.batch_size + 1:05d}"
                    result = load_pages(
                        candidate, pages, gazetteer, summary, ledger, batch_name, pool
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


def _kept_rows(unparsable: pl.DataFrame | None) -> pl.DataFrame:
    """Quarantine rows for stored pages the current parser made nothing of."""
    if unparsable is None:
        return pl.DataFrame(schema=extract.REJECT_SCHEMA)
    return unparsable.select(
        "source_path",
        reason=pl.lit("unparsable"),
        message=pl.lit(
            f"Parser version {parse.PARSER_VERSION} finds no title, body or comment in the "
            "stored text of this page; the rows an earlier parser made of it are kept."
        ),
        size_bytes=pl.lit(None, dtype=pl.Int64()),
        sha256="sha256",
    )
