"""Readers and crashes: real processes read the warehouse during a run, or kill a run with -9."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from flows.load import warehouse_checks

pytestmark = pytest.mark.usefixtures("prefect_server")

NEWSFLOW = Path(sys.executable).with_name("newsflow")
# `newsflow` with a step patched to block until killed (see the script).
HALTING_RUN = Path(__file__).resolve().with_name("halting_run.py")
# A reader as a BI tool or an analyst's shell is one: its own process, read-only. "held" keeps
# one connection for the whole run; "fresh" opens a new one for every query. Each query counts
# articles and comments in one statement, so a half-published state would show as a pair that
# is neither the old one nor the new one. It runs until the stop file appears.
READER = """
import json, sys, time
from pathlib import Path
import duckdb

warehouse, mode, ready, stop, out = sys.argv[1:6]
statement = "select (select count(*) from article), (select count(*) from comment)"
seen, errors = [], []
held = duckdb.connect(warehouse, read_only=True) if mode == "held" else None
while not Path(stop).exists():
    try:
        if held is not None:
            seen.append(held.execute(statement).fetchone())
        else:
            with duckdb.connect(warehouse, read_only=True) as con:
                seen.append(con.execute(statement).fetchone())
    except Exception as error:
        errors.append(repr(error))
    Path(ready).touch()
    time.sleep(0.005)
Path(out).write_text(json.dumps({"seen": sorted(set(map(tuple, seen))), "queries": len(seen),
                                 "errors": errors}))
"""


def counts(warehouse: Path) -> tuple[int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select (select count(*) from article), (select count(*) from comment)")
        return row.fetchone()  # type: ignore[return-value]


def add_pages(crawl: Path, count: int) -> None:
    """More pages (variations of a sample page) for a run to load."""
    text = (crawl / "000_555b52a31fc83634.txt").read_text(encoding="utf-8")
    for number in range(count):
        page = text.replace("Turkish Troops", f"Turkish Troops ({number})", 1)
        (crawl / f"extra-{number:02d}.txt").write_text(page, encoding="utf-8")


def leftovers(warehouse: Path) -> list[str]:
    return sorted(path.name for path in warehouse.parent.glob(".*.building*"))


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(crawl folder, warehouse) after one run of the sample pages, made once per module."""
    from flows.settings import SAMPLE_INPUT

    folder = tmp_path_factory.mktemp("published")
    shutil.copytree(SAMPLE_INPUT, folder / "crawl")
    ingest(inputs=[str(folder / "crawl")], warehouse=str(folder / "wh" / "news.duckdb"))
    yield folder / "crawl", folder / "wh" / "news.duckdb"


@pytest.fixture
def crawl_and_warehouse(published: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the published warehouse and its crawl folder."""
    crawl, warehouse = tmp_path / "crawl", tmp_path / "wh" / "news.duckdb"
    shutil.copytree(published[0], crawl)
    warehouse.parent.mkdir()
    shutil.copyfile(published[1], warehouse)
    return crawl, warehouse


def test_readers_never_fail_nor_see_half_a_run(crawl_and_warehouse: tuple[Path, Path]):
    crawl, warehouse = crawl_and_warehouse
    old = counts(warehouse)
    add_pages(crawl, 6)
    readers = {}
    for mode in ("held", "fresh"):
        files = {name: warehouse.parent / f"{mode}.{name}" for name in ("ready", "stop", "out")}
        process = subprocess.Popen(
            [sys.executable, "-c", READER, str(warehouse), mode, *map(str, files.values())]
        )
        readers[mode] = (process, files)
    for process, files in readers.values():
        while not files["ready"].exists():
            assert process.poll() is None, "a reader died before its first query"
            time.sleep(0.01)

    summary = ingest(inputs=[str(crawl)], warehouse=str(warehouse), batch_size=2)

    results = {}
    for mode, (process, files) in readers.items():
        files["stop"].touch()
        assert process.wait(timeout=60) == 0
        results[mode] = json.loads(files["out"].read_text())
    new = counts(warehouse)
    assert new == (summary.articles, summary.comments) == (old[0] + 6, old[1] + 6 * 30)
    for mode, result in results.items():
        assert result["errors"] == [], mode
        assert result["queries"] >= 10, mode  # it really was querying during the run
    # The held connection keeps its snapshot; fresh ones see the old or the new, nothing else.
    assert [tuple(pair) for pair in results["held"]["seen"]] == [old]
    assert {tuple(pair) for pair in results["fresh"]["seen"]} <= {old, new}


def start_run(
    crawl: Path, warehouse: Path, env: dict[str, str], log: Path, halt_at: str | None
) -> subprocess.Popen:
    """`newsflow run` in a process of its own; with `halt_at`, one that blocks there."""
    command = [str(NEWSFLOW)] if halt_at is None else [sys.executable, str(HALTING_RUN), halt_at]
    with log.open("w") as stderr:
        return subprocess.Popen(
            [*command, "run", "-i", str(crawl), "-w", str(warehouse), "--batch-size", "2"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )


def wait_for(condition, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 180
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the run ended ({process.returncode}) before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {what} within 180 s:\n{log.read_text()}")
        time.sleep(0.005)


def test_runs_killed_at_any_point_leave_the_published_warehouse_whole(
    crawl_and_warehouse: tuple[Path, Path], prefect_env: dict[str, str]
):
    """Four runs killed with SIGKILL in turn, each at a later point; then one that completes.

    Each new run must clear what the dead one before it left; one subprocess per kill point,
    the published file checked after each kill.
    """
    crawl, warehouse = crawl_and_warehouse
    add_pages(crawl, 5)
    with (crawl / "002_d9744a95c5038ee5.txt").open("a") as changed:
        changed.write("\nOne more paragraph.\n")
    published = warehouse.read_bytes()
    log = warehouse.parent / "run.log"
    dead_candidates: list[str] = []

    # None: observed from outside only, killed the moment the next version's file appears.
    for halt_at in (None, "parse", "load", "swap"):
        run = start_run(crawl, warehouse, prefect_env, log, halt_at)
        if halt_at is None:
            wait_for(lambda: leftovers(warehouse), run, log, "a candidate file")
        else:
            halted = f"halted at {halt_at}"
            wait_for(lambda line=halted: line in log.read_text(), run, log, halted)
        os.kill(run.pid, signal.SIGKILL)
        assert run.wait(timeout=30) == -signal.SIGKILL

        assert warehouse.read_bytes() == published, halt_at
        with duckdb.connect(str(warehouse), read_only=True) as con:
            checks = warehouse_checks(con)
            assert checks["unexpected_count"].sum() == 0
            assert con.execute("select count(*) from ingest_run").fetchone() == (1,)
        # Only this run's candidate: the one before it was removed when this run started.
        candidates = {name.split(".building")[0] for name in leftovers(warehouse)}
        assert len(candidates) == 1, (halt_at, leftovers(warehouse))
        assert not candidates & set(dead_candidates), halt_at
        dead_candidates.extend(candidates)

    summary = ingest(inputs=[str(crawl)], warehouse=str(warehouse))

    assert leftovers(warehouse) == []
    assert (summary.files_loaded, summary.files_unchanged) == (6, 1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        one_row_per_page = """
            select count(*), count(distinct source_path), sum(n_comments),
                (select count(*) from comment), (select count(*) from page),
                (select count(*) from ingest_run)
            from article
        """
        articles, paths, n_comments, comments, pages, runs = con.execute(
            one_row_per_page
        ).fetchone()
    assert (articles, paths, pages, runs) == (7, 7, 7, 2)
    assert n_comments == comments == summary.comments


def test_a_second_run_exits_with_a_clear_message_while_one_is_writing(
    crawl_and_warehouse: tuple[Path, Path], prefect_env: dict[str, str]
):
    from flows.warehouse import WriterLock

    crawl, warehouse = crawl_and_warehouse
    published = warehouse.read_bytes()

    with WriterLock(warehouse):  # as a run in another process holds it
        result = subprocess.run(
            [str(NEWSFLOW), "run", "-i", str(crawl), "-w", str(warehouse)],
            capture_output=True,
            text=True,
            env=prefect_env,
            timeout=300,
            check=False,
        )

    assert result.returncode == 75, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"newsflow: another newsflow run is writing {warehouse}; wait for it to finish and "
        "try again (or pass --wait)"
    )
    assert "Traceback" not in result.stderr
    assert warehouse.read_bytes() == published
    assert leftovers(warehouse) == []
