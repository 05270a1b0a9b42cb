"""The `ingest` Prefect flow: the page files in the input folders that are new or changed."""

from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl
from prefect import flow

from flows import extract, parse
from flows.batches import LoadedBatch, batch_name
from flows.load import Writer
from flows.run import SourceBatch, flow_run_name, run_pages
from flows.settings import Settings, resolve
from flows.summary import RunSummary
from flows.tasks import discover_task, read_task
from flows.teardown import silence_teardown_noise

# Scheduled runs import this module in a process of their own (see flows/serve.py).
silence_teardown_noise()


@flow(name="ingest", flow_run_name=flow_run_name, log_prints=True)
def ingest(
    inputs: list[str] | None = None,
    warehouse: str | None = None,
    batch_size: int | None = None,
    pattern: str | None = None,
    wait: bool = False,
    task_runner: str | None = None,
    dask_address: str | None = None,
    sources: list[str] | None = None,
) -> RunSummary:
    """Read the page files under `inputs` that are new or changed, parse, validate and publish
    them to `warehouse`. `sources` names the crawl of each input folder (default: the
    folder's name). With `wait`, wait for a run already writing it instead of failing.
    With `task_runner` "dask", parse and extract entities on the Dask cluster at
    `dask_address` (a temporary local one when None); validation and loading stay here.
    A setting left None comes from its NEWSFLOW_* variable, else its default."""
    settings = resolve(
        inputs=inputs,
        source_names=sources,
        warehouse=warehouse,
        batch_size=batch_size,
        pattern=pattern,
        task_runner=task_runner,
        dask_address=dask_address,
    )
    settings.require_inputs()
    return run_pages(FileSource(settings), settings, wait)


@dataclass
class FileBatch(SourceBatch):
    """A batch of files read: `pages` are those new or changed, to be parsed."""

    read: pl.DataFrame = field(default_factory=pl.DataFrame)
    unreadable: pl.DataFrame = field(default_factory=pl.DataFrame)


@dataclass
class FileSource:
    """Pages from the files under the input folders, skipping those the manifest has loaded
    as they are; it keeps the file manifest and the quarantine rows of the files."""

    settings: Settings
    kind: str = "ingest"
    discovery: extract.Discovery | None = None
    to_read: pl.DataFrame = field(default_factory=pl.DataFrame)
    # The pages loaded before (source_path, sha256, parser_version).
    loaded: pl.DataFrame = field(default_factory=pl.DataFrame)
    manifests: list[pl.DataFrame] = field(default_factory=list)
    rejected: list[pl.DataFrame] = field(default_factory=list)

    def discover(self, summary: RunSummary) -> None:
        with summary.timing("discover"):
            self.discovery = discover_task(self.settings)
        summary.sources = self.settings.source_names

    def count(self, writer: Writer, summary: RunSummary) -> int:
        assert self.discovery is not None
        writer.adopt_unnamed(self.discovery.files)
        known = writer.known_files()
        # Files whose size and time match the manifest are not even opened.
        self.to_read, unchanged = extract.split_unchanged(
            self.discovery.files, known, parse.PARSER_VERSION
        )
        self.loaded = known.filter(pl.col("loaded_sha256").is_not_null()).select(
            "source", "source_path", sha256="loaded_sha256", parser_version="parser_version"
        )
        self.manifests = [_unchanged_manifest(summary.run_id, unchanged, known)]
        self.rejected = [self.discovery.rejects]
        summary.files_unchanged += unchanged.height
        return self.to_read.height

    def batches(self, writer: Writer, summary: RunSummary) -> Iterator[FileBatch]:
        size = self.settings.batch_size
        for offset in range(0, self.to_read.height, size):
            files = self.to_read.slice(offset, size)
            with summary.timing("read"):
                read, unreadable = read_task(files, self.settings)
            # Read again but the same bytes (touched, copied back): nothing to parse.
            changed = extract.drop_unchanged(read, self.loaded, parse.PARSER_VERSION)
            name = batch_name(summary.run_id, offset, size)
            yield FileBatch(name, files.height, changed, read, unreadable)

    def record(self, batch: FileBatch, result: LoadedBatch, summary: RunSummary) -> None:
        unparsable = _unparsable_rows(result.unparsable, self.loaded)
        self.rejected.extend([batch.unreadable, unparsable, result.failed])
        set_aside = pl.concat(
            [
                result.unparsable.select("source", "source_path", "sha256"),
                result.failed.select("source", "source_path", "sha256"),
            ]
        )
        self.manifests.append(
            _manifest(summary.run_id, batch.read, batch.pages, batch.unreadable, set_aside)
        )
        summary.files_loaded += result.loaded
        summary.files_unchanged += batch.read.height - batch.pages.height

    def finish(self, summary: RunSummary) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Every file seen must be loaded, unchanged, quarantined or ignored."""
        assert self.discovery is not None
        quarantine = pl.concat(self.rejected, how="vertical_relaxed")
        summary.files_ignored = self.discovery.ignored
        summary.files_seen = (
            self.discovery.files.height + self.discovery.rejects.height + self.discovery.ignored
        )
        accounted = (
            summary.files_loaded
            + summary.files_unchanged
            + quarantine.height
            + summary.files_ignored
        )
        if accounted != summary.files_seen:
            raise RuntimeError(f"{summary.files_seen} files seen but {accounted} accounted for")
        return pl.concat(self.manifests), quarantine


PARSE_TIMEOUT_MESSAGE = (
    "Parsing this page took longer than its time budget (NEWSFLOW_PARSE_TIMEOUT) and was "
    "stopped; rows of a version loaded before are kept. Check the file (`newsflow explain` "
    "shows how it splits) and report it if it is a real page."
)


def _unparsable_rows(unparsable: pl.DataFrame, loaded: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows for pages the parser made nothing of or ran out of time on, saying
    whether rows of an earlier version of the page stay in the warehouse."""
    had_rows = pl.struct("source", "source_path").is_in(
        loaded.select(pl.struct("source", "source_path")).to_series().implode()
    )
    return unparsable.select(
        "source_path",
        "reason",
        message=pl.when(pl.col("reason") == "parse_timeout")
        .then(pl.lit(PARSE_TIMEOUT_MESSAGE))
        .when(had_rows)
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
        source="source",
    )


def _unchanged_manifest(run_id: str, unchanged: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """source_file rows for the files skipped on their size and time: seen, as they were."""
    return (
        unchanged.join(
            known.select("source", "source_path", "sha256"),
            on=["source", "source_path"],
            how="left",
        )
        .select(
            "source",
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
    key = pl.struct("source", "source_path")

    def among(frame: pl.DataFrame) -> pl.Expr:
        return key.is_in(frame.select(key).to_series().implode())

    status = (
        pl.when(among(unparsable))
        .then(pl.lit("quarantined"))
        .when(among(changed))
        .then(pl.lit("loaded"))
        .otherwise(pl.lit("unchanged"))
    )
    read = pages.select(
        "source", "source_path", "size_bytes", "modified_at", "sha256", status=status
    )
    not_read = unreadable.select(
        "source",
        "source_path",
        "size_bytes",
        modified_at=pl.lit(None, dtype=pl.Datetime("us")),
        sha256="sha256",
        status=pl.lit("quarantined"),
    )
    return pl.concat([read, not_read]).with_columns(
        first_seen_run=pl.lit(run_id), last_seen_run=pl.lit(run_id)
    )
