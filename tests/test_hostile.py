"""A careful user's worst day, on the real `newsflow` command: hostile files, a full disk, a
read-only folder, a foreign DuckDB file, an unwritable Data Docs folder (issue 17)."""

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.build import newsflow_version
from flows.ingest import ingest
from flows.parse import PARSER_VERSION
from flows.prune import missing_pages, prune
from flows.summary import RunSummary, notes
from flows.warehouse import WarehouseStorageError

NEWSFLOW = Path(sys.executable).with_name("newsflow")
pytestmark = pytest.mark.usefixtures("prefect_server")
SECRET = "NEWSFLOW_TEST_SECRET=hunter2"


def newsflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NEWSFLOW), *args], capture_output=True, text=True, env=env, check=False, timeout=300
    )


def run_args(pages: Path, warehouse: Path) -> list[str]:
    return ["run", "--input", str(pages), "--warehouse", str(warehouse)]


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed command printed (rich wraps long lines: joined back)."""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("newsflow: "), result.stderr
    return " ".join(" ".join(lines).split())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if ".building" in path.name)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB file system of its own (tmpfs), to fill up or make read-only."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave_bytes: int) -> None:
    """Fill `disk` until only about `leave_bytes` are free."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with (disk / "filler.bin").open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave_bytes))


def test_hostile_files_are_quarantined_and_nothing_outside_the_input_is_read(
    sample_pages: Path, warehouse: Path, tmp_path: Path, prefect_env: dict[str, str]
):
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET + "\n")
    (sample_pages / "secret.txt").symlink_to(secret)
    (sample_pages / "environ.txt").symlink_to("/proc/self/environ")
    os.mkfifo(sample_pages / "pipe.txt")
    (Path(os.fsdecode(os.fsencode(sample_pages) + b"/caf\xe9.txt"))).write_text("A page.\n")
    env = {**prefect_env, SECRET.split("=")[0]: "hunter2"}

    result = newsflow(env, *run_args(sample_pages, warehouse))

    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        reasons = dict(con.execute("select source_path, reason from quarantine").fetchall())
        run = con.execute("select files_seen, files_loaded, files_quarantined from ingest_run")
        counts = run.fetchone()
        leaked = con.execute("select count(*) from page where raw_text like '%hunter2%'").fetchone()
    assert reasons == {
        "caf\\xe9.txt": "bad_name",
        "environ.txt": "outside_input",
        "pipe.txt": "not_a_file",
        "secret.txt": "outside_input",
    }
    assert counts == (6, 2, 4)
    assert leaked == (0,)


def duckdb_file(path: Path, storage: str | None, *statements: str) -> Path:
    """A DuckDB file as another program leaves it: in the 1.5 storage format or DuckDB 2's."""
    with duckdb.connect() as con:
        option = f" (storage_version '{storage}')" if storage else ""
        con.execute(f"attach '{path}' as other{option}")
        con.execute("use other")
        for statement in statements:
            con.execute(statement)
    return path


@pytest.mark.parametrize(
    ("storage", "said"),
    [
        pytest.param("v1.5.0", "is a DuckDB file of another application (tables orders", id="1.5"),
        pytest.param(None, "is not in the DuckDB 1.5 storage format", id="2.0"),
    ],
)
def test_a_foreign_duckdb_file_is_refused_and_left_untouched(
    sample_pages: Path,
    tmp_path: Path,
    prefect_env: dict[str, str],
    storage: str | None,
    said: str,
):
    foreign = duckdb_file(
        tmp_path / "shop.duckdb",
        storage,
        "create table orders (id integer, total double)",
        "insert into orders values (1, 9.5)",
    )
    before = digest(foreign)

    result = newsflow(prefect_env, *run_args(sample_pages, foreign))

    assert result.returncode == 1
    assert f"{foreign} {said}" in one_line(result)
    assert digest(foreign) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "storage", [pytest.param("v1.5.0", id="1.5"), pytest.param(None, id="2.0")]
)
def test_an_empty_duckdb_file_becomes_a_warehouse(
    sample_pages: Path, tmp_path: Path, prefect_env: dict[str, str], storage: str | None
):
    empty = duckdb_file(tmp_path / "empty.duckdb", storage)

    result = newsflow(prefect_env, *run_args(sample_pages, empty))

    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(empty), read_only=True) as con:
        assert con.execute("select count(*) from article").fetchone() == (2,)


def test_an_unwritable_data_docs_folder_warns_after_a_published_run(
    sample_pages: Path, warehouse: Path, prefect_env: dict[str, str]
):
    warehouse.parent.mkdir(parents=True)
    # A file where the folder should be: no account, root included, can write into it.
    warehouse.with_name("news_data_docs").write_text("in the way")
    # Three of five pages without comments: the warning rule on n_comments (mostly 0.5) breaks.
    for number in range(3):
        (sample_pages / f"quiet{number}.txt").write_text(
            f"Quiet Page {number}\n\nThe council met and nothing happened at all.\n"
        )

    result = newsflow(prefect_env, *run_args(sample_pages, warehouse))

    assert result.returncode == 0, result.stderr
    stderr = " ".join(result.stderr.split())
    assert "warning: the Data Docs could not be written to" in stderr
    assert "Traceback" not in result.stderr
    assert "warning rule broken: article.n_comments: expect_column_values_to_be_between" in stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from article").fetchone() == (5,)
        (run_id,) = con.execute("select run_id from ingest_run").fetchone()
    assert f"run {run_id}" in result.stdout
    # The Prefect flow run carries the run's id, and its logs reached the server although
    # the command ran without --verbose.
    flow_run, logs = prefect_run_and_logs(run_id)
    assert flow_run.state is not None and flow_run.state.is_completed()
    assert logs, "no log of the run reached the Prefect server"


def prefect_run_and_logs(name: str) -> tuple[Any, list[Any]]:
    """The Prefect flow run called `name`, and its log lines on the server."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterName,
        LogFilter,
        LogFilterFlowRunId,
    )

    with get_client(sync_client=True) as client:
        (flow_run,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
        )
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
        )
    return flow_run, logs


@pytest.mark.parametrize(
    "free_after_publish",
    [
        pytest.param(64 * 1024, id="copy-fails"),
        pytest.param(None, id="load-fails"),
    ],
)
def test_a_full_disk_fails_in_one_line_and_leaves_no_partial_copy(
    small_disk: Path,
    sample_pages: Path,
    prefect_env: dict[str, str],
    free_after_publish: int | None,
):
    warehouse = small_disk / "news.duckdb"
    first = newsflow(prefect_env, *run_args(sample_pages, warehouse))
    assert first.returncode == 0, first.stderr
    before = digest(warehouse)
    # New pages to load: enough text that the next version outgrows the room left.
    for number in range(40):
        words = " ".join(f"word{number}x{index}" for index in range(20_000))
        (sample_pages / f"big{number}.txt").write_text(f"Big Page {number}\n\n{words}.\n")
    room = free_after_publish or warehouse.stat().st_size + 512 * 1024
    fill(small_disk, room)

    result = newsflow(prefect_env, *run_args(sample_pages, warehouse))

    assert result.returncode == 1
    line = one_line(result)
    assert f"the disk holding {small_disk} is full (No space left on device)" in line
    assert "rollback" not in line
    assert digest(warehouse) == before
    assert leftovers(small_disk) == []


def test_a_read_only_folder_fails_in_one_line(
    small_disk: Path, sample_pages: Path, prefect_env: dict[str, str]
):
    warehouse = small_disk / "news.duckdb"
    assert newsflow(prefect_env, *run_args(sample_pages, warehouse)).returncode == 0
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=False)
    assert remounted.returncode == 0

    result = newsflow(prefect_env, *run_args(sample_pages, warehouse))
    # Scheduled runs have no command line: the flow says the same.
    with pytest.raises(WarehouseStorageError, match="read-only file system"):
        ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert result.returncode == 1
    assert f"{small_disk} is on a read-only file system" in one_line(result)


def articles_of(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select source, source_path, title, article_id, previous_article_id from article "
            "order by source"
        ).fetchall()


def test_crawl_folders_keep_their_own_pages_and_a_recrawl_links_to_the_one_before(
    sample_pages: Path, warehouse: Path, tmp_path: Path
):
    first, other = sorted(sample_pages.iterdir())
    crawls = {name: tmp_path / name for name in ("nov", "dec", "jan")}
    for folder in crawls.values():
        folder.mkdir()
    shutil.copy(first, crawls["nov"] / "page1.txt")
    shutil.copy(other, crawls["dec"] / "page1.txt")  # another article at the same path
    shutil.copy(first, crawls["jan"] / "page1.txt")  # November's article crawled again

    for name in ("nov", "dec", "jan"):
        ingest(inputs=[str(crawls[name])], warehouse=str(warehouse))

    (dec, jan, nov) = articles_of(warehouse)
    assert [row[:2] for row in (dec, jan, nov)] == [
        ("dec", "page1.txt"),
        ("jan", "page1.txt"),
        ("nov", "page1.txt"),
    ]
    assert dec[2] != nov[2] == jan[2]
    # January's page is November's article again: linked to it, not put in its place.
    assert (nov[4], dec[4], jan[4]) == (None, None, nov[3])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        comments = dict(
            con.execute(
                "select a.source, count(*) from comment join article a using (article_id) "
                "group by all"
            ).fetchall()
        )
        status = con.execute("select distinct status from source_file").fetchall()
    assert comments == {"nov": 30, "dec": 14, "jan": 30}
    assert status == [("loaded",)]  # a run on one crawl marks no other crawl's file missing

    # November's file renamed: the old name is missing, and prune removes it after a listing.
    (crawls["nov"] / "page1.txt").rename(crawls["nov"] / "renamed.txt")
    ingest(inputs=[str(crawls["nov"])], warehouse=str(warehouse))
    listed = missing_pages(warehouse)
    assert listed.pages.select("source", "source_path").rows() == [("nov", "page1.txt")]
    assert len(articles_of(warehouse)) == 4

    pruned = prune(warehouse)

    assert pruned.pages.select("source", "source_path").rows() == [("nov", "page1.txt")]
    after = articles_of(warehouse)
    assert [row[:2] for row in after] == [
        ("dec", "page1.txt"),
        ("jan", "page1.txt"),
        ("nov", "renamed.txt"),
    ]
    assert missing_pages(warehouse).pages.is_empty()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        runs = con.execute("select kind from ingest_run order by run_id").fetchall()
        kinds = [kind for (kind,) in runs]
        orphans = con.execute(
            "select count(*) from comment where article_id not in (select article_id from article)"
        ).fetchone()
    assert kinds == ["ingest"] * 4 + ["prune"]
    assert orphans == (0,)


def test_pages_loaded_before_sources_had_names_are_adopted_not_loaded_twice(
    sample_pages: Path, warehouse: Path
):
    ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    # As migration 005 leaves a warehouse of schema version 4: no source names, old keys.
    with duckdb.connect(str(warehouse)) as con:
        for table in ("source_file", "article", "page"):
            con.execute(f"update {table} set source = ''")
    keys_before = {row[1]: row[3] for row in articles_of(warehouse)}

    summary = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (summary.files_unchanged, summary.files_loaded, summary.articles) == (2, 0, 2)
    after = articles_of(warehouse)
    assert {row[0] for row in after} == {"pages"}
    assert {row[1]: row[3] for row in after} == keys_before

    # A parser upgrade: pages whose files are read are parsed again, and the summary names
    # those left to `newsflow reparse` (here, the one whose file is gone).
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update article set parser_version = 'older'")
    gone, kept = sorted(sample_pages.iterdir())
    gone.unlink()

    summary = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (summary.files_loaded, summary.files_missing, summary.stale_pages) == (1, 1, 1)
    assert ("parsed by an older parser", notes_text(summary)) in notes(summary)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        versions = con.execute(
            "select source_path, parser_version from article order by 1"
        ).fetchall()
        (built,) = con.execute("select distinct newsflow_version from ingest_run").fetchone()
    assert versions == [(gone.name, "older"), (kept.name, PARSER_VERSION)]
    assert built == newsflow_version()


def notes_text(summary: RunSummary) -> str:
    return (
        f"{summary.stale_pages:,} pages whose files this run did not read; run "
        "`newsflow reparse` to parse them with this version"
    )
