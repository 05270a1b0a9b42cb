"""Shared fixtures: the sample pages, a throw-away warehouse path, one Prefect test server."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.settings import SAMPLE_INPUT
from flows.teardown import silence_teardown_noise

silence_teardown_noise()


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
