"""The `ingest` Prefect flow: wires the stages together, batch by batch, then publishes."""

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flows import entities, extract, parse, quality
from flows.halt import halt_point
from flows.load import Candidate, RunCounts, WriterLock
from flows.settings import Settings

NEWSFLOW_VERSION = version("newsflow")


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


# Stage frames are large and change every run: Prefect must not hash them for caching.
@task(name="discover files", cache_policy=NO_CACHE)
def discover_task(settings: Settings) -> extract.Discovery:
    return extract.discover_files(settings.inputs, settings.pattern)


@task(name="prepare candidate", cache_policy=NO_CACHE)
def prepare_task(warehouse: Path, run_id: str) -> Candidate:
    return Candidate.prepare(warehouse, run_id)


@task(name="read and decode", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def read_task(files: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    return extract.read_pages(files, settings.max_file_bytes)


@task(name="parse pages", cache_policy=NO_CACHE)
def parse_task(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    parsed = parse.parse_pages(pages)
    halt_point("parse")
    return parsed


@task(name="extract entities", cache_policy=NO_CACHE)
def entities_task(
    article: pl.DataFrame, comment: pl.DataFrame, gazetteer: entities.Gazetteer
) -> tuple[pl.DataFrame, pl.DataFrame]:
    texts = entities.text_fields(article, comment)
    return entities.find_mentions(texts, gazetteer), texts


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
) -> None:
    page_rows = pages.join(article.select("source_path", "article_id"), on="source_path")
    candidate.write_batch(run_id, page_rows.rename({"text": "raw_text"}), article, comment, mention)
    halt_point("load")


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(
    candidate: Candidate,
    summary: RunSummary,
    started_at: datetime,
    gazetteer: entities.Gazetteer,
    manifest: pl.DataFrame | None,
    quarantine: pl.DataFrame,
) -> dict[str, int]:
    """Record the run in the candidate, check it, and swap it in for the published file.

    `manifest` is None for a reparse run, which leaves the file manifest as it was.
    """
    candidate.write_run(summary.run_id, gazetteer.entities, manifest, quarantine)
    candidate.check_relationships()
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
) -> RunSummary:
    """Read the page files under `inputs` that are new or changed, parse, validate and publish
    them to `warehouse`. With `wait`, wait for a run already writing it instead of failing."""
    defaults = Settings()
    settings = Settings(
        inputs=tuple(Path(p) for p in inputs) if inputs else defaults.inputs,
        warehouse=Path(warehouse) if warehouse else defaults.warehouse,
        batch_size=batch_size or defaults.batch_size,
        pattern=pattern or defaults.pattern,
    )
    started_at = now()
    summary = RunSummary(run_id=new_run_id(started_at), warehouse=settings.warehouse)
    for root in settings.inputs:
        if not root.is_dir():
            raise NotADirectoryError(f"input folder {root} does not exist or is not a folder")

    with WriterLock(settings.warehouse, wait=wait):
        discovery = discover_task(settings)
        gazetteer = entities.load_gazetteer()
        candidate = prepare_task(settings.warehouse, summary.run_id)
        try:
            manifest, quarantine = _run_batches(candidate, settings, discovery, gazetteer, summary)
            totals = publish_task(candidate, summary, started_at, gazetteer, manifest, quarantine)
        except BaseException:
            candidate.discard()
            raise
    return finish(summary, totals, started_at)


def _run_batches(
    candidate: Candidate,
    settings: Settings,
    discovery: extract.Discovery,
    gazetteer: entities.Gazetteer,
    summary: RunSummary,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read, parse, extract, validate and load every new or changed file, batch by batch;
    return the file manifest and the quarantined files."""
    known = candidate.known_files()
    # Files whose size and time match the manifest are not even opened.
    to_read, unchanged = extract.split_unchanged(discovery.files, known, parse.PARSER_VERSION)
    loaded = known.filter(pl.col("loaded_sha256").is_not_null()).select(
        "source_path", sha256="loaded_sha256", parser_version="parser_version"
    )
    manifests: list[pl.DataFrame] = [_unchanged_manifest(summary.run_id, unchanged, known)]
    rejected: list[pl.DataFrame] = [discovery.rejects]

    with progress_bar() as progress:
        bar = progress.add_task("pages", total=to_read.height)
        for offset in range(0, to_read.height, settings.batch_size):
            batch = to_read.slice(offset, settings.batch_size)
            pages, unreadable = read_task(batch, settings)
            # Read again but the same bytes (touched, copied back): nothing to parse.
            changed = extract.drop_unchanged(pages, loaded, parse.PARSER_VERSION)
            n_loaded, unparsable = load_pages(candidate, changed, gazetteer, summary)
            rejected.extend([unreadable, _unparsable_rows(unparsable, loaded)])
            manifests.append(_manifest(summary.run_id, pages, changed, unreadable, unparsable))
            summary.files_loaded += n_loaded
            summary.files_unchanged += pages.height - changed.height
            progress.update(bar, advance=batch.height)

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


def load_pages(
    candidate: Candidate,
    pages: pl.DataFrame,
    gazetteer: entities.Gazetteer,
    summary: RunSummary,
) -> tuple[int, pl.DataFrame]:
    """Parse, extract, validate and load `pages`; return how many loaded, and those the
    parser made nothing of."""
    if pages.is_empty():
        # No task runs, and the data-quality gate (seconds to import) is not needed.
        return 0, parse.parse_pages(pages)[2]
    article, comment, unparsable = parse_task(pages)
    if article.is_empty():
        return 0, unparsable
    mention, texts = entities_task(article, comment, gazetteer)
    frames = quality.checked_frames(article, comment, mention, texts)
    summary.rules_checked = validate_task(frames, gazetteer.entities["entity_id"].to_list())
    load_task(candidate, summary.run_id, pages, article, comment, mention)
    return article.height, unparsable


def _unparsable_rows(unparsable: pl.DataFrame, loaded: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows for pages the parser made nothing of, saying whether rows of an earlier
    version of the page stay in the warehouse."""
    had_rows = pl.col("source_path").is_in(loaded["source_path"].implode())
    return unparsable.select(
        "source_path",
        reason=pl.lit("unparsable"),
        message=pl.when(had_rows)
        .then(
            pl.lit(
                "No title, body or comment could be found in the new version of this page; "
                "the rows of the version loaded before are kept. Check the file."
            )
        )
        .otherwise(
            pl.lit(
                "No title, body or comment could be found in the page text; "
                "check that the file is a scraped page."
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
