"""The published file's life: the next version starts as a clone (or kernel copy) of the
published file, is built beside it and swapped in by one rename."""

import errno
import fcntl
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from flows.warehouse import (
    NextVersion,
    WarehouseBusyError,
    WarehouseOpenForWritingError,
    WarehouseStorageError,
    WriterLock,
    clone_file,
    storage_errno,
    storage_error,
)

OLD = b"the published version\n"
NEW = b"the next version, longer than the published one\n"


def test_swap_renames_the_next_version_over_the_published_file(warehouse: Path) -> None:
    warehouse.parent.mkdir(parents=True)
    warehouse.write_bytes(OLD)
    reader = os.open(warehouse, os.O_RDONLY)
    try:
        version = NextVersion.prepare(warehouse, "r1")
        assert version.path.read_bytes() == OLD
        version.path.write_bytes(NEW)
        built = os.stat(version.path).st_ino

        version.seal()
        version.swap()

        # One rename: the published name now holds the very file that was built (same
        # inode), and a reader that opened the old file still reads the old bytes.
        assert os.stat(warehouse).st_ino == built
        assert os.pread(reader, 100, 0) == OLD
    finally:
        os.close(reader)
    assert warehouse.read_bytes() == NEW
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["news.duckdb"]


def test_the_next_version_of_no_warehouse_starts_from_no_file(warehouse: Path) -> None:
    version = NextVersion.prepare(warehouse, "r1")

    assert version.path == warehouse.with_name(".news.duckdb.r1.building")
    assert warehouse.parent.is_dir()
    assert not version.path.exists()


def test_prepare_deletes_only_the_leftovers_of_this_warehouse(warehouse: Path) -> None:
    warehouse.parent.mkdir(parents=True)
    warehouse.write_bytes(OLD)
    leftovers = [".news.duckdb.r0.building", ".news.duckdb.r0.building.wal"]
    others = [".other.duckdb.r0.building", "news.duckdb.lock", "notes.txt"]
    for name in leftovers + others:
        (warehouse.parent / name).write_bytes(b"x")

    NextVersion.prepare(warehouse, "r1")

    assert sorted(p.name for p in warehouse.parent.iterdir()) == sorted(
        [".news.duckdb.r1.building", "news.duckdb", *others]
    )
    assert warehouse.read_bytes() == OLD


def test_seal_refuses_a_version_with_a_write_ahead_log(warehouse: Path) -> None:
    version = NextVersion.prepare(warehouse, "r1")
    version.path.write_bytes(NEW)
    wal = version.path.with_name(version.path.name + ".wal")
    wal.write_bytes(b"uncheckpointed")

    with pytest.raises(RuntimeError, match=r"\.building\.wal remains after a checkpoint"):
        version.seal()


def test_discard_drops_the_version_and_its_log_and_keeps_the_published_file(
    warehouse: Path,
) -> None:
    warehouse.parent.mkdir(parents=True)
    warehouse.write_bytes(OLD)
    version = NextVersion.prepare(warehouse, "r1")
    version.path.with_name(version.path.name + ".wal").write_bytes(b"log")

    version.discard()

    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["news.duckdb"]
    assert warehouse.read_bytes() == OLD


def test_the_writer_lock_is_free_again_after_its_holder_exits(warehouse: Path) -> None:
    holder = WriterLock(warehouse)
    with holder, pytest.raises(WarehouseBusyError) as busy:
        WriterLock(warehouse).__enter__()
    assert str(busy.value) == (
        f"another newsflow run is writing {warehouse}; wait for it to finish and try again "
        "(or pass --wait)"
    )

    # `holder` is still referenced: its exit, not the garbage collector, let the lock go.
    with WriterLock(warehouse) as lock:
        assert lock.path == warehouse.with_name("news.duckdb.lock")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_clone_file_makes_an_exact_copy_by_the_cheapest_way_the_file_system_has(tmp_path):
    source = tmp_path / "news.duckdb"
    source.write_bytes(os.urandom(3 * 2**20 + 17))  # not a multiple of any block size
    target = tmp_path / "copy.duckdb"

    how = clone_file(source, target)

    assert how in ("clone", "copy_file_range", "copy")
    assert digest(target) == digest(source)


def test_clone_file_of_an_empty_file(tmp_path):
    source = tmp_path / "empty.duckdb"
    source.write_bytes(b"")

    clone_file(source, tmp_path / "copy.duckdb")

    assert (tmp_path / "copy.duckdb").read_bytes() == b""


def test_writing_the_next_version_leaves_the_published_file_as_it_was(tmp_path):
    published = tmp_path / "news.duckdb"
    published.write_bytes(b"published version" * 1000)
    before = digest(published)

    version = NextVersion.prepare(published, "r1")
    with version.path.open("r+b") as handle:
        handle.write(b"changed")
    version.discard()

    assert digest(published) == before
    assert not version.path.exists()


def test_a_copy_that_fails_half_way_leaves_no_partial_next_version(tmp_path, monkeypatch):
    published = tmp_path / "news.duckdb"
    published.write_bytes(b"published version" * 1000)

    def disk_full(source: Path, target: Path) -> str:
        target.write_bytes(source.read_bytes()[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("flows.warehouse.clone_file", disk_full)

    with pytest.raises(OSError, match="No space left"):
        NextVersion.prepare(published, "r1")

    assert sorted(path.name for path in tmp_path.iterdir()) == ["news.duckdb"]


def test_a_writer_that_waits_asks_for_a_blocking_lock(warehouse: Path, monkeypatch) -> None:
    asked: list[int] = []
    flock = fcntl.flock

    def recording_flock(handle, operation: int) -> None:
        asked.append(operation)
        flock(handle, operation)

    monkeypatch.setattr(fcntl, "flock", recording_flock)

    with WriterLock(warehouse, wait=True):
        pass
    with WriterLock(warehouse):
        pass

    assert asked == [
        fcntl.LOCK_EX,
        fcntl.LOCK_UN,
        fcntl.LOCK_EX | fcntl.LOCK_NB,
        fcntl.LOCK_UN,
    ]


def test_the_lock_and_the_next_version_make_every_missing_folder(tmp_path: Path) -> None:
    warehouse = tmp_path / "data" / "news" / "news.duckdb"
    with WriterLock(warehouse) as lock:
        assert lock.path.exists()

    other = tmp_path / "elsewhere" / "news" / "news.duckdb"
    NextVersion.prepare(other, "r1")
    assert other.parent.is_dir()


def test_discarding_a_next_version_that_was_never_written_is_no_error(warehouse: Path) -> None:
    version = NextVersion.prepare(warehouse, "r1")

    version.discard()

    assert sorted(p.name for p in warehouse.parent.iterdir()) == []


def test_a_write_ahead_log_beside_the_published_file_says_how_to_fold_it_in(
    warehouse: Path,
) -> None:
    warehouse.parent.mkdir(parents=True)
    warehouse.write_bytes(OLD)
    warehouse.with_name("news.duckdb.wal").write_bytes(b"log")

    with pytest.raises(WarehouseOpenForWritingError) as refused:
        NextVersion.prepare(warehouse, "r1")

    assert str(refused.value) == (
        f"{warehouse}.wal exists: a program has news.duckdb open read-write, or died while "
        "writing it. Close that program (open the file read-only); if none is running, open "
        f"the file once in the DuckDB shell (`duckdb {warehouse}`, then `checkpoint;`) and "
        "run again."
    )


def path_of(fd: int) -> Path:
    return Path(os.readlink(f"/proc/self/fd/{fd}"))


def test_clone_file_asks_the_file_system_for_a_clone_of_the_source(tmp_path, monkeypatch):
    source = tmp_path / "news.duckdb"
    source.write_bytes(OLD)
    target = tmp_path / "copy.duckdb"
    asked = []

    def ficlone(fd: int, request: int, arg: int) -> int:
        asked.append((path_of(fd), request, path_of(arg)))
        target.write_bytes(OLD)  # what the file system's clone would hold
        return 0

    monkeypatch.setattr(fcntl, "ioctl", ficlone)

    assert clone_file(source, target) == "clone"
    # ioctl_ficlone(2): FICLONE is _IOW(0x94, 9, int), asked on the target with the source.
    assert asked == [(target, 0x40049409, source)]


def cannot_clone(fd: int, request: int, arg: int) -> int:
    raise OSError(errno.EOPNOTSUPP, "Operation not supported")


def test_without_clones_the_kernel_copies_in_as_many_calls_as_it_takes(tmp_path, monkeypatch):
    source = tmp_path / "news.duckdb"
    source.write_bytes(os.urandom(3 * 2**20 + 17))
    target = tmp_path / "copy.duckdb"
    copy_file_range = os.copy_file_range
    calls = []

    def a_mebibyte_at_most(src: int, dst: int, count: int) -> int:
        # The kernel may copy less than asked (at most about 2 GiB per call).
        calls.append(count)
        return copy_file_range(src, dst, min(count, 2**20))

    monkeypatch.setattr(fcntl, "ioctl", cannot_clone)
    monkeypatch.setattr(os, "copy_file_range", a_mebibyte_at_most)

    assert clone_file(source, target) == "copy_file_range"
    assert digest(target) == digest(source)
    assert len(calls) == 4


def test_without_clones_or_a_kernel_copy_the_file_is_copied_by_hand(tmp_path, monkeypatch):
    source = tmp_path / "news.duckdb"
    source.write_bytes(b"published version" * 1000)
    target = tmp_path / "copy.duckdb"
    copy_file_range = os.copy_file_range

    def fails_half_way(src: int, dst: int, count: int) -> int:
        copy_file_range(src, dst, 100)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(fcntl, "ioctl", cannot_clone)
    monkeypatch.setattr(os, "copy_file_range", fails_half_way)
    copied = []
    copyfile = shutil.copyfile
    monkeypatch.setattr(
        shutil, "copyfile", lambda src, dst: copied.append((src, dst)) or copyfile(src, dst)
    )

    assert clone_file(source, target) == "copy"
    assert copied == [(source, target)]
    assert target.read_bytes() == b"published version" * 1000


def test_a_kernel_copy_that_stops_short_is_redone_by_hand(tmp_path, monkeypatch):
    source = tmp_path / "news.duckdb"
    source.write_bytes(b"published version" * 1000)
    target = tmp_path / "copy.duckdb"
    copy_file_range = os.copy_file_range

    def stops_after_100_bytes(src: int, dst: int, count: int) -> int:
        # copy_file_range(2) returns 0 at the source's end, or where a file system copies no more.
        return copy_file_range(src, dst, 100) if os.lseek(src, 0, os.SEEK_CUR) == 0 else 0

    monkeypatch.setattr(fcntl, "ioctl", cannot_clone)
    monkeypatch.setattr(os, "copy_file_range", stops_after_100_bytes)

    assert clone_file(source, target) == "copy"
    assert target.read_bytes() == b"published version" * 1000


def caused_by(cause: BaseException, *, implicitly: bool = False) -> RuntimeError:
    """An error raised while handling `cause` (implicitly) or `from` it."""
    error = RuntimeError("the load failed")
    if implicitly:
        error.__context__ = cause
    else:
        error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (OSError(errno.ENOSPC, "disk full"), errno.ENOSPC),
        (OSError(errno.EDQUOT, "quota"), errno.EDQUOT),
        (PermissionError(errno.EPERM, "not allowed"), errno.EPERM),
        (caused_by(OSError(errno.EROFS, "read-only")), errno.EROFS),
        (caused_by(OSError(errno.EACCES, "denied"), implicitly=True), errno.EACCES),
        (RuntimeError("IO Error: No space left on device"), errno.ENOSPC),
        (RuntimeError("IO Error: Disk quota exceeded"), errno.EDQUOT),
        (RuntimeError("Cannot open file: Read-only file system"), errno.EROFS),
        (OSError(errno.ENOENT, "Permission denied, then gone"), errno.EACCES),
        (caused_by(RuntimeError("write failed: No space left on device")), errno.ENOSPC),
        (caused_by(ValueError("a bad value")), None),
        (OSError(errno.ENOENT, "No such file or directory"), None),
        (ValueError("a bad value"), None),
    ],
    ids=[
        "errno",
        "quota",
        "eperm",
        "cause",
        "context",
        "text",
        "quota-text",
        "read-only-text",
        "other-errno-with-text",
        "text-of-cause",
        "unrelated-cause",
        "unrelated-errno",
        "unrelated",
    ],
)
def test_storage_errno_is_the_file_system_error_behind_an_error(
    error: BaseException, code: int | None
) -> None:
    assert storage_errno(error) == code


def test_a_full_disk_is_told_in_one_line_with_what_to_do() -> None:
    error = caused_by(OSError(errno.ENOSPC, "disk full"))

    refused = storage_error(error, Path("/data/warehouse/news.duckdb"))

    assert isinstance(refused, WarehouseStorageError)
    assert str(refused) == (
        "the disk holding /data/warehouse is full (No space left on device): nothing was "
        "published, the published warehouse is as it was and the run's partial files were "
        "removed; free some space (a run needs about twice the warehouse's size) and run again"
    )


def test_an_error_that_is_not_the_file_system_s_is_left_alone() -> None:
    assert storage_error(ValueError("a bad value"), Path("/data/news.duckdb")) is None
