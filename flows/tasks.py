"""The Prefect tasks of a run: thin wrappers that name, retry and time the stage functions."""

from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

import duckdb
import polars as pl
from prefect import Task, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff

from flows import entities, extract, parse, quality
from flows.build import newsflow_version
from flows.candidate import Candidate
from flows.load import RunCounts
from flows.settings import Settings
from flows.summary import RunSummary, figures, notes, title
from flows.warehouse import LASTING_STORAGE_ERRORS, storage_errno


def _is_transient_io(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry a task only when it failed on I/O (a disk or share briefly unavailable); a
    bug or a data-quality failure would fail the same way again."""
    error = state.data if isinstance(state.data, BaseException) else None
    if error is not None and storage_errno(error) in LASTING_STORAGE_ERRORS:
        return False  # a full disk or a read-only folder stays so for the next seconds
    return isinstance(error, OSError | duckdb.IOException)


IO_RETRIES = 3
IO_BACKOFF = exponential_backoff(backoff_factor=2)  # 2, 4, 8 s, each +-50% jitter
P = ParamSpec("P")
R = TypeVar("R")


def retried_on_io(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task that is tried again, with backoff, when it fails on I/O."""
    return task(
        name=name,
        cache_policy=NO_CACHE,
        retries=IO_RETRIES,
        retry_delay_seconds=IO_BACKOFF,
        retry_jitter_factor=0.5,
        retry_condition_fn=_is_transient_io,
    )


# article, comment, and the pages the parser set aside (parse.REJECT_SCHEMA).
Parsed = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]
# What the entity stage found, and the texts it read.
Extracted = tuple[entities.Extraction, pl.DataFrame]


# Stage frames are large and change every run: Prefect must not hash them for caching.
@task(name="discover files", cache_policy=NO_CACHE)
def discover_task(settings: Settings) -> extract.Discovery:
    return extract.discover_files(settings.inputs, settings.pattern, settings.source_names)


# Retried on I/O errors: it starts again from the published file.
@retried_on_io("prepare candidate")
def prepare_task(warehouse: Path, run_id: str) -> Candidate:
    return Candidate.prepare(warehouse, run_id)


# Retried on I/O errors: the task writes nothing.
@retried_on_io("read and decode")
def read_task(files: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    return extract.read_pages(files, settings.max_file_bytes)


# Their results are not kept in memory once returned: run beside the flow (flows/batches.py),
# each task run's result otherwise stayed for the rest of the run, every batch's frames.
@task(name="parse pages", cache_policy=NO_CACHE, cache_result_in_memory=False)
def parse_task(pages: pl.DataFrame, pool: Executor | None, timeout: float | None = None) -> Parsed:
    return parse.parse_pages(pages, pool, timeout)


# Takes the parse task's whole result, so that on Dask it can be chained to its future.
@task(name="extract entities", cache_policy=NO_CACHE, cache_result_in_memory=False)
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
    """Judge every rule on every row with polars (GX only the rules it alone can judge), set
    aside the pages that break a batch-level rule alone, and file the results in `ledger`."""
    rules = quality.RowRules(quality.load_suite_documents(), quality.suite_parameters())
    results = rules.validate(frames, suites)
    by_gx = [suite for suite in suites if rules.gx_only.get(suite)]
    if by_gx:
        judged = quality.shared_gate().validate(frames, run_name, by_gx)
        results += [r for r in judged if r.key in rules.gx_only[r.suite]]
    if "article" in frames:
        results = quality.settle(results, frames["article"]["article_id"])
    ledger.add(results)
    ledger.docs.offer(quality.DocsBatch(run_name, frames, suites, results))
    return results


# Each chunk of articles is one transaction, rolled back when it fails.
@retried_on_io("group stories")
def stories_task(candidate: Candidate) -> int:
    """Give the articles loaded since the last run their story (near-duplicate bodies)."""
    return candidate.writer.update_stories()


# Retried on I/O errors: a batch is one transaction, rolled back when it fails.
@retried_on_io("load batch")
def load_task(
    candidate: Candidate,
    run_id: str,
    pages: pl.DataFrame,
    article: pl.DataFrame,
    comment: pl.DataFrame,
    mention: pl.DataFrame,
    candidate_mention: pl.DataFrame,
) -> None:
    page_rows = pages.join(
        article.select("source", "source_path", "article_id"), on=["source", "source_path"]
    )
    candidate.writer.write_batch(
        run_id, page_rows.rename({"text": "raw_text"}), article, comment, mention, candidate_mention
    )


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
    writer = candidate.writer
    writer.write_run(summary.run_id, entity, manifest, quarantine, summary.sources)
    warehouse_rules = quality.warehouse_results(writer.run_checks())
    ledger.add(warehouse_rules)
    quality.require_passed(warehouse_rules)
    summary.dq_result = ledger.status()
    summary.rules_checked = len(ledger.results)
    summary.broken_warnings = [
        f"{rule.suite}.{rule.column or '*'}: {rule.expectation} ({rule.observed_value})"
        for rule in ledger.results
        if rule.policy == "warn" and not rule.success
    ]
    writer.write_dq_results(ledger.frame())
    summary.stale_pages = writer.count_stale_pages(parse.PARSER_VERSION)
    counts = RunCounts(
        files_seen=summary.files_seen,
        files_loaded=summary.files_loaded,
        files_unchanged=summary.files_unchanged,
        files_quarantined=summary.files_quarantined,
        files_ignored=summary.files_ignored,
        kind=summary.kind,
    )
    return candidate.publish(
        summary.run_id, started_at, now(), counts, summary.dq_result, newsflow_version()
    )


@task(name="report data quality", cache_policy=NO_CACHE)
def report_task(summary: RunSummary, ledger: quality.RunLedger, data_docs: Path) -> Path | None:
    """Rebuild the Data Docs and publish the run report as versioned Prefect artifacts; return
    the Data Docs index page, None when it could not be written."""
    summary.data_docs = data_docs / "index.html"
    # A run that validated no page (nothing new) keeps the last Data Docs and never imports
    # Great Expectations, which takes seconds.
    if ledger.docs.batches():
        # Started beside the publish, or now for a run the data-quality gate stopped.
        writing = ledger.docs.writing or quality.write_data_docs_beside(
            ledger.docs.batches(), data_docs, summary.run_id, own_process=False
        )
        try:
            summary.data_docs, disagreements = writing.result()
            for disagreement in disagreements:
                get_run_logger().warning(disagreement)
        except Exception as error:
            # The run is published (or stopped) by now: a report it cannot write must not
            # turn it into a failure.
            summary.data_docs = None
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            summary.warnings.append(
                f"the Data Docs could not be written to {data_docs} ({reason}); make that "
                "folder writable (or move what is in its way) and the next run writes them"
            )
    create_markdown_artifact(
        key="newsflow-run-report",
        markdown=quality.report_markdown(
            title(summary), [*figures(summary), *notes(summary)], ledger
        ),
        description=f"{title(summary)}: data quality {ledger.status()}",
    )
    create_table_artifact(
        key="newsflow-rule-results",
        table=quality.rule_rows(ledger),
        description=f"Every data-quality rule of run {summary.run_id}",
    )
    return summary.data_docs


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
