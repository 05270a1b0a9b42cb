"""The warehouse file's life: the next version starts as a clone (or kernel copy) of the
published file, which stays untouched."""

import hashlib
import os
from pathlib import Path

import pytest

from flows import warehouse
from flows.warehouse import NextVersion, clone_file


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

    monkeypatch.setattr(warehouse, "clone_file", disk_full)

    with pytest.raises(OSError, match="No space left"):
        NextVersion.prepare(published, "r1")

    assert sorted(path.name for path in tmp_path.iterdir()) == ["news.duckdb"]
