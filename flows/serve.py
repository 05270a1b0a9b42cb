"""Serve the `ingest` flow as a scheduled deployment on the Prefect server PREFECT_API_URL names."""

from dataclasses import dataclass
from pathlib import Path

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

# The deployment is `ingest/scheduled` whether `newsflow serve` or `prefect deploy` (prefect.yaml)
# creates it; both give it the same schedule, parameters and concurrency limit.
DEPLOYMENT_NAME = "scheduled"
TAGS = ["newsflow"]
# One run writes the warehouse at a time: a run that comes due while another is running is
# skipped (Cancelled, "Deployment concurrency limit reached."). Runs are incremental, so the
# next one picks up whatever the skipped one would have; queueing them (ENQUEUE) would pile up
# a backlog whenever runs take longer than the interval. newsflow's writer lock guards the file
# against writers outside Prefect as well.
ONE_WRITER = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


class ServerUnavailableError(Exception):
    """No Prefect server that can schedule runs answers."""


@dataclass(frozen=True)
class Schedule:
    """When the deployment runs: a cron expression or an interval in seconds, not both."""

    cron: str | None = None
    interval: float | None = None

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.interval is None):
            raise ValueError("give either a cron expression or an interval, not both")
        if self.interval is not None and self.interval <= 0:
            raise ValueError("the interval must be a positive number of seconds")
        if self.cron is not None:
            from prefect.client.schemas.schedules import CronSchedule

            try:
                CronSchedule(cron=self.cron)
            except ValueError:
                raise ValueError(
                    f"{self.cron!r} is not a cron expression; write five fields, "
                    'e.g. "0 * * * *" for hourly'
                ) from None

    def describe(self) -> str:
        return f"cron {self.cron!r}" if self.cron else f"every {self.interval:g} s"


def api_url() -> str:
    """The Prefect API URL to serve against, or why there is none.

    Without PREFECT_API_URL, Prefect starts a temporary server inside the process, which
    never fires scheduled runs: refuse instead of serving a schedule that does nothing.
    """
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise ServerUnavailableError(
            "PREFECT_API_URL is not set: start a server with `prefect server start` and "
            "export PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    return url


def check_server(url: str) -> None:
    """Raise ServerUnavailableError unless the Prefect server at `url` answers its health check."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    if error is not None:
        raise ServerUnavailableError(
            f"no Prefect server answers at {url} ({type(error).__name__}); "
            "start one with `prefect server start`, or fix PREFECT_API_URL"
        )


def parameters(inputs: list[Path], warehouse: Path) -> dict[str, object]:
    """The `ingest` parameters of every scheduled run, as absolute paths: the runs start in
    their own processes, whose working folder may differ. A scheduled run waits for a writer
    started by hand (`newsflow run`) instead of failing."""
    return {
        "inputs": [str(folder.resolve()) for folder in inputs],
        "warehouse": str(warehouse.resolve()),
        "wait": True,
    }


def serve_ingest(schedule: Schedule, inputs: list[Path], warehouse: Path) -> None:
    """Create or update the deployment `ingest/scheduled` and run its scheduled runs, each in
    its own process, until interrupted (Ctrl-C or SIGTERM); the schedule is paused on exit."""
    check_server(api_url())
    from flows.ingest import ingest

    ingest.serve(
        name=DEPLOYMENT_NAME,
        cron=schedule.cron,
        interval=schedule.interval,
        parameters=parameters(inputs, warehouse),
        global_limit=ONE_WRITER,
        tags=TAGS,
        description=f"newsflow ingest {schedule.describe()}, one run at a time.",
    )
