"""The `ingest` Prefect flow: wires the stages together, batch by batch, then publishes."""

import secrets
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flows import entities, extract, parse, quality, schema
from flows.load import Candidate, RunCounts, WriterLock
from flows.settings import Settings

NEWSFLOW_VERSION = version("newsflow")


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


# Stage frames are large and change every run: Prefect must not hash them for caching.
@task(name="discover files", cache_policy=NO_CACHE)
def discover_task(settings: Settings) -> extract.Discovery:
    return extract.discover_files(settings.inputs, settings.pattern)


@task(name="read and decode", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
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
) -> tuple[entities.Extraction, pl.DataFrame]:
    texts = entities.text_fields(article, comment)
    return entities.extract_entities(texts, gazetteer), texts


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(frames: dict[str, pl.DataFrame], entity_ids: list[str]) -> int:
    results = quality.shared_gate().validate(frames, entity_ids)
    quality.require_passed(results)
    return len(results)


@task(name="load batch", cache_policy=NO_CACHE)
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


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(
    candidate: Candidate,
    summary: RunSummary,
    started_at: datetime,
    entity: pl.DataFrame,
    manifest: pl.DataFrame,
    quarantine: pl.DataFrame,
) -> dict[str, int]:
    candidate.write_run(summary.run_id, entity, manifest, quarantine)
    candidate.check_relationships()
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
        try:
            discovered: list[pl.DataFrame] = []
            manifest, quarantine = _run_batches(
                candidate, settings, discovery, gazetteer, summary, discovered
            )
            entity = pl.concat([gazetteer.entities, *discovered]).unique("entity_id", keep="first")
            totals = publish_task(candidate, summary, started_at, entity, manifest, quarantine)
        except BaseException:
            candidate.discard()
            raise
    summary.articles = totals["articles"]
    summary.comments = totals["comments"]
    summary.entities = totals["entities"]
    summary.mentions = totals["mentions"]
    summary.seconds = (_now() - started_at).total_seconds()
    return summary


def _run_batches(
    candidate: Candidate,
    settings: Settings,
    discovery: extract.Discovery,
    gazetteer: entities.Gazetteer,
    summary: RunSummary,
    discovered: list[pl.DataFrame],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read, parse, extract, validate and load every batch; return the file manifest and the
    quarantined files, and add each batch's discovered entities to `discovered`."""
    entity_ids = gazetteer.entities["entity_id"].to_list()
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
            found, texts = entities_task(article, comment, gazetteer)
            discovered.append(found.entity)
            frames = quality.checked_frames(article, comment, found.mention, texts)
            summary.rules_checked = validate_task(
                frames, entity_ids + found.entity["entity_id"].to_list()
            )
            load_task(
                candidate, summary.run_id, changed, article, comment, found.mention, found.candidate
            )

            unparsable_rows = unparsable.with_columns(
                reason=pl.lit("unparsable"),
                message=pl.lit(
                    "No title, body or comment could be found in the page text; "
                    "check that the file is a scraped page."
                ),
                size_bytes=pl.lit(None, dtype=pl.Int64()),
            )
            rejected.extend([unreadable, unparsable_rows.select(extract.REJECT_SCHEMA.names())])
            manifests.append(_manifest(summary.run_id, pages, changed, unreadable, unparsable))
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
