"""The `ingest` flow with parse and entity extraction on a local Dask cluster."""

from dataclasses import asdict
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.ingest import ingest
from flows.summary import RunSummary

pytestmark = [pytest.mark.dask, pytest.mark.usefixtures("prefect_server")]

# Two runs differ only in which run wrote a row and when: the run id (start time and random
# bytes) and the clock times. Every other column must match.
RUN_COLUMNS = {
    "article": ["loaded_by_run"],
    "article_story": ["loaded_by_run"],
    "dq_result": ["run_id"],
    "ingest_run": ["run_id", "started_at", "finished_at"],
    "schema_version": ["applied_at"],
    "source_file": ["first_seen_run", "last_seen_run"],
}


def tables(warehouse: Path) -> dict[str, pl.DataFrame]:
    """Every table, without its run columns, in one row order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()]
        frames = {name: con.sql(f'select * from "{name}"').pl() for name in names}
    return {
        name: frame.drop(RUN_COLUMNS.get(name, [])).sort(pl.all())
        for name, frame in sorted(frames.items())
    }


def figures(summary: RunSummary) -> dict[str, object]:
    return {
        key: value
        for key, value in asdict(summary).items()
        # What differs between any two runs: their id, where they wrote, and clock times.
        if key not in ("run_id", "warehouse", "seconds", "stage_seconds", "data_docs")
    }


def test_a_dask_run_publishes_the_same_warehouse_as_the_default_runner(
    sample_pages: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from prefect_dask import DaskTaskRunner

    # Two workers, and one page per batch: both workers get a batch, and the second batch
    # is parsed while the flow loads the first.
    monkeypatch.setenv("NEWSFLOW_PARSE_WORKERS", "2")
    submitted: list[str] = []
    submit = DaskTaskRunner.submit

    def spy(self, task, parameters, *args, **kwargs):  # type: ignore[no-untyped-def]
        submitted.append(task.name)
        return submit(self, task, parameters, *args, **kwargs)

    monkeypatch.setattr(DaskTaskRunner, "submit", spy)
    default_warehouse = tmp_path / "default" / "news.duckdb"
    dask_warehouse = tmp_path / "dask" / "news.duckdb"

    default = ingest(inputs=[str(sample_pages)], warehouse=str(default_warehouse), batch_size=1)
    assert submitted == []
    on_dask = ingest(
        inputs=[str(sample_pages)],
        warehouse=str(dask_warehouse),
        batch_size=1,
        task_runner="dask",
    )

    assert sorted(submitted) == ["extract entities"] * 2 + ["parse pages"] * 2
    assert figures(on_dask) == figures(default)
    assert on_dask.files_loaded == 2
    expected, got = tables(default_warehouse), tables(dask_warehouse)
    assert list(got) == list(expected)
    assert [name for name, frame in expected.items() if not got[name].equals(frame)] == []
