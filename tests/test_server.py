"""`newsflow server`: later commands find the background Prefect server while it answers."""

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows import server


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[str]:
    """A loopback HTTP server that answers /api/health as Prefect's does."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/api"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def prefect_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return tmp_path


def test_a_recorded_server_that_answers_is_used(prefect_home: Path, health_server: str):
    (prefect_home / server.URL_FILE).write_text(health_server + "\n")

    assert server.use_running_server() == health_server
    assert server.os.environ["PREFECT_API_URL"] == health_server


def test_a_recorded_server_that_is_gone_is_not_used(prefect_home: Path):
    # Port 9 (discard): nothing listens there, the connection is refused at once.
    (prefect_home / server.URL_FILE).write_text("http://127.0.0.1:9/api\n")

    assert server.use_running_server() is None
    assert "PREFECT_API_URL" not in server.os.environ


def test_no_recorded_server_leaves_prefect_to_start_its_own(prefect_home: Path):
    assert server.use_running_server() is None
    assert "PREFECT_API_URL" not in server.os.environ


def test_prefect_api_url_set_by_the_user_wins(
    prefect_home: Path, health_server: str, monkeypatch: pytest.MonkeyPatch
):
    (prefect_home / server.URL_FILE).write_text(health_server + "\n")
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4444/api")

    assert server.use_running_server() == "http://127.0.0.1:4444/api"


def test_start_reuses_a_server_that_answers_on_its_port(prefect_home: Path, health_server: str):
    port = int(health_server.rsplit(":", 1)[1].removesuffix("/api"))

    assert server.start(port) == health_server
    assert (prefect_home / server.URL_FILE).read_text().strip() == health_server


def test_a_record_of_a_server_process_that_is_gone_is_removed(prefect_home: Path):
    # After a restart Prefect's PID file names a process that no longer runs, and `prefect
    # server start --background` refuses to start ("A server is already running").
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (prefect_home / server.PID_FILE).write_text(gone, encoding="utf-8")

    server.remove_stale_pid_file()

    assert not (prefect_home / server.PID_FILE).exists()


def test_a_record_of_a_running_server_process_is_kept(prefect_home: Path):
    (prefect_home / server.PID_FILE).write_text(str(os.getpid()), encoding="utf-8")

    server.remove_stale_pid_file()

    assert (prefect_home / server.PID_FILE).read_text(encoding="utf-8") == str(os.getpid())
