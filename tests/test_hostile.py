"""A careful user's worst day, on the real `newsflow` command: hostile files, a full disk, a
read-only folder, a foreign DuckDB file, an unwritable Data Docs folder (issue 17)."""

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from flows.warehouse import WarehouseStorageError

NEWSFLOW = Path(sys.executable).with_name("newsflow")
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


def test_a_foreign_duckdb_file_is_refused_and_left_untouched(
    sample_pages: Path, tmp_path: Path, prefect_env: dict[str, str]
):
    foreign = tmp_path / "shop.duckdb"
    with duckdb.connect() as con:
        con.execute(f"attach '{foreign}' as shop (storage_version 'v1.5.0')")
        con.execute("create table shop.orders (id integer, total double)")
        con.execute("insert into shop.orders values (1, 9.5)")
    before = digest(foreign)

    result = newsflow(prefect_env, *run_args(sample_pages, foreign))

    assert result.returncode == 1
    line = one_line(result)
    assert f"{foreign} is a DuckDB file of another application (tables orders" in line
    assert digest(foreign) == before
    assert leftovers(tmp_path) == []


def test_an_empty_duckdb_file_becomes_a_warehouse(
    sample_pages: Path, tmp_path: Path, prefect_env: dict[str, str]
):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()

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

    result = newsflow(prefect_env, *run_args(sample_pages, warehouse))

    assert result.returncode == 0, result.stderr
    stderr = " ".join(result.stderr.split())
    assert "warning: the Data Docs could not be written to" in stderr
    assert "Traceback" not in result.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from article").fetchone() == (2,)


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
