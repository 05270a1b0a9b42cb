"""Shared fixtures: the sample pages, a throw-away warehouse path, one Prefect test server."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from figures import FIGURES

from flows.settings import SAMPLE_INPUT
from flows.teardown import silence_teardown_noise

silence_teardown_noise()

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", []):
                if name == FIGURES:
                    terminalreporter.write_sep("-", f"figures from {report.nodeid}")
                    terminalreporter.write_line(str(value))


@pytest.fixture
def sample_pages(tmp_path: Path) -> Path:
    """A private copy of the bundled sample pages."""
    folder = tmp_path / "pages"
    shutil.copytree(SAMPLE_INPUT, folder)
    return folder


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "news.duckdb"


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect server for the whole session (it takes seconds to start)."""
    home = tmp_path_factory.mktemp("prefect-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_HOME", str(home))
        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=120):
            yield


@pytest.fixture(scope="session")
def prefect_env(prefect_server: None) -> dict[str, str]:
    """Environment for a `newsflow` subprocess that uses the session's Prefect server.

    The harness sets PREFECT_API_URL in Prefect's settings, not in os.environ: without it a
    child process would start a temporary server of its own (10 to 20 s, and a grandchild
    that a SIGKILL of the child would leave running).
    """
    from prefect.settings import PREFECT_API_URL

    return {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "120"}


@pytest.fixture
def v0_warehouse(warehouse: Path) -> Path:
    """A warehouse file as newsflow 0.1.0 left it (schema version 0), one row per table."""
    import duckdb

    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as w (storage_version 'v1.5.0')")
        con.execute("use w")
        con.execute((FIXTURES / "warehouse_v0.sql").read_text(encoding="utf-8"))
    return warehouse


@pytest.fixture(scope="session")
def mart_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse file holding the small crawl of fixtures/marts_warehouse.sql, its mentions
    counted and its stories grouped as a run does: every mart has known answers on it. Open it
    read-only."""
    import duckdb

    from flows.load import STORAGE_VERSION, Writer
    from flows.sqlfiles import sql
    from flows.upgrade import upgrade

    warehouse = tmp_path_factory.mktemp("marts") / "news.duckdb"
    con = duckdb.connect()
    con.execute(f"attach '{warehouse}' as w (storage_version '{STORAGE_VERSION}')")
    con.execute("use w")
    upgrade(con)
    con.execute((FIXTURES / "marts_warehouse.sql").read_text(encoding="utf-8"))
    con.register("staged_entity_mention", con.sql("select * from entity_mention").pl())
    con.execute(sql("load/article_entity"))
    con.execute(sql("load/article_entity_pair"))
    con.unregister("staged_entity_mention")
    writer = Writer(con)
    writer.update_stories()
    writer.close()
    return warehouse
