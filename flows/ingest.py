"""The `ingest` Prefect flow: wires the stages together, batch by batch, then publishes."""

import secrets
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import duckdb
import polars as pl
from prefect import Task, flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flows import entities, extract, parse, quality, schema
from flows.load import Candidate, RunCounts, WriterLock
from flows.settings import Settings
from flows.teardown import silence_teardown_noise

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
    files_seen: int = 0
    files_loaded: int = 0
    files_unchanged: int = 0
    files_quarantined: int = 0
    files_ignored: int = 0
    articles: int = 0
    comments: int = 0
    entities: int = 0
    mentions: int = 0
    rules_checked: int = 0
    dq_result: str = "passed"
    seconds: float = 0.0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    data_docs: Path | None = None


# Stage frames are large and change every run: Prefect must not hash them for caching.
@task(name="discover files", cache_policy=NO_CACHE)
def discover_task(settings: Settings) -> extract.Discovery:
    return extract.discover_files(settings.inputs, settings.pattern)


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


@task(name="parse pages", cache_policy=NO_CACHE)
def parse_task(
    pages: pl.DataFrame, pool: Executor | None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return parse.parse_pages(pages, pool)


@task(name="extract entities", cache_policy=NO_CACHE)
def entities_task(
    article: pl.DataFrame, comment: pl.DataFrame, gazetteer: entities.Gazetteer
) -> tuple[pl.DataFrame, pl.DataFrame]:
    texts = entities.text_fields(article, comment)
    return entities.find_mentions(texts, gazetteer), texts


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
) -> None:
    page_rows = pages.join(article.select("source_path", "article_id"), on="source_path")
    candidate.write_batch(run_id, page_rows.rename({"text": "raw_text"}), article, comment, mention)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(
    candidate: Candidate,
    summary: RunSummary,
    started_at: datetime,
    gazetteer: entities.Gazetteer,
    manifest: pl.DataFrame,
    quarantine: pl.DataFrame,
    ledger: quality.RunLedger,
) -> dict[str, int]:
    candidate.write_run(summary.run_id, gazetteer.entities, manifest, quarantine)
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
    )
    return candidate.publish(
        summary.run_id, started_at, _now(), counts, summary.dq_result, NEWSFLOW_VERSION
    )


@flow(name="ingest", log_prints=True)
def ingest(
    inputs: list[str] | None = None,
    warehouse: str | None = None,
    batch_size: int | None = None,
) -> RunSummary:
    """Read the page files under `inputs`, parse, validate and publish them to `warehouse`."""
    defaults = Settings()
    settings = Settings(
        inputs=tuple(Path(p) for p in inputs) if inputs else defaults.inputs,
        warehouse=Path(warehouse) if warehouse else defaults.warehouse,
        batch_size=batch_size or defaults.batch_size,
    )
    started_at = _now()
    run_id = started_at.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
    summary = RunSummary(run_id=run_id, warehouse=settings.warehouse)
    for root in settings.inputs:
        if not root.is_dir():
            raise NotADirectoryError(f"input folder {root} does not exist or is not a folder")

    with WriterLock(settings.warehouse):
        discovery = discover_task(settings)
        gazetteer = entities.load_gazetteer()
        candidate = Candidate.prepare(settings.warehouse, run_id)
        ledger = quality.RunLedger(run_id)
        try:
            manifest, quarantine = _run_batches(
                candidate, settings, discovery, gazetteer, summary, ledger
            )
            totals = publish_task(
                candidate, summary, started_at, gazetteer, manifest, quarantine, ledger
            )
        except quality.DataQualityError as error:
            candidate.discard()
            summary.seconds = (_now() - started_at).total_seconds()
            error.data_docs = report_task(summary, ledger, settings.data_docs)
            raise
        except BaseException:
            candidate.discard()
            raise
    summary.articles = totals["articles"]
    summary.comments = totals["comments"]
    summary.entities = totals["entities"]
    summary.mentions = totals["mentions"]
    summary.seconds = (_now() - started_at).total_seconds()
    summary.data_docs = report_task(summary, ledger, settings.data_docs)
    return summary


def _run_batches(
    candidate: Candidate,
    settings: Settings,
    discovery: extract.Discovery,
    gazetteer: entities.Gazetteer,
    summary: RunSummary,
    ledger: quality.RunLedger,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read, parse, extract, validate and load every batch; return the file manifest and the
    quarantined files."""
    # The reference entities are the same for every batch: check them once.
    quality.require_passed(
        validate_task(
            {"entity": gazetteer.entities}, ("entity",), f"{summary.run_id}-reference", ledger
        )
    )
    known = candidate.known_pages()
    files = discovery.files
    manifests: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = [discovery.rejects]

    with _progress() as progress, parse.worker_pool(settings.parse_workers) as pool:
        bar = progress.add_task("pages", total=files.height)
        for offset in range(0, files.height, settings.batch_size):
            batch = files.slice(offset, settings.batch_size)
            pages, unreadable = read_task(batch, settings)
            changed = extract.drop_unchanged(pages, known, parse.PARSER_VERSION)
            article, comment, unparsable = parse_task(changed, pool)
            mention, texts = entities_task(article, comment, gazetteer)
            frames = quality.checked_frames(article, comment, mention, texts, gazetteer.entities)
            batch_name = f"{summary.run_id}-batch{offset // settings.batch_size + 1:05d}"
            results = validate_task(frames, quality.BATCH_SUITES, batch_name, ledger)
            article, comment, mention, failed = quality.set_aside(
                results, article, comment, mention
            )
            load_task(candidate, summary.run_id, changed, article, comment, mention)

            unparsable_rows = unparsable.with_columns(
                reason=pl.lit("unparsable"),
                message=pl.lit(
                    "No title, body or comment could be found in the page text; "
                    "check that the file is a scraped page."
                ),
                size_bytes=pl.lit(None, dtype=pl.Int64()),
            )
            rejected.extend(
                [unreadable, unparsable_rows.select(extract.REJECT_SCHEMA.names()), failed]
            )
            set_aside = pl.concat([unparsable, failed.select(unparsable.columns)])
            manifests.append(_manifest(summary.run_id, pages, changed, unreadable, set_aside))
            summary.files_loaded += article.height
            summary.files_unchanged += pages.height - changed.height
            progress.update(bar, advance=batch.height)

    quarantine = pl.concat(rejected, how="vertical_relaxed")
    summary.files_quarantined = quarantine.height
    summary.files_ignored = discovery.ignored
    summary.files_seen = discovery.files.height + discovery.rejects.height + discovery.ignored
    summary.quarantine_reasons = dict(quarantine.group_by("reason").len().iter_rows())
    manifest = pl.concat(manifests) if manifests else schema.empty("source_file")
    return manifest, quarantine


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


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
