"""What a run did, laid out once for the command line and the Prefect run report."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RunSummary:
    """What a published run did, for the command line and the logs."""

    run_id: str
    warehouse: Path
    kind: str = "ingest"
    # The crawls (sources) the run read, by name.
    sources: tuple[str, ...] = ()
    files_seen: int = 0
    files_loaded: int = 0
    files_unchanged: int = 0
    files_quarantined: int = 0
    files_ignored: int = 0
    files_missing: int = 0
    pages_reparsed: int = 0
    # Articles an older parser made whose files the run did not read again.
    stale_pages: int = 0
    articles: int = 0
    comments: int = 0
    entities: int = 0
    mentions: int = 0
    rules_checked: int = 0
    dq_result: str = "passed"
    seconds: float = 0.0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    data_docs: Path | None = None
    # Warning rules that missed their threshold (suite.column: expectation).
    broken_warnings: list[str] = field(default_factory=list)
    # What went wrong without failing the run (for example Data Docs it could not write).
    warnings: list[str] = field(default_factory=list)
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

    def add_totals(self, totals: dict[str, int]) -> None:
        """Take the warehouse totals the published run recorded."""
        self.articles = totals["articles"]
        self.comments = totals["comments"]
        self.entities = totals["entities"]
        self.mentions = totals["mentions"]
        self.files_missing = totals["files_missing"]


def figures(summary: RunSummary) -> list[tuple[str, str]]:
    """The run's figures, label and value, in the order both reports show them."""
    if summary.kind == "reparse":
        files = [
            ("pages parsed again", summary.pages_reparsed),
            ("  kept as they were", summary.files_quarantined),
        ]
    else:
        files = [
            ("files seen", summary.files_seen),
            ("  loaded", summary.files_loaded),
            ("  unchanged", summary.files_unchanged),
            ("  quarantined", summary.files_quarantined),
            ("  ignored (not page files)", summary.files_ignored),
            ("files missing (rows kept)", summary.files_missing),
        ]
    return [
        *((label, f"{value:,}") for label, value in files),
        ("articles", f"{summary.articles:,}"),
        ("comments", f"{summary.comments:,}"),
        ("entities mentioned", f"{summary.entities:,}"),
        ("entity mentions", f"{summary.mentions:,}"),
        ("data quality", f"{summary.dq_result} ({summary.rules_checked} rules)"),
        ("run time", f"{summary.seconds:.1f} s"),
    ]


def notes(summary: RunSummary) -> list[tuple[str, str]]:
    """Where the time went, why files were set aside, and where to look next."""
    return [
        ("time by stage", stage_times(summary)),
        *(("warning rule broken", rule) for rule in summary.broken_warnings),
        *(
            (f"quarantined as {reason}", f"{count:,} (see the quarantine table)")
            for reason, count in sorted(summary.quarantine_reasons.items())
        ),
        *(
            [
                (
                    "parsed by an older parser",
                    f"{summary.stale_pages:,} pages whose files this run did not read; run "
                    "`newsflow reparse` to parse them with this version",
                )
            ]
            if summary.stale_pages
            else []
        ),
        ("warehouse", str(summary.warehouse)),
        *([("Data Docs", str(summary.data_docs))] if summary.data_docs else []),
        *(("warning", warning) for warning in summary.warnings),
    ]


def title(summary: RunSummary) -> str:
    return f"newsflow {summary.kind} run {summary.run_id}"


def stage_times(summary: RunSummary) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in summary.stage_seconds.items())
