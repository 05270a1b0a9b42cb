"""The `newsflow` command line."""

import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from flows.settings import DEFAULT_BATCH_SIZE, DEFAULT_WAREHOUSE, SAMPLE_INPUT
from flows.teardown import silence_teardown_noise

if TYPE_CHECKING:
    # The flows import Prefect, which takes seconds: only commands that run one pay for it.
    from flows.ingest import RunSummary

app = typer.Typer(
    help="Turn folders of scraped news pages into a DuckDB analytics warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
# "Try again later" (sysexits EX_TEMPFAIL): another run holds the warehouse's writer lock.
EXIT_BUSY = 75
# A file given on the command line cannot be used (as for a bad argument).
EXIT_USAGE = 2

WarehouseOption = Annotated[
    Path, typer.Option("--warehouse", "-w", help="DuckDB file to publish to.")
]
BatchSizeOption = Annotated[
    int,
    typer.Option(
        min=1, envvar="NEWSFLOW_BATCH_SIZE", help="Page files read, parsed and validated together."
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
    TaskRunnerName,
    typer.Option(
        "--task-runner",
        help="Where pages are parsed and entities extracted: default (here, on "
        "NEWSFLOW_PARSE_WORKERS processes) or dask (on a Dask cluster). Validating and "
        "loading stay here either way.",
        envvar="NEWSFLOW_TASK_RUNNER",
    ),
]
DaskAddressOption = Annotated[
    str | None,
    typer.Option(
        "--dask-address",
        help="Scheduler of a running Dask cluster (tcp://host:8786), for --task-runner dask. "
        "Default: a temporary local cluster of NEWSFLOW_PARSE_WORKERS processes.",
        envvar="NEWSFLOW_DASK_ADDRESS",
        show_default=False,
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's log lines.")]
DebugOption = Annotated[bool, typer.Option(help="On failure, show the full traceback.")]


@app.callback()
def main() -> None:
    """newsflow: scraped news pages in, a DuckDB warehouse out."""


@app.command()
def run(
    input_dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--input",
            "-i",
            help="Folder of page files, searched recursively. Repeat for several "
            "folders. Default: the bundled sample pages.",
            show_default=False,
        ),
    ] = None,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    pattern: Annotated[
        str,
        typer.Option(
            help="File names that are pages (a glob); other files are counted as ignored.",
            envvar="NEWSFLOW_PATTERN",
        ),
    ] = "*.txt",
    batch_size: BatchSizeOption = DEFAULT_BATCH_SIZE,
    wait: WaitOption = False,
    task_runner: TaskRunnerOption = TaskRunnerName.default,
    dask_address: DaskAddressOption = None,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Ingest new and changed page files: parse, extract entities, validate, and publish."""
    _check_task_runner(task_runner, dask_address)
    inputs = input_dirs or [SAMPLE_INPUT]
    for folder in inputs:
        if not folder.is_dir():
            _fail(f"input folder {folder} does not exist or is not a folder")
    _refuse_if_busy(warehouse, wait)
    _quiet_prefect(verbose)
    _require_server_for_dask_address(dask_address)
    from flows.ingest import ingest

    summary = _run_flow(
        lambda: ingest(
            inputs=[str(folder) for folder in inputs],
            warehouse=str(warehouse),
            batch_size=batch_size,
            pattern=pattern,
            wait=wait,
            task_runner=task_runner.value,
            dask_address=dask_address,
        ),
        debug,
    )
    _print_summary(
        summary,
        [
            ("files seen", summary.files_seen),
            ("  loaded", summary.files_loaded),
            ("  unchanged", summary.files_unchanged),
            ("  quarantined", summary.files_quarantined),
            ("  ignored (not page files)", summary.files_ignored),
            ("files missing (rows kept)", summary.files_missing),
        ],
    )


@app.command()
def reparse(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    batch_size: BatchSizeOption = DEFAULT_BATCH_SIZE,
    wait: WaitOption = False,
    task_runner: TaskRunnerOption = TaskRunnerName.default,
    dask_address: DaskAddressOption = None,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Rebuild articles, comments and mentions from the page text stored in the warehouse,
    with the current parser and gazetteer. Needs no input files."""
    _check_task_runner(task_runner, dask_address)
    if not warehouse.exists():
        _fail(f"no warehouse at {warehouse}; run `newsflow run` first")
    _refuse_if_busy(warehouse, wait)
    _quiet_prefect(verbose)
    _require_server_for_dask_address(dask_address)
    from flows.reparse import reparse as reparse_flow

    summary = _run_flow(
        lambda: reparse_flow(
            warehouse=str(warehouse),
            batch_size=batch_size,
            wait=wait,
            task_runner=task_runner.value,
            dask_address=dask_address,
        ),
        debug,
    )
    _print_summary(
        summary,
        [
            ("pages parsed again", summary.pages_reparsed),
            ("  kept as they were", summary.files_quarantined),
        ],
    )


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
    input_dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--input",
            "-i",
            help="Folder of page files, searched recursively. Repeat for several "
            "folders. Default: the bundled sample pages.",
            show_default=False,
        ),
    ] = None,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Run `ingest` on a schedule as the Prefect deployment ingest/scheduled, until stopped.

    Needs a Prefect server (`prefect server start`) and PREFECT_API_URL pointing at it.
    """
    from flows.serve import Schedule, ServerUnavailableError, serve_ingest

    if (cron is None) == (interval is None):
        _fail("give either --cron EXPR or --interval SECONDS")
    inputs = input_dirs or [SAMPLE_INPUT]
    for folder in inputs:
        if not folder.is_dir():
            _fail(f"input folder {folder} does not exist or is not a folder")
    silence_teardown_noise()
    try:
        serve_ingest(Schedule(cron=cron, interval=interval), inputs, warehouse)
    except (ServerUnavailableError, ValueError) as error:
        _fail(str(error))


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


def _check_task_runner(task_runner: TaskRunnerName, dask_address: str | None) -> None:
    if dask_address and task_runner is not TaskRunnerName.dask:
        _fail("--dask-address (or NEWSFLOW_DASK_ADDRESS) needs --task-runner dask")


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
    from flows.load import WarehouseBusyError, WriterLock

    try:
        with WriterLock(warehouse):
            pass
    except WarehouseBusyError as error:
        _fail(str(error), code=EXIT_BUSY)


def _quiet_prefect(verbose: bool) -> None:
    if not verbose:
        # Failures are reported below in one line; Prefect would print a traceback.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    silence_teardown_noise()


def _run_flow(start: Callable[[], "RunSummary"], debug: bool) -> "RunSummary":
    from flows.load import WarehouseBusyError

    try:
        with console.status("Starting Prefect and the data-quality gate…"):
            return start()
    except WarehouseBusyError as error:
        if debug:
            raise
        _fail(str(error), code=EXIT_BUSY)
    except Exception as error:
        if debug:
            raise
        _fail(str(error))
    raise AssertionError("unreachable")


def _print_summary(summary: "RunSummary", files: list[tuple[str, int]]) -> None:
    from flows.ingest import stage_times  # imported already by the run that made `summary`

    table = Table(title=f"newsflow {summary.kind} run {summary.run_id}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows: list[tuple[str, int | str]] = [
        *files,
        ("articles", summary.articles),
        ("comments", summary.comments),
        ("entities mentioned", summary.entities),
        ("entity mentions", summary.mentions),
        ("data quality", f"{summary.dq_result} ({summary.rules_checked} rules)"),
        ("run time", f"{summary.seconds:.1f} s"),
    ]
    for label, value in rows:
        table.add_row(label, f"{value:,}" if isinstance(value, int) else value)
    Console().print(table)
    console.print(f"time by stage: {stage_times(summary)}", highlight=False)
    for reason, count in sorted(summary.quarantine_reasons.items()):
        console.print(f"quarantined as {reason}: {count} (see the quarantine table)")
    console.print(f"warehouse: {summary.warehouse}")
    console.print(f"data-quality results: dq_result table; Data Docs: {summary.data_docs}")


def _fail(reason: str, code: int = 1) -> NoReturn:
    console.print(f"[red]newsflow: {reason}[/red]", highlight=False, soft_wrap=True)
    raise typer.Exit(code=code)
