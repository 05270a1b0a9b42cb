"""The `newsflow` command line."""

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flows.settings import DEFAULT_WAREHOUSE, SAMPLE_INPUT
from flows.teardown import silence_teardown_noise

app = typer.Typer(
    help="Turn folders of scraped news pages into a DuckDB analytics warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


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
            help="Folder of page files (*.txt), searched recursively. Repeat for several "
            "folders. Default: the bundled sample pages.",
            show_default=False,
        ),
    ] = None,
    warehouse: Annotated[
        Path,
        typer.Option("--warehouse", "-w", help="DuckDB file to publish to."),
    ] = DEFAULT_WAREHOUSE,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Page files read, parsed and validated together.")
    ] = 500,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's log lines.")
    ] = False,
    debug: Annotated[bool, typer.Option(help="On failure, show the full traceback.")] = False,
) -> None:
    """Ingest page files: parse, extract entities, validate, and publish the warehouse."""
    inputs = input_dirs or [SAMPLE_INPUT]
    for folder in inputs:
        if not folder.is_dir():
            _fail(f"input folder {folder} does not exist or is not a folder")
    if not verbose:
        # Failures are reported below in one line; Prefect would print a traceback.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")

    silence_teardown_noise()
    from flows.ingest import ingest

    try:
        with console.status("Starting Prefect and the data-quality gate…"):
            summary = ingest(
                inputs=[str(folder) for folder in inputs],
                warehouse=str(warehouse),
                batch_size=batch_size,
            )
    except Exception as error:
        if debug:
            raise
        _fail(str(error))

    table = Table(title=f"newsflow run {summary.run_id}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows: list[tuple[str, int | str]] = [
        ("files seen", summary.files_seen),
        ("  loaded", summary.files_loaded),
        ("  unchanged", summary.files_unchanged),
        ("  quarantined", summary.files_quarantined),
        ("  ignored (not page files)", summary.files_ignored),
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
    for reason, count in sorted(summary.quarantine_reasons.items()):
        console.print(f"quarantined as {reason}: {count} (see the quarantine table)")
    console.print(f"warehouse: {summary.warehouse}")
    console.print(f"data-quality results: dq_result table; Data Docs: {summary.data_docs}")


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
            help="Folder of page files (*.txt), searched recursively. Repeat for several "
            "folders. Default: the bundled sample pages.",
            show_default=False,
        ),
    ] = None,
    warehouse: Annotated[
        Path,
        typer.Option("--warehouse", "-w", help="DuckDB file to publish to."),
    ] = DEFAULT_WAREHOUSE,
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


def _fail(reason: str) -> None:
    console.print(f"[red]newsflow: {reason}[/red]", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)
