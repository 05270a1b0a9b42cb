"""A run's batches: parse and extract (ahead, beside the flow, or on Dask), validate, load."""

import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import copy_context
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar, cast

import polars as pl
from prefect.utilities.annotations import quote

from flows import entities, extract, parse, quality, schema
from flows.candidate import Candidate
from flows.settings import Settings
from flows.summary import RunSummary
from flows.tasks import Extracted, Parsed, entities_task, load_task, parse_task, validate_task

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner


@dataclass
class PendingBatch:
    """A batch's parse and entity results: computed in the flow when asked for, or already
    started beside it or on the Dask workers. Each stage's time is counted where its work
    runs: in the flow or beside it, the time the work took; on Dask, the time waited for it."""

    parsed: Callable[[], Parsed]
    extracted: Callable[[Parsed], Extracted]


@dataclass
class BatchStages:
    """Where parse and entity extraction run, and how many batches are started beyond the one
    being validated and loaded."""

    start: Callable[[pl.DataFrame], PendingBatch]
    ahead: int = 0


@contextmanager
def batch_stages(
    settings: Settings, gazetteer: entities.Gazetteer, pages: int, summary: RunSummary
) -> Iterator[BatchStages]:
    """Where each batch is parsed and its entities extracted:
    - one batch (or none), or one parse worker: in the flow, its pages parsed in chunks on
      the local pool (or in the flow's process);
    - more: the same, one batch ahead in threads beside the flow, so that the pool parses
      the next batch while the flow validates and loads this one (each thread times its own
      stage: the threads and the flow add to different stages of the summary);
    - on Dask: one batch ahead per worker thread of the cluster (none is started for no page).
    """
    if settings.task_runner == "dask" and pages:
        with _dask_runner(settings) as runner:
            slots = sum(runner.client.nthreads().values())
            # On Dask a quoted parameter reaches the task still wrapped.
            submit = _on_dask(runner, settings, gazetteer, summary)
            yield BatchStages(submit, ahead=max(1, slots))
        return
    with parse.worker_pool(settings.parse_workers) as pool:
        in_flow = _in_flow(settings, gazetteer, pool, summary)
        if pool is None or pages <= settings.batch_size:
            yield BatchStages(in_flow)
            return
        # Two threads: the next batch's parse, and its entities once it is parsed.
        with ThreadPoolExecutor(2, thread_name_prefix="next-batch") as beside:
            yield BatchStages(_beside(in_flow, beside), ahead=1)


def _quoted(gazetteer: entities.Gazetteer) -> entities.Gazetteer:
    """The gazetteer as a task parameter Prefect does not walk: it would otherwise walk (and
    copy) its 41,009 surface forms and word sets for every task run, to look for futures in
    them: seconds a batch. The task receives the gazetteer itself."""
    return cast(entities.Gazetteer, quote(gazetteer))


def _in_flow(
    settings: Settings, gazetteer: entities.Gazetteer, pool: Executor | None, summary: RunSummary
) -> Callable[[pl.DataFrame], PendingBatch]:
    """Parse and extract each batch in the flow, when load_pages asks for it."""

    def start(batch: pl.DataFrame) -> PendingBatch:
        def parsed() -> Parsed:
            with summary.timing("parse"):
                return parse_task(batch, pool, settings.parse_timeout)

        def extracted(parsed: Parsed) -> Extracted:
            with summary.timing("entities"):
                return entities_task(parsed, _quoted(gazetteer))

        return PendingBatch(parsed, extracted)

    return start


def _beside(
    in_flow: Callable[[pl.DataFrame], PendingBatch], threads: Executor
) -> Callable[[pl.DataFrame], PendingBatch]:
    """Run each batch's parse and entity tasks (`in_flow`'s) on `threads` as soon as the
    batch is read.

    The tasks are called there, in the flow run's context, not submitted to a Prefect task
    runner: submitted to its thread pool, each task's state kept its result for as long as
    the run (every batch's frames: 3 GiB at 100k pages).
    """

    def start(batch: pl.DataFrame) -> PendingBatch:
        pending = in_flow(batch)
        if batch.is_empty():
            return pending
        parsed = threads.submit(copy_context().run, pending.parsed)
        found = threads.submit(copy_context().run, lambda: pending.extracted(parsed.result()))
        return PendingBatch(parsed.result, lambda _: found.result())

    return start


def _on_dask(
    runner: "DaskTaskRunner",
    settings: Settings,
    gazetteer: entities.Gazetteer,
    summary: RunSummary,
) -> Callable[[pl.DataFrame], PendingBatch]:
    """Submit each batch's parse and entity tasks to the Dask workers as soon as it is read;
    each worker parses its batch itself (a local pool would fight it for the cores)."""

    def submit(batch: pl.DataFrame) -> PendingBatch:
        if batch.is_empty():
            # load_pages asks for nothing: submitting would only add idle task runs.
            return _in_flow(settings, gazetteer, None, summary)(batch)
        parameters = {"pages": batch, "pool": None, "timeout": settings.parse_timeout}
        parsed = runner.submit(parse_task, parameters)
        found = runner.submit(entities_task, {"parsed": parsed, "gazetteer": gazetteer})

        def parse_result() -> Parsed:
            with summary.timing("parse"):
                return parsed.result()

        def entities_result(_: Parsed) -> Extracted:
            with summary.timing("entities"):
                return found.result()

        return PendingBatch(parse_result, entities_result)

    return submit


@contextmanager
def _dask_runner(settings: Settings) -> Iterator["DaskTaskRunner"]:
    # Imported here: distributed takes a second to import, and only Dask runs need it.
    from prefect.client.orchestration import get_client
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        runner = DaskTaskRunner(address=settings.dask_address)
    else:
        with get_client(sync_client=True) as client:
            api_url = str(client.api_url)
        runner = DaskTaskRunner(
            cluster_kwargs={
                "n_workers": settings.parse_workers,
                "threads_per_worker": 1,  # parsing is pure Python: one thread per process
                "processes": True,
                # Any free loopback port: the fixed 8787 would clash (a warning) with a second
                # run's, and without bokeh (not installed) the page only says it is missing.
                "dashboard_address": "127.0.0.1:0",
                "silence_logs": logging.ERROR,
                # Without an API URL each worker would start a temporary Prefect server of
                # its own (10 to 20 s) and record its task runs there: point them at ours.
                "env": {"PREFECT_API_URL": api_url},
            }
        )
    # distributed logs every connection at INFO, in this process too (the local scheduler).
    distributed_logger = logging.getLogger("distributed")
    level = distributed_logger.level
    distributed_logger.setLevel(logging.WARNING)
    try:
        with runner:
            yield runner
    finally:
        distributed_logger.setLevel(level)


T = TypeVar("T")


def started_ahead(items: Iterator[T], ahead: int) -> Iterator[T]:
    """Yield each of `items` once `ahead` more have been drawn (read and started). With 0,
    each is yielded as soon as it is drawn: batch by batch, as without Dask."""
    window: deque[T] = deque()
    for item in items:
        window.append(item)
        if len(window) > ahead:
            yield window.popleft()
    yield from window


@dataclass
class LoadedBatch:
    """What became of a batch of pages."""

    loaded: int
    # Pages the parser set aside (parse.REJECT_SCHEMA): no text, or over the time budget.
    unparsable: pl.DataFrame
    # Quarantine rows of the pages that broke a page-level data-quality rule.
    failed: pl.DataFrame
    # Entities discovered in the loaded pages (source = 'discovered').
    discovered: pl.DataFrame


def load_pages(
    candidate: Candidate,
    pages: pl.DataFrame,
    pending: PendingBatch,
    gazetteer: entities.Gazetteer,
    summary: RunSummary,
    ledger: quality.RunLedger,
    batch_name: str,
) -> LoadedBatch:
    """Validate and load `pages`, with their parse and entity results from `pending`."""
    no_pages = pl.DataFrame(schema=parse.REJECT_SCHEMA)
    nothing = LoadedBatch(
        0, no_pages, pl.DataFrame(schema=extract.REJECT_SCHEMA), schema.empty("entity")
    )
    if pages.is_empty():
        # No task runs, and the data-quality gate (seconds to import) is not needed.
        return nothing
    parsed = pending.parsed()
    article, comment, unparsable = parsed
    if article.is_empty():
        return replace(nothing, unparsable=unparsable)
    if not any(result.suite == "entity" for result in ledger.results):
        # The reference entities are the same for every batch: checked once, before the first.
        reference = {"entity": gazetteer.entities}
        run_name = f"{summary.run_id}-reference"
        with summary.timing("validate"):
            quality.require_passed(validate_task(reference, ("entity",), run_name, ledger))
    found, texts = pending.extracted(parsed)
    with summary.timing("validate"):
        known = pl.concat([gazetteer.entities, found.entity])
        frames = quality.checked_frames(article, comment, found.mention, texts, known)
        results = validate_task(frames, quality.BATCH_SUITES, batch_name, ledger)
        article, comment, mention, failed = quality.set_aside(
            results, article, comment, found.mention
        )
    kept = pl.col("article_id").is_in(article["article_id"].implode())
    candidates = found.candidate.filter(kept)
    with summary.timing("load"):
        load_task(candidate, summary.run_id, pages, article, comment, mention, candidates)
    return LoadedBatch(article.height, unparsable, failed, found.entity)


def known_entities(gazetteer: entities.Gazetteer, discovered: list[pl.DataFrame]) -> pl.DataFrame:
    """The gazetteer's entities and those the run discovered, each once."""
    return pl.concat([gazetteer.entities, *discovered]).unique("entity_id", keep="first")


def batch_name(run_id: str, offset: int, batch_size: int) -> str:
    """The name a batch's data-quality results are filed under: run id and batch number."""
    return f"{run_id}-batch{offset // batch_size + 1:05d}"
