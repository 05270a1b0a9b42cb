"""The core of every run: lock, prepare, batches, ledger, publish, report; discard on failure.

`ingest` and `reparse` differ only in their `PageSource`: where the pages come from, and the
files and quarantine rows they account for.
"""

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

import polars as pl
from prefect.runtime import flow_run as prefect_flow_run
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flows import entities, quality
from flows.batches import LoadedBatch, batch_stages, known_entities, load_pages, started_ahead
from flows.candidate import Candidate
from flows.load import Writer
from flows.settings import Settings
from flows.summary import RunSummary
from flows.tasks import now, prepare_task, publish_task, report_task, stories_task
from flows.warehouse import WriterLock, storage_error


@dataclass
class SourceBatch:
    """A batch as a page source reads it: `pages` (source_path, sha256, text) are parsed and
    loaded; `size` is how far it moves the progress bar."""

    name: str
    size: int
    pages: pl.DataFrame


B = TypeVar("B", bound=SourceBatch)


class PageSource(Protocol[B]):
    """Where a run's pages come from, and what it records about them beyond their rows."""

    kind: str

    def discover(self, summary: RunSummary) -> None:
        """Look for pages before the next version is prepared (the writer lock is held)."""

    def count(self, writer: Writer, summary: RunSummary) -> int:
        """How many pages the run will read: the progress bar's total."""
        ...

    def batches(self, writer: Writer, summary: RunSummary) -> Iterator[B]: ...

    def record(self, batch: B, result: LoadedBatch, summary: RunSummary) -> None:
        """Account for what became of a batch that was loaded."""

    def finish(self, summary: RunSummary) -> tuple[pl.DataFrame | None, pl.DataFrame]:
        """The file manifest (None: leave it as it was) and the quarantine rows of the run."""
        ...


def run_pages(source: PageSource[B], settings: Settings, wait: bool) -> RunSummary:
    """Build the next warehouse version from `source`'s pages and publish it; on any failure
    discard it, leaving the published file as it was. With `wait`, wait for a run already
    writing the warehouse instead of failing."""
    try:
        return _run(source, settings, wait)
    except Exception as error:
        refused = storage_error(error, settings.warehouse)
        if refused is None:
            raise
        raise refused from error


def _run(source: PageSource[B], settings: Settings, wait: bool) -> RunSummary:
    started_at = now()
    summary = RunSummary(run_id=_run_id(started_at), warehouse=settings.warehouse, kind=source.kind)
    with WriterLock(settings.warehouse, wait=wait):
        source.discover(summary)
        gazetteer = entities.load_gazetteer()
        with summary.timing("copy warehouse"):
            candidate = prepare_task(settings.warehouse, summary.run_id)
        ledger = quality.RunLedger(summary.run_id)
        try:
            totals = _build(source, candidate, settings, gazetteer, summary, ledger, started_at)
        except quality.DataQualityError as error:
            candidate.discard()
            _stopped(summary, ledger, started_at)
            error.data_docs = report_task(summary, ledger, settings.data_docs)
            raise
        except BaseException:
            candidate.discard()
            raise
    summary.add_totals(totals)
    summary.seconds = (now() - started_at).total_seconds()
    with summary.timing("report"):
        report_task(summary, ledger, settings.data_docs)
    return summary


def _build(
    source: PageSource[B],
    candidate: Candidate,
    settings: Settings,
    gazetteer: entities.Gazetteer,
    summary: RunSummary,
    ledger: quality.RunLedger,
    started_at: datetime,
) -> dict[str, int]:
    """Load every batch of `source` into `candidate`, then publish it; return the totals."""
    discovered: list[pl.DataFrame] = []
    total = source.count(candidate.writer, summary)
    # Great Expectations is needed only for the Data Docs: it is imported (seconds, 160 MB)
    # and validates again beside the run. A run of one batch, which holds little memory, has
    # it in a process of its own from the start, on the other core: in this process it would
    # slow the stories and the publish, seconds of a short run. A longer run has it in a
    # thread after the batches (not while they run), where it reuses the memory they freed.
    one_batch = 0 < total <= settings.batch_size
    if one_batch:
        quality.warm_up(own_process=True)
    with (
        progress_bar() as progress,
        batch_stages(settings, gazetteer, total, summary) as stages,
    ):
        bar = progress.add_task("pages", total=total)
        read = source.batches(candidate.writer, summary)
        started = ((batch, stages.start(batch.pages)) for batch in read)
        for batch, pending in started_ahead(started, stages.ahead):
            result = load_pages(
                candidate, batch.pages, pending, gazetteer, summary, ledger, batch.name
            )
            discovered.append(result.discovered)
            source.record(batch, result, summary)
            progress.update(bar, advance=batch.size)
    if total > settings.batch_size:
        quality.warm_up(own_process=False)
    manifest, quarantine = source.finish(summary)
    summary.files_quarantined = quarantine.height
    summary.quarantine_reasons = dict(quarantine.group_by("reason").len().iter_rows())
    entity = known_entities(gazetteer, discovered)
    with summary.timing("stories"):
        stories_task(candidate)
    if total:
        # GX validates the Data Docs' batches again beside the publish (not beside the stories:
        # their memory and GX's would add up).
        ledger.docs.writing = quality.write_data_docs_beside(
            ledger.docs.batches(), settings.data_docs, summary.run_id, own_process=one_batch
        )
    with summary.timing("publish"):
        return publish_task(candidate, summary, started_at, entity, manifest, quarantine, ledger)


def _stopped(summary: RunSummary, ledger: quality.RunLedger, started_at: datetime) -> None:
    """Fill in what a run stopped by the data-quality gate did, for its report."""
    summary.dq_result = ledger.status()
    summary.rules_checked = len(ledger.results)
    summary.seconds = (now() - started_at).total_seconds()


def new_run_id(started_at: datetime) -> str:
    return started_at.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


# What new_run_id makes: UTC start time, then a random suffix.
_RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")


def flow_run_name() -> str:
    """A new run id, as the name of the Prefect flow run: the run's id in newsflow and in
    the Prefect UI are one."""
    return new_run_id(now())


def _run_id(started_at: datetime) -> str:
    """The id of this run: the name of its Prefect flow run, when flow_run_name gave it."""
    name = prefect_flow_run.get_name()
    return name if name and _RUN_ID.fullmatch(name) else new_run_id(started_at)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )
