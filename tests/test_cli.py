"""The `newsflow` command as a user runs it, in a real subprocess."""

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

NEWSFLOW = Path(sys.executable).with_name("newsflow")


def newsflow(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_HOME": str(home), "COLUMNS": "120"}
    return subprocess.run(
        [str(NEWSFLOW), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def test_help_explains_every_option(tmp_path: Path):
    result = newsflow("run", "--help", home=tmp_path)

    assert result.returncode == 0
    for option in (
        "--input",
        "--warehouse",
        "--pattern",
        "--batch-size",
        "--wait",
        "--task-runner",
        "--dask-address",
        "--verbose",
    ):
        assert option in result.stdout


def test_reparse_without_a_warehouse_fails_in_one_line(tmp_path: Path):
    missing = tmp_path / "none.duckdb"

    result = newsflow("reparse", "--warehouse", str(missing), home=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"newsflow: no warehouse at {missing}; run `newsflow run` first"
    ]


def test_a_missing_input_folder_fails_in_one_line(tmp_path: Path):
    result = newsflow("run", "--input", str(tmp_path / "nowhere"), home=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"newsflow: input folder {tmp_path / 'nowhere'} does not exist or is not a folder"
    ]


@pytest.mark.parametrize("command", ["run", "reparse"])
def test_a_dask_address_without_the_dask_runner_fails_in_one_line(tmp_path: Path, command: str):
    result = newsflow(command, "--dask-address", "tcp://127.0.0.1:8786", home=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "newsflow: --dask-address (or NEWSFLOW_DASK_ADDRESS) needs --task-runner dask"
    ]


def test_run_prints_a_summary_and_nothing_alarming(
    sample_pages: Path, warehouse: Path, prefect_env: dict[str, str]
):
    result = subprocess.run(
        [str(NEWSFLOW), "run", "--input", str(sample_pages), "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        env=prefect_env,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert "files seen" in result.stdout
    assert "passed" in result.stdout
    stderr = " ".join(result.stderr.split())  # rich wraps long lines
    assert re.search(
        r"time by stage: start-up [\d.]+ s, discover [\d.]+ s, .*, report [\d.]+ s", stderr
    )
    assert "Traceback" not in result.stderr
    assert "leaked" not in result.stderr
    assert warehouse.exists()
    docs = warehouse.with_name("news_data_docs") / "index.html"
    assert f"Data Docs: {docs}" in stderr
    assert docs.exists()


def test_newsflow_run_reads_its_folder_and_warehouse_from_the_environment(
    sample_pages: Path, warehouse: Path, prefect_env: dict[str, str]
):
    # One page only: a run that read the bundled sample pages instead would load two.
    for page in sorted(sample_pages.iterdir())[1:]:
        page.unlink()
    checkout_warehouse = Path(__file__).resolve().parent.parent / "warehouse" / "news.duckdb"
    before = checkout_warehouse.stat().st_mtime_ns if checkout_warehouse.exists() else None
    env = {
        **prefect_env,
        "NEWSFLOW_INPUT": str(sample_pages),
        "NEWSFLOW_WAREHOUSE": str(warehouse),
    }

    result = subprocess.run(
        [str(NEWSFLOW), "run"], capture_output=True, text=True, env=env, check=False, timeout=300
    )

    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from article").fetchone() == (1,)
    after = checkout_warehouse.stat().st_mtime_ns if checkout_warehouse.exists() else None
    assert after == before


def test_a_bad_setting_in_the_environment_fails_in_one_line(tmp_path: Path):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path), "NEWSFLOW_BATCH_SIZE": "many"}

    result = subprocess.run(
        [str(NEWSFLOW), "run"], capture_output=True, text=True, env=env, check=False, timeout=300
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "newsflow: NEWSFLOW_BATCH_SIZE='many' is not valid"
    ]
