"""The `ingest` Prefect flow: wires the stages together, batch by batch, then publishes."""

import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb
import polars as pl
from prefect import Task, flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flows import entities, extract, parse, quality, schema
from flows.halt import halt_point
from flows.load import Candidate, RunCounts, WriterLock
from flows.settings import Settings
from flows.teardown import silence_teardown_noise

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner

NEWSFLOW_VERSION = version("newsflow")

# Scheduled runs import this module in a process of their own (see flows/serve.py).
silence_teardown_noise()


def _is_transient_io(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry a task only when it failed on I/O (a disk or share briefly unavailable); a
    bug or a data-quality failure would fail the same way again."""
    error = state.data if isinstance(state.data, BaseException) else None
    return isinstance(error, OSError | duckdb.IOException)


IO_RETRIES = 3
IO_BACKOFF = exponential_backoff(backoff_factor=2)  # 2, 4, 8 s, each +-50% jitter


@dataclass
class RunSummary:
    """What a published run did, for the command line and the logs."""

    run_id: str
    warehouse: Path
    kind: str = "ingest"
    files_seen: int = 0
    files_loaded: int = 0
    files_unchanged: int = 0
    files_quarantined: int = 0
    files_ignored: int = 0
    files_missing: int = 0
    pages_reparsed: int = 0
    articles: int = 0
    comments: int = 0
    entities: int = 0
    mentions: int = 0
    rules_checked: int = 0
    dq_result: str = "passed"
    seconds: float = 0.0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    data_docs: Path | None = None
    # Seconds the flow spent in each stage, summed over the batches, in the order first met.
    # With Dask, parse and entities are the time the flow waited for the workers' results.
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        """Add the time spent inside the block to `stage_seconds[stage]`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + spent


# Stage frames are large and change every run: Prefect must not hash them for caching.
@task(name="discover files", cache_policy=NO_CACHE)
def discover_task(settings: Settings) -> extract.Discovery:
    return extract.discover_files(settings.inputs, settings.pattern)


# Retried on I/O errors: it starts again from the published file.
@task(
    name="prepare candidate",
    cache_policy=NO_CACHE,
    retries=IO_RETRIES,
    retry_delay_seconds=IO_BACKOFF,
    retry_jitter_factor=0.5,
    retry_condition_fn=_is_transient_io,
)
def prepare_task(warehouse: Path, run_id: str) -> Candidate:
    return Candidate.prepare(warehouse, run_id)


# Retried on I/O errors: the task writes nothing.
@task(
    name="read and decode",
    cache_policy=NO_CACHE,
    retries=IO_RETRIES,
    retry_delay_seconds=IO_BACKOFF,
    retry_jitter_factor=0.5,
    retry_condition_fn=_is_transient_io,
)
def read_task(files: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    return extract.read_pages(files, settings.max_file_bytes)


# article, comment, and the pages the parser made nothing of (source_path, sha256).
Parsed = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]
# What the entity stage found, and the texts it read.
Extracted = tuple[entities.Extraction, pl.DataFrame]


@task(name="parse pages", cache_policy=NO_CACHE)
def parse_task(pages: pl.DataFrame, pool: Executor | None) -> Parsed:
    parsed = parse.parse_pages(pages, pool)
    halt_point("parse")
    return parsed


# Takes the parse task's whole result, so that on Dask it can be chained to its future.
@task(name="extract entities", cache_policy=NO_CACHE)
def entities_task(parsed: Parsed, gazetteer: entities.Gazetteer) -> Extracted:
    article, comment, _ = parsed
    texts = entities.text_fields(article, comment)
    return entities.extract_entities(texts, gazetteer), texts


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(
    frames: dict[str, pl.DataFrame],
    suites: tuple[str, ...],
    run_name: str,
    ledger: quality.RunLedger,
) -> list[quality.RuleResult]:
    results = quality.shared_gate().validate(frames, run_name, suites)
    ledger.add(results)
    return results


@task(name="report data quality", cache_policy=NO_CACHE)
def report_task(summary: RunSummary, ledger: quality.RunLedger, data_docs: Path) -> Path:
    """Rebuild the Data Docs and publish the run report as versioned Prefect artifacts."""
    index = data_docs / "index.html"
    # A run that validated no page (nothing new) keeps the last Data Docs and never imports
    # Great Expectations, which takes seconds.
    if any(result.suite in quality.SUITES for result in ledger.results):
        index = quality.shared_gate().build_data_docs(data_docs, summary.run_id)
    facts = [
        ("files seen", f"{summary.files_seen:,}"),
        ("loaded", f"{summary.files_loaded:,}"),
        ("unchanged", f"{summary.files_unchanged:,}"),
        ("quarantined", f"{summary.files_quarantined:,}"),
        *((f"quarantined as {r}", f"{n:,}") for r, n in sorted(summary.quarantine_reasons.items())),
        ("articles", f"{summary.articles:,}"),
        ("comments", f"{summary.comments:,}"),
        ("entity mentions", f"{summary.mentions:,}"),
        ("run time", f"{summary.seconds:.1f} s"),
        ("time by stage", stage_times(summary)),
        ("warehouse", f"`{summary.warehouse}`"),
        ("Data Docs", f"`{index}`"),
    ]
    title = f"newsflow run {summary.run_id}"
    create_markdown_artifact(
        key="newsflow-run-report",
        markdown=quality.report_markdown(title, facts, ledger),
        description=f"{title}: data quality {ledger.status()}",
    )
    create_table_artifact(
        key="newsflow-rule-results",
        table=quality.rule_rows(ledger),
        description=f"Every data-quality rule of run {summary.run_id}",
    )
    return index


# Retried on I/O errors: a batch is one transaction, rolled back when it fails.
@task(
    name="load batch",
    cache_policy=NO_CACHE,
    retries=IO_RETRIES,
    retry_delay_seconds=IO_BACKOFF,
    retry_jitter_factor=0.5,
    retry_condition_fn=_is_transient_io,
)
def load_task(
    candidate: Candidate,
    run_id: str,
    pages: pl.DataFrame,
    article: pl.DataFrame,
    comment: pl.DataFrame,
    mention: pl.DataFrame,
    candidate_mention: pl.DataFrame,
) -> None:
    page_rows = pages.join(article.select("source_path", "article_id"), on="source_path")
    candidate.write_batch(
        run_id, page_rows.rename({"text": "raw_text"}), article, comment, mention, candidate_mention
    )
    halt_point("load")


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(
    candidate: Candidate,
    summary: RunSummary,
    started_at: datetime,
    entity: pl.DataFrame,
    manifest: pl.DataFrame | None,
    quarantine: pl.DataFrame,
    ledger: quality.RunLedger,
) -> dict[str, int]:
    """Record the run in the candidate, check it, and swap it in for the published file.

    `entity` holds the gazetteer's entities and those the run discovered; `manifest` is None
    for a reparse run, which leaves the file manifest as it was.
    """
    candidate.write_run(summary.run_id, entity, manifest, quarantine)
    warehouse_rules = quality.warehouse_results(candidate.run_checks())
    ledger.add(warehouse_rules)
    quality.require_passed(warehouse_rules)
    summary.dq_result = ledger.status()
    summary.rules_checked = len(ledger.results)
    candidate.write_dq_results(ledger.frame())
    counts = RunCounts(
        files_seen=summary.files_seen,
        files_loaded=summary.files_loaded,
        files_unchanged=summary.files_unchanged,
        files_quarantined=summary.files_quarantined,
        files_ignored=summary.files_ignored,
        kind=summary.kind,
    )
    totals = candidate.seal(
        summary.run_id, started_at, now(), counts, summary.dq_result, NEWSFLOW_VERSION
    )
    halt_point("swap")
    candidate.swap()
    return totals


@flow(name="ingest", log_prints=True)
def ingest(
    inputs: list[str] | None = None,
    warehouse: str | None = None,
    batch_size: int | None = None,
    pattern: str | None = None,
    wait: bool = False,
    task_runner: str | None = None,
    dask_address: str | None = None,
) -> RunSummary:
    """Read the page files under `inputs` that are new or changed, parse, validate and publish
    them to `warehouse`. With `wait`, wait for a run already writing it instead of failing.
    With `task_runner` "dask", parse and extract entities on the Dask cluster at
    `dask_address` (a temporary local one when None); validation and loading stay here."""
    defaults = Settings()
    settings = Settings(
        inputs=tuple(Path(p) for p in inputs) if inputs else defaults.inputs,
        warehouse=Path(warehouse) if warehouse else defaults.warehouse,
        batch_size=batch_size or defaults.batch_size,
        pattern=pattern or defaults.pattern,
        task_runner=task_runner or defaults.task_runner,
        dask_address=dask_address or defaults.dask_address,
    )
    started_at = now()
    summary = RunSummary(run_id=new_run_id(started_at), warehouse=settings.warehouse)
    for root in settings.inputs:
        if not root.is_dir():
            raise NotADirectoryError(f"input folder {root} does not exist or is not a folder")

    with WriterLock(settings.warehouse, wait=wait):
        with summary.timing("discover"):
            discovery = discover_task(settings)
        gazetteer = entities.load_gazetteer()
        with summary.timing("copy warehouse"):
            candidate = prepare_task(settings.warehouse, summary.run_id)
        ledger = quality.RunLedger(summary.run_id)
        try:
            discovered: list[pl.DataFrame] = []
            manifest, quarantine = _run_batches(
                candidate, settings, discovery, gazetteer, summary, ledger, discovered
            )
            entity = known_entities(gazetteer, discovered)
            with summary.timing("publish"):
                totals = publish_task(
                    candidate, summary, started_at, entity, manifest, quarantine, ledger
                )
        except quality.DataQualityError as error:
            candidate.discard()
            summary.seconds = (now() - started_at).total_seconds()
            error.data_docs = report_task(summary, ledger, settings.data_docs)
            raise
        except BaseException:
            candidate.discard()
            raise
    finish(summary, totals, started_at)
    with summary.timing("report"):
        summary.data_docs = report_task(summary, ledger, settings.data_docs)
    return summary


def _run_batches(
    candidate: Candidate,
    settings: Settings,
    discovery: extract.Discovery,
    gazetteer: entities.Gazetteer,
    summary: RunSummary,
    ledger: quality.RunLedger,
    discovered: list[pl.DataFrame],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read, parse, extract, validate and load every new or changed file, batch by batch;
    return the file manifest and the quarantined files, and add each batch's discovered
    entities to `discovered`."""
    known = candidate.known_files()
    # Files whose size and time match the manifest are not even opened.
    to_read, unchanged = extract.split_unchanged(discovery.files, known, parse.PARSER_VERSION)
    loaded = known.filter(pl.col("loaded_sha256").is_not_null()).select(
        "source_path", sha256="loaded_sha256", parser_version="parser_version"
    )
    manifests: list[pl.DataFrame] = [_unchanged_manifest(summary.run_id, unchanged, known)]
    rejected: list[pl.DataFrame] = [discovery.rejects]

    with (
        progress_bar() as progress,
        batch_stages(settings, gazetteer, to_read.height) as stages,
    ):
        bar = progress.add_task("pages", total=to_read.height)
        read = _read_batches(to_read, loaded, settings, summary, stages)
        for batch in started_ahead(read, stages.ahead):
            pages, changed, unreadable = batch.pages, batch.changed, batch.unreadable
            result = load_pages(
                candidate, changed, batch.pending, gazetteer, summary, ledger, batch.name
            )
            discovered.append(result.discovered)
            rejected.extend(
                [unreadable, _unparsable_rows(result.unparsable, loaded), result.failed]
            )
            set_aside = pl.concat(
                [result.unparsable, result.failed.select("source_path", "sha256")]
            )
            manifests.append(_manifest(summary.run_id, pages, changed, unreadable, set_aside))
            summary.files_loaded += result.loaded
            summary.files_unchanged += pages.height - changed.height
            progress.update(bar, advance=batch.files)

    summary.files_unchanged += unchanged.height
    quarantine = pl.concat(rejected, how="vertical_relaxed")
    summary.files_quarantined = quarantine.height
    summary.files_ignored = discovery.ignored
    summary.files_seen = discovery.files.height + discovery.rejects.height + discovery.ignored
    accounted = (
        summary.files_loaded
        + summary.files_unchanged
        + summary.files_quarantined
        + summary.files_ignored
    )
    if accounted != summary.files_seen:
        raise RuntimeError(f"{summary.files_seen} files seen but {accounted} accounted for")
    summary.quarantine_reasons = dict(quarantine.group_by("reason").len().iter_rows())
    return pl.concat(manifests), quarantine


@dataclass
class PendingBatch:
    """A batch's parse and entity results: computed in the flow when asked for (default
    runner), or already submitted to the Dask workers."""

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
    settings: Settings, gazetteer: entities.Gazetteer, pages: int
) -> Iterator[BatchStages]:
    """Parse and extract on the local process pool as each batch comes, or on Dask; with no
    page to parse, no Dask cluster is started or called."""

    def in_flow(pool: Executor | None) -> Callable[[pl.DataFrame], PendingBatch]:
        def start(batch: pl.DataFrame) -> PendingBatch:
            return PendingBatch(
                lambda: parse_task(batch, pool), lambda parsed: entities_task(parsed, gazetteer)
            )

        return start

    if settings.task_runner != "dask" or pages == 0:
        with parse.worker_pool(settings.parse_workers) as pool:
            yield BatchStages(in_flow(pool))
        return

    with _dask_runner(settings) as runner:
        # One batch per worker thread in flight, so none idles while the flow loads.
        slots = sum(runner.client.nthreads().values())

        def submit(batch: pl.DataFrame) -> PendingBatch:
            if batch.is_empty():
                # load_pages asks for nothing: submitting would only add idle task runs.
                return in_flow(None)(batch)
            # Each worker parses its batch itself: a local pool would fight it for the cores.
            parsed = runner.submit(parse_task, {"pages": batch, "pool": None})
            found = runner.submit(entities_task, {"parsed": parsed, "gazetteer": gazetteer})
            return PendingBatch(parsed.result, lambda _: found.result())

        yield BatchStages(submit, ahead=max(1, slots))


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


@dataclass
class ReadBatch:
    """A batch of files read, with the parse of its new and changed pages started."""

    name: str
    files: int
    pages: pl.DataFrame
    changed: pl.DataFrame
    unreadable: pl.DataFrame
    pending: PendingBatch


def _read_batches(
    to_read: pl.DataFrame,
    loaded: pl.DataFrame,
    settings: Settings,
    summary: RunSummary,
    stages: BatchStages,
) -> Iterator[ReadBatch]:
    for offset in range(0, to_read.height, settings.batch_size):
        batch = to_read.slice(offset, settings.batch_size)
        with summary.timing("read"):
            pages, unreadable = read_task(batch, settings)
        # Read again but the same bytes (touched, copied back): nothing to parse.
        changed = extract.drop_unchanged(pages, loaded, parse.PARSER_VERSION)
        name = batch_name(summary.run_id, offset, settings.batch_size)
        yield ReadBatch(name, batch.height, pages, changed, unreadable, stages.start(changed))


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
    # Pages the parser made nothing of (source_path, sha256).
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
    no_pages = pl.DataFrame(schema={"source_path": pl.String(), "sha256": pl.String()})
    nothing = LoadedBatch(
        0, no_pages, pl.DataFrame(schema=extract.REJECT_SCHEMA), schema.empty("entity")
    )
    if pages.is_empty():
        # No task runs, and the data-quality gate (seconds to import) is not needed.
        return nothing
    with summary.timing("parse"):
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
    with summary.timing("entities"):
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


def _unparsable_rows(unparsable: pl.DataFrame, loaded: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows for pages the parser made nothing of, saying whether rows of an earlier
    version of the page stay in the warehouse."""
    had_rows = pl.col("source_path").is_in(loaded["source_path"].implode())
    return unparsable.select(
        "source_path",
        reason=pl.lit("no_text"),
        message=pl.when(had_rows)
        .then(
            pl.lit(
                "The new version of this page holds no article or comment text, only a header "
                "(donation banner, month line) or site chrome; the rows of the version loaded "
                "before are kept. Check the file."
            )
        )
        .otherwise(
            pl.lit(
                "The page holds no article or comment text, only a header (donation banner, "
                "month line) or site chrome; check that the file is a complete scraped page."
            )
        ),
        size_bytes=pl.lit(None, dtype=pl.Int64()),
        sha256="sha256",
    )


def _unchanged_manifest(run_id: str, unchanged: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """source_file rows for the files skipped on their size and time: seen, as they were."""
    return (
        unchanged.join(known.select("source_path", "sha256"), on="source_path", how="left")
        .select(
            "source_path",
            "size_bytes",
            "modified_at",
            "sha256",
            status=pl.lit("unchanged"),
        )
        .with_columns(first_seen_run=pl.lit(run_id), last_seen_run=pl.lit(run_id))
    )


def _manifest(
    run_id: str,
    pages: pl.DataFrame,
    changed: pl.DataFrame,
    unreadable: pl.DataFrame,
    unparsable: pl.DataFrame,
) -> pl.DataFrame:
    """One source_file row per file of the batch, with its status in this run."""
    status = (
        pl.when(pl.col("source_path").is_in(unparsable["source_path"].implode()))
        .then(pl.lit("quarantined"))
        .when(pl.col("source_path").is_in(changed["source_path"].implode()))
        .then(pl.lit("loaded"))
        .otherwise(pl.lit("unchanged"))
    )
    read = pages.select("source_path", "size_bytes", "modified_at", "sha256", status=status)
    not_read = unreadable.select(
        "source_path",
        "size_bytes",
        modified_at=pl.lit(None, dtype=pl.Datetime("us")),
        sha256="sha256",
        status=pl.lit("quarantined"),
    )
    return pl.concat([read, not_read]).with_columns(
        first_seen_run=pl.lit(run_id), last_seen_run=pl.lit(run_id)
    )


def finish(summary: RunSummary, totals: dict[str, int], started_at: datetime) -> RunSummary:
    summary.articles = totals["articles"]
    summary.comments = totals["comments"]
    summary.entities = totals["entities"]
    summary.mentions = totals["mentions"]
    summary.files_missing = totals["files_missing"]
    summary.seconds = (now() - started_at).total_seconds()
    return summary


def batch_name(run_id: str, offset: int, batch_size: int) -> str:
    """The name a batch's data-quality results are filed under: run id and batch number."""
    return f"{run_id}-batch{offset // batch_size + 1:05d}"


def stage_times(summary: RunSummary) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in summary.stage_seconds.items())


def new_run_id(started_at: datetime) -> str:
    return started_at.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
