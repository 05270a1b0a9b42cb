"""The `newsflow` command line."""

import os
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from flows.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PATTERN,
    DEFAULT_WAREHOUSE,
    Settings,
    SettingsError,
    resolve,
)
from flows.teardown import silence_teardown_noise

if TYPE_CHECKING:
    # The flows import Prefect, which takes seconds: only commands that run one pay for it.
    from flows.summary import RunSummary

app = typer.Typer(
    help="Turn folders of scraped news pages into a DuckDB analytics warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
# When the command started: a run's time counts from here, not from when its flow began.
COMMAND_STARTED = time.perf_counter()
# "Try again later" (sysexits EX_TEMPFAIL): another run holds the warehouse's writer lock.
EXIT_BUSY = 75
# A file given on the command line cannot be used (as for a bad argument).
EXIT_USAGE = 2

# Every option defaults to None: `flows.settings.resolve` then takes its NEWSFLOW_* variable,
# else the default, in one place for the command line and the flows.
InputOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--input",
        "-i",
        help="Folder of page files, searched recursively. Repeat for several folders. "
        "Default: NEWSFLOW_INPUT, else the bundled sample pages.",
        show_default=False,
    ),
]
SourceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--source",
        "-s",
        help="Name of the crawl each --input folder holds, in the same order (one per folder). "
        "A page is its crawl and its path in the folder: the same path in another crawl is "
        "another page. Default: NEWSFLOW_SOURCE, else each folder's own name.",
        show_default=False,
    ),
]
WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        "-w",
        help=f"DuckDB file to publish to. Default: NEWSFLOW_WAREHOUSE, else {DEFAULT_WAREHOUSE}.",
        show_default=False,
    ),
]
BatchSizeOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Page files read, parsed and validated together. Default: NEWSFLOW_BATCH_SIZE, "
        f"else {DEFAULT_BATCH_SIZE:,}.",
        show_default=False,
    ),
]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="When another run is writing the warehouse, wait for it to finish instead of "
        f"exiting at once with code {EXIT_BUSY}.",
    ),
]


class TaskRunnerName(StrEnum):
    default = "default"
    dask = "dask"


TaskRunnerOption = Annotated[
    TaskRunnerName | None,
    typer.Option(
        "--task-runner",
        help="Where pages are parsed and entities extracted: default (here, on "
        "NEWSFLOW_PARSE_WORKERS processes) or dask (on a Dask cluster). Validating and "
        "loading stay here either way. Default: NEWSFLOW_TASK_RUNNER, else default.",
        show_default=False,
    ),
]
DaskAddressOption = Annotated[
    str | None,
    typer.Option(
        "--dask-address",
        help="Scheduler of a running Dask cluster (tcp://host:8786), for --task-runner dask. "
        "Default: NEWSFLOW_DASK_ADDRESS, else a temporary local cluster of "
        "NEWSFLOW_PARSE_WORKERS processes.",
        show_default=False,
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's log lines.")]
DebugOption = Annotated[bool, typer.Option(help="On failure, show the full traceback.")]


@app.callback()
def main() -> None:
    """newsflow: scraped news pages in, a DuckDB warehouse out."""


PatternOption = Annotated[
    str | None,
    typer.Option(
        help="File names that are pages (a glob); other files are counted as ignored. "
        f"Default: NEWSFLOW_PATTERN, else {DEFAULT_PATTERN}.",
        show_default=False,
    ),
]


@app.command()
def run(
    input_dirs: InputOption = None,
    source: SourceOption = None,
    warehouse: WarehouseOption = None,
    pattern: PatternOption = None,
    batch_size: BatchSizeOption = None,
    wait: WaitOption = False,
    task_runner: TaskRunnerOption = None,
    dask_address: DaskAddressOption = None,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Ingest new and changed page files: parse, extract entities, validate, and publish."""
    settings = _settings(
        inputs=input_dirs,
        source_names=source,
        warehouse=warehouse,
        pattern=pattern,
        batch_size=batch_size,
        task_runner=None if task_runner is None else task_runner.value,
        dask_address=dask_address,
    )
    _check(settings.require_inputs)
    _before_flow_run(settings, wait, verbose)
    from flows.ingest import ingest

    summary = _run_flow(
        lambda: ingest(
            inputs=[str(folder) for folder in settings.inputs],
            sources=list(settings.source_names),
            warehouse=str(settings.warehouse),
            batch_size=settings.batch_size,
            pattern=settings.pattern,
            wait=wait,
            task_runner=settings.task_runner,
            dask_address=settings.dask_address,
        ),
        debug,
    )
    _print_summary(summary)


@app.command()
def reparse(
    warehouse: WarehouseOption = None,
    batch_size: BatchSizeOption = None,
    wait: WaitOption = False,
    task_runner: TaskRunnerOption = None,
    dask_address: DaskAddressOption = None,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Rebuild articles, comments and mentions from the page text stored in the warehouse,
    with the current parser and gazetteer. Needs no input files."""
    settings = _settings(
        warehouse=warehouse,
        batch_size=batch_size,
        task_runner=None if task_runner is None else task_runner.value,
        dask_address=dask_address,
    )
    _check(settings.require_warehouse)
    _before_flow_run(settings, wait, verbose)
    from flows.reparse import reparse as reparse_flow

    summary = _run_flow(
        lambda: reparse_flow(
            warehouse=str(settings.warehouse),
            batch_size=settings.batch_size,
            wait=wait,
            task_runner=settings.task_runner,
            dask_address=settings.dask_address,
        ),
        debug,
    )
    _print_summary(summary)


@app.command()
def prune(
    warehouse: WarehouseOption = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            help="Only pages of this crawl (repeat for several). Default: every crawl.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the pages that would go; remove nothing.")
    ] = False,
    wait: WaitOption = False,
) -> None:
    """Remove the pages whose files are gone (source_file.status missing: the latest run that
    read their crawl did not find them), with their comments and mentions. Publishes like a
    run: all or nothing."""
    from flows.prune import PruneCheckError, missing_pages
    from flows.prune import prune as prune_pages
    from flows.warehouse import WarehouseBusyError, WarehouseStorageError

    settings = _settings(warehouse=warehouse)
    _check(settings.require_warehouse)
    sources = tuple(source or ())
    try:
        if dry_run:
            found = missing_pages(settings.warehouse, sources)
        else:
            found = prune_pages(settings.warehouse, sources, wait)
    except WarehouseBusyError as error:
        _fail(str(error), code=EXIT_BUSY)
    except (PruneCheckError, WarehouseStorageError) as error:
        _fail(str(error))
    table = Table("source", "path", "title", "last seen by run")
    for row in found.pages.iter_rows(named=True):
        table.add_row(row["source"], row["source_path"], row["title"] or "", row["last_seen_run"])
    if found.pages.height:
        Console().print(table)
    verb = "would be removed (dry run)" if dry_run else f"removed by run {found.run_id}"
    console.print(f"{found.pages.height:,} pages whose files are gone {verb}", highlight=False)


@app.command()
def serve(
    cron: Annotated[
        str | None,
        typer.Option(help='When to run, as a cron expression, e.g. "0 * * * *" (hourly).'),
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option(min=1, help="Or: run every this many seconds."),
    ] = None,
    input_dirs: InputOption = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Run `ingest` on a schedule as the Prefect deployment ingest/scheduled, until stopped.

    Needs a Prefect server (`prefect server start`) and PREFECT_API_URL pointing at it.
    """
    from flows.serve import Schedule, ServerUnavailableError, serve_ingest

    if (cron is None) == (interval is None):
        _fail("give either --cron EXPR or --interval SECONDS")
    settings = _settings(inputs=input_dirs, warehouse=warehouse)
    _check(settings.require_inputs)
    silence_teardown_noise()
    try:
        serve_ingest(
            Schedule(cron=cron, interval=interval), list(settings.inputs), settings.warehouse
        )
    except (ServerUnavailableError, ValueError) as error:
        _fail(str(error))


@app.command()
def server(
    port: Annotated[int, typer.Option(help="Loopback port of the server.")] = 4200,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the background server.")] = False,
) -> None:
    """Start a Prefect server in the background (loopback only) that later `newsflow run` and
    `reparse` commands use, instead of starting a temporary one each (15 to 30 s)."""
    from flows import server as background

    try:
        if stop:
            background.stop()
            console.print("newsflow: the background Prefect server is stopped", highlight=False)
            return
        with console.status("Starting a Prefect server in the background…"):
            api_url = background.start(port)
    except background.ServerError as error:
        _fail(str(error))
    console.print(
        f"newsflow: a Prefect server runs at {api_url.removesuffix('/api')}; `newsflow run` "
        f"and `newsflow reparse` use it (stop it with `newsflow server --stop`)",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def explain(
    files: Annotated[
        list[Path],
        typer.Argument(help="Page files to explain.", show_default=False),
    ],
    plain: Annotated[
        bool, typer.Option("--plain", help="Plain text without colour or table lines.")
    ] = False,
) -> None:
    """Show how each page is split: every line with the role it got (title, body, comment
    with its author and depth, chrome, unsplit, ...), the layout, flags and confidence."""
    # Parsing alone: no Prefect, no warehouse.
    from flows.explain import ExplainError, explain_file, render_plain, render_table

    out = Console(highlight=False)
    failed = False
    for path in files:
        try:
            explanation = explain_file(path)
        except ExplainError as error:
            console.print(f"newsflow: {error}", highlight=False, soft_wrap=True, markup=False)
            failed = True
            continue
        if plain:
            out.out(render_plain(explanation), end="", highlight=False)
        else:
            out.print(render_table(explanation))
    if failed:
        raise typer.Exit(code=EXIT_USAGE)


@app.command()
def report(
    warehouse: WarehouseOption = None,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="HTML file to write."),
    ] = Path("report.html"),
) -> None:
    """Write one self-contained HTML report (charts and tables over the marts) that opens in
    a browser with no network: crawl months, entities, commenters, stories, repeated
    comments and the data quality of recent runs."""
    settings = _settings(warehouse=warehouse)
    _check(settings.require_warehouse)
    from flows.report import write_report

    written = _readonly(lambda: write_report(settings.warehouse, output))
    console.print(f"report: {written}", highlight=False, soft_wrap=True)


@app.command()
def export(
    parquet: Annotated[
        Path,
        typer.Option(
            help="Folder to write the Parquet files to (one sub-folder per table).",
            show_default=False,
        ),
    ],
    warehouse: WarehouseOption = None,
) -> None:
    """Export every table and mart as Parquet, those of articles partitioned by crawl month
    (month=YYYY-MM folders), for Spark, Trino, Dask, polars or a DuckLake catalog."""
    settings = _settings(warehouse=warehouse)
    _check(settings.require_warehouse)
    from flows.export import export_parquet

    written = _readonly(lambda: export_parquet(settings.warehouse, parquet))
    console.print(
        f"exported {len(written)} tables and views, {sum(written.values()):,} rows, to {parquet}",
        highlight=False,
        soft_wrap=True,
    )


def _readonly(read: Callable[[], Any]) -> Any:
    """Run `read` on the warehouse, and fail in one line when DuckDB cannot open it."""
    import duckdb

    try:
        return read()
    except (duckdb.Error, OSError) as error:
        _fail(str(error).splitlines()[0])


def _settings(**given: Any) -> Settings:
    """The command's settings: its options, else NEWSFLOW_* variables, else the defaults."""
    try:
        return resolve(**given)
    except SettingsError as error:
        _fail(str(error))


def _check(requirement: Callable[[], None]) -> None:
    """Fail in one line, before Prefect starts, when a setting names a missing file."""
    try:
        requirement()
    except OSError as error:
        _fail(str(error))


def _require_server_for_dask_address(dask_address: str | None) -> None:
    """Workers of a cluster started elsewhere report their task runs to PREFECT_API_URL: the
    temporary server Prefect starts inside this process is out of their reach."""
    if not dask_address:
        return
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        _fail(
            "--dask-address needs a Prefect server the Dask workers can reach: start "
            "`prefect server start` and set PREFECT_API_URL, here and on the workers"
        )


def _refuse_if_busy(warehouse: Path, wait: bool) -> None:
    """Say at once, before Prefect starts, that another run is writing the warehouse.

    The flow still takes the writer lock itself (scheduled runs have no CLI); this early look
    only spares the user Prefect's start-up and its shutdown chatter after the message.
    """
    if wait:
        return
    from flows.warehouse import WarehouseBusyError, WriterLock, storage_error

    try:
        with WriterLock(warehouse):
            pass
    except WarehouseBusyError as error:
        _fail(str(error), code=EXIT_BUSY)
    except OSError as error:
        _fail(str(storage_error(error, warehouse) or error))


def _before_flow_run(settings: Settings, wait: bool, verbose: bool) -> None:
    """What `run` and `reparse` check and set up before their flow starts."""
    _refuse_if_busy(settings.warehouse, wait)
    _reuse_server()
    _quiet_prefect(verbose)
    _require_server_for_dask_address(settings.dask_address)


def _reuse_server() -> None:
    """Use the server `newsflow server` started, when PREFECT_API_URL names none."""
    from flows.server import use_running_server

    use_running_server()


def _quiet_prefect(verbose: bool) -> None:
    if not verbose:
        # Failures are reported below in one line; Prefect would print a traceback. Only the
        # console is quieted: the run's logs still reach the Prefect server.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    silence_teardown_noise()


def _run_flow(start: Callable[[], "RunSummary"], debug: bool) -> "RunSummary":
    from flows.warehouse import WarehouseBusyError

    try:
        with console.status("Starting Prefect and the data-quality gate…"):
            summary = start()
        return _with_start_up(summary)
    except WarehouseBusyError as error:
        if debug:
            raise
        _fail(str(error), code=EXIT_BUSY)
    except Exception as error:
        if debug:
            raise
        _fail(str(error))
    raise AssertionError("unreachable")


def _with_start_up(summary: "RunSummary") -> "RunSummary":
    """The run time as the user waited for it: from the command's start, Prefect's start-up
    (a temporary server: seconds) and its wrap-up of the flow run included, shown as a stage
    of their own."""
    waited = time.perf_counter() - COMMAND_STARTED
    # The run's own time (summary.seconds) ends where its report begins.
    start_up = max(0.0, waited - summary.seconds - summary.stage_seconds.get("report", 0.0))
    summary.stage_seconds = {"start-up": start_up, **summary.stage_seconds}
    summary.seconds = waited
    return summary


def _print_summary(summary: "RunSummary") -> None:
    from flows.summary import figures, notes, title

    table = Table(title=title(summary), show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for label, value in figures(summary):
        table.add_row(label, value)
    Console().print(table)
    for label, value in notes(summary):
        console.print(f"{label}: {value}", highlight=False)


def _fail(reason: str, code: int = 1) -> NoReturn:
    console.print(f"[red]newsflow: {reason}[/red]", highlight=False, soft_wrap=True)
    raise typer.Exit(code=code)
