"""The published file's life: the next version starts as a clone (or kernel copy) of the
published file, is built beside it and swapped in by one rename."""

import hashlib
import os
from pathlib import Path

import pytest

from flows.warehouse import NextVersion, WarehouseBusyError, WriterLock, clone_file

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
    with (
        WriterLock(warehouse),
        pytest.raises(WarehouseBusyError, match="another newsflow run is writing"),
    ):
        WriterLock(warehouse).__enter__()

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
