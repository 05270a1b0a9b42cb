"""`newsflow server`: one Prefect server in the background that every later command reuses.

Without PREFECT_API_URL, each `newsflow run` starts a temporary Prefect server of its own
(15 to 30 s). `newsflow server` starts `prefect server start --background` on loopback and
records its URL in PREFECT_HOME; `run` and `reparse` then use it while it answers.
"""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_PORT = 4200
# Where the URL of the server `newsflow server` started is kept, in PREFECT_HOME.
URL_FILE = "newsflow-server-url"
# Where `prefect server start --background` keeps its process id, in PREFECT_HOME.
PID_FILE = "server.pid"
START_TIMEOUT_S = 120.0


class ServerError(Exception):
    """The background server could not be started or stopped."""


def prefect_home() -> Path:
    """Prefect's home folder, as Prefect resolves it (without importing Prefect)."""
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def answers(api_url: str, timeout: float = 1.0) -> bool:
    """Whether a Prefect server answers at `api_url` (.../api)."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def running_server_url() -> str | None:
    """The API URL of the server `newsflow server` started, if it still answers."""
    recorded = prefect_home() / URL_FILE
    try:
        api_url = recorded.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return api_url if api_url and answers(api_url) else None


def use_running_server() -> str | None:
    """Point this process at the background server when PREFECT_API_URL is not set and one
    runs; return the URL used, if any."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    api_url = running_server_url()
    if api_url is not None:
        os.environ["PREFECT_API_URL"] = api_url
    return api_url


def start(port: int = DEFAULT_PORT) -> str:
    """Start a Prefect server in the background on 127.0.0.1:`port` (or reuse the one
    running) and record its URL; return the API URL."""
    api_url = f"http://127.0.0.1:{port}/api"
    if answers(api_url):
        _record(api_url)
        return api_url
    remove_stale_pid_file()
    prefect = Path(sys.executable).with_name("prefect")
    command = [str(prefect), "server", "start", "--background", "--host", "127.0.0.1"]
    started = subprocess.run(
        [*command, "--port", str(port)], capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        # Prefect wraps its message to the terminal's width: one line again.
        message = " ".join((started.stderr or started.stdout).split())
        raise ServerError(f"prefect server start failed: {message}")
    deadline = time.monotonic() + START_TIMEOUT_S
    while not answers(api_url):
        if time.monotonic() > deadline:
            raise ServerError(f"the Prefect server did not answer at {api_url}")
        time.sleep(0.5)  # polling a server that is starting: no event to wait on
    _record(api_url)
    return api_url


def remove_stale_pid_file() -> None:
    """Remove Prefect's record of its background server when the process it names is gone
    (the machine restarted, the server was killed), as `prefect server stop` does: Prefect
    refuses to start another while the record is there."""
    pid_file = prefect_home() / PID_FILE
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
    except PermissionError:
        pass  # it exists, run by another user


def stop() -> None:
    """Stop the background server and forget its URL."""
    (prefect_home() / URL_FILE).unlink(missing_ok=True)
    prefect = Path(sys.executable).with_name("prefect")
    stopped = subprocess.run(
        [str(prefect), "server", "stop"], capture_output=True, text=True, check=False
    )
    if stopped.returncode != 0:
        raise ServerError(f"prefect server stop failed: {stopped.stderr.strip()}")


def _record(api_url: str) -> None:
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / URL_FILE).write_text(api_url + "\n", encoding="utf-8")
