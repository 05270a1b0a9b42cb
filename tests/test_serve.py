"""Scheduled runs on a real `prefect server start`: `newsflow serve`, and `prefect deploy`.

One server for the module (on a free loopback port, with a temporary PREFECT_HOME); one
`newsflow serve --interval 5` session whose runs the tests below read through the Prefect
REST API. Everything started here runs in its own process group and is killed at the end.
"""

import hashlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from flows.serve import DEPLOYMENT_NAME, ONE_WRITER, TAGS
from flows.settings import PROJECT_ROOT, SAMPLE_INPUT

BIN = Path(sys.executable).parent
INTERVAL_SECONDS = 5
# Each run takes 20-30 s on a busy 2-core machine (a fresh process imports Prefect, polars
# and GX); the scenario (three runs) must end inside this.
SCENARIO_TIMEOUT = 180
PAGES = sorted(SAMPLE_INPUT.glob("*.txt"))

pytestmark = pytest.mark.real_prefect_server


@dataclass
class Server:
    url: str
    home: Path
    log: Path
    start_seconds: float

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "COLUMNS": "120",
        }

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.url}{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.url}{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def deployment(self) -> dict[str, Any]:
        return self.get(f"/deployments/name/ingest/{DEPLOYMENT_NAME}")

    def flow_runs(self, deployment_id: str) -> list[dict[str, Any]]:
        return self.post(
            "/flow_runs/filter",
            {
                "deployments": {"id": {"any_": [deployment_id]}},
                "sort": "EXPECTED_START_TIME_ASC",
                "limit": 200,
            },
        )

    def logs(self, flow_run_id: str) -> str:
        rows = self.post(
            "/logs/filter",
            {"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "sort": "TIMESTAMP_ASC"},
        )
        return "\n".join(row["message"] for row in rows)

    def run_reports(self, flow_run_ids: list[str]) -> dict[str, str]:
        artifacts = self.post(
            "/artifacts/filter",
            {
                "artifacts": {
                    "key": {"any_": ["newsflow-run-report"]},
                    "flow_run_id": {"any_": flow_run_ids},
                }
            },
        )
        return {a["flow_run_id"]: a["data"] for a in artifacts}


@dataclass
class Scenario:
    """What happened while `newsflow serve` ran: the moments pages were added and the input
    folder was taken away, and every flow run of the deployment at the end."""

    warehouse: Path
    serve_log: Path
    second_page_added: datetime | None = None
    folder_removed: datetime | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    warehouse_sha256_after_last_success: str | None = None

    def completed(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["state_type"] == "COMPLETED"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop `process` and everything it started (its process group), then make sure of it."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        if not _group_alive(process.pid):
            break
        time.sleep(1)  # children of the group still exiting
    process.wait(timeout=5)
    if _group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)
        time.sleep(1)
    assert not _group_alive(process.pid), f"processes of group {process.pid} survived"


def _group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid`, other than a zombie, still runs."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_for(what: str, check: Callable[[], Any], timeout: float, logs: tuple[Path, ...]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(1)
    details = "\n\n".join(f"--- {log.name}\n{_tail(log)}" for log in logs)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{details}")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `prefect server start` (API, scheduler and the other services; no UI)."""
    root = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    log = root / "server.log"
    env = {
        **os.environ,
        "PREFECT_HOME": str(root / "home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "prefect"),
                "server",
                "start",
                "--no-ui",
                *("--host", "127.0.0.1"),
                *("--port", str(port)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/api"
    try:

        def healthy() -> bool:
            if process.poll() is not None:
                pytest.fail(f"prefect server start exited:\n{_tail(log)}")
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for("the Prefect server to answer", healthy, 120, (log,))
        yield Server(url, root / "home", log, time.monotonic() - started)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def scenario(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """Serve `ingest` every 5 s on a folder holding one page; add the second page after the
    first completed run; after a run that saw both, take the input folder away and wait for
    a run to fail. Then stop serving."""
    root = tmp_path_factory.mktemp("served")
    pages = root / "pages"
    pages.mkdir()
    shutil.copy(PAGES[0], pages)
    result = Scenario(warehouse=root / "warehouse" / "news.duckdb", serve_log=root / "serve.log")
    env = {
        **server.env(),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "NEWSFLOW_PARSE_WORKERS": "1",
    }
    logs = (result.serve_log, server.log)
    with result.serve_log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "newsflow"),
                "serve",
                *("--interval", str(INTERVAL_SECONDS)),
                *("--input", str(pages)),
                *("--warehouse", str(result.warehouse)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + SCENARIO_TIMEOUT
    try:

        def runs() -> list[dict[str, Any]]:
            if process.poll() is not None:
                pytest.fail(f"newsflow serve exited:\n{_tail(result.serve_log)}")
            try:
                deployment = server.deployment()
            except httpx.HTTPStatusError:
                return []
            return server.flow_runs(deployment["id"])

        def finished(state: str, after: datetime | None = None) -> Callable[[], bool]:
            return lambda: any(
                r["state_type"] == state and (after is None or _parse_time(r["start_time"]) > after)
                for r in runs()
            )

        def remaining() -> float:
            return deadline - time.monotonic()

        _wait_for("a first completed run", finished("COMPLETED"), remaining(), logs)
        shutil.copy(PAGES[1], pages)
        result.second_page_added = datetime.now(UTC)
        _wait_for(
            "a completed run that started after the second page was added",
            finished("COMPLETED", after=result.second_page_added),
            remaining(),
            logs,
        )
        result.warehouse_sha256_after_last_success = _sha256(result.warehouse)
        pages.rename(root / "pages-away")
        result.folder_removed = datetime.now(UTC)
        _wait_for(
            "a run to fail on the missing folder",
            finished("FAILED", after=result.folder_removed),
            remaining(),
            logs,
        )
        result.runs = runs()
        yield result
    finally:
        _stop(process)


def test_scheduled_runs_complete_and_the_warehouse_grows(server: Server, scenario: Scenario):
    completed = scenario.completed()
    assert scenario.second_page_added is not None
    print(
        f"server up in {server.start_seconds:.1f} s; interval {INTERVAL_SECONDS} s; "
        f"run states: {[r['state_name'] for r in scenario.runs if r['end_time']]}"
    )
    assert len(completed) >= 2
    assert all(r["auto_scheduled"] for r in completed), "every run came from the schedule"
    with duckdb.connect(str(scenario.warehouse), read_only=True) as con:
        published = con.execute(
            "select started_at, files_loaded, articles from ingest_run order by started_at"
        ).fetchall()
    # The runs that completed before the folder was taken away, and nothing else, published.
    before_removal = [r for r in completed if _parse_time(r["end_time"]) < scenario.folder_removed]
    assert len(published) >= len(before_removal)
    added = scenario.second_page_added.replace(tzinfo=None)
    assert published[0][1:] == (1, 1), "the first run loads the one page there is"
    after_drop = [row for row in published if row[0] > added]
    assert after_drop, "a run started after the second page was added"
    assert after_drop[0][1:] == (1, 2), "it loads the new page only; now two articles"
    assert [row[2] for row in published] == sorted(row[2] for row in published)

    reports = server.run_reports([r["id"] for r in completed])
    assert set(reports) == {r["id"] for r in completed}, "a run report per completed run"
    for report in reports.values():
        assert "files seen" in report
        assert "run time" in report
        assert "Data quality: passed" in report


def test_overlapping_runs_are_skipped_and_never_write_at_once(server: Server, scenario: Scenario):
    # Runs come due every 5 s and take longer than that: most come due while another runs.
    started = [r for r in scenario.runs if r["run_count"] > 0 and r["end_time"]]
    assert len(started) >= 3
    spans = sorted((_parse_time(r["start_time"]), _parse_time(r["end_time"])) for r in started)
    for (_, end), (next_start, _) in itertools.pairwise(spans):
        assert next_start >= end, "two runs of the deployment ran at the same time"
    skipped = [r for r in scenario.runs if r["state_type"] == "CANCELLED"]
    assert skipped, "no run came due while another ran: the test proves nothing"
    assert {r["state"]["message"] for r in skipped} == {"Deployment concurrency limit reached."}

    with duckdb.connect(str(scenario.warehouse), read_only=True) as con:
        writes = con.execute(
            "select started_at, finished_at from ingest_run order by started_at"
        ).fetchall()
    for (_, end), (next_start, _) in itertools.pairwise(writes):
        assert next_start >= end, "two published runs wrote the warehouse at the same time"


def test_a_failed_run_is_failed_with_its_reason_and_publishes_nothing(
    server: Server, scenario: Scenario
):
    assert scenario.folder_removed is not None
    failed = [
        r
        for r in scenario.runs
        if r["state_type"] == "FAILED" and _parse_time(r["start_time"]) > scenario.folder_removed
    ]
    assert failed
    assert "does not exist or is not a folder" in server.logs(failed[0]["id"])
    # The run under way when the folder went may still have published; none after it did.
    with duckdb.connect(str(scenario.warehouse), read_only=True) as con:
        last_publish = con.execute("select max(finished_at) from ingest_run").fetchone()[0]
    assert last_publish < _parse_time(failed[0]["start_time"]).replace(tzinfo=None)
    leftovers = list(scenario.warehouse.parent.glob(".*.building*"))
    assert leftovers == []


def test_prefect_deploy_creates_the_same_deployment(server: Server, scenario: Scenario):
    # After the served deployment, so that it is the same deployment being redefined.
    served = server.deployment()
    env = server.env()

    def prefect(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "prefect"), *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    server.post("/work_pools/", {"name": "newsflow", "type": "process"})
    prefect("deploy", "--all", "--no-prompt")

    deployed = server.deployment()
    assert deployed["id"] == served["id"]
    assert deployed["work_pool_name"] == "newsflow"
    assert deployed["entrypoint"] == "flows/ingest.py:ingest"
    assert deployed["parameters"] == {
        "inputs": ["sample_pages"],
        "warehouse": "warehouse/news.duckdb",
        "wait": True,
    }
    assert served["parameters"]["wait"] is True
    assert [s["schedule"]["cron"] for s in deployed["schedules"]] == ["0 * * * *"]
    assert deployed["tags"] == served["tags"] == TAGS
    for deployment in (served, deployed):
        assert deployment["global_concurrency_limit"]["limit"] == ONE_WRITER.limit
        assert deployment["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert deployed["pull_steps"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(PROJECT_ROOT)}}
    ]


@pytest.mark.parametrize(
    ("api_url", "message"),
    [
        (None, "newsflow: PREFECT_API_URL is not set: start a server with `prefect server start`"),
        ("http://127.0.0.1:9/api", "newsflow: no Prefect server answers at http://127.0.0.1:9/api"),
    ],
    ids=["unset", "nobody-answers"],
)
def test_serve_without_a_server_fails_in_one_line(
    api_url: str | None, message: str, tmp_path: Path
):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path), "COLUMNS": "200"}
    env.pop("PREFECT_API_URL", None)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    result = subprocess.run(
        [str(BIN / "newsflow"), "serve", "--interval", "60"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
