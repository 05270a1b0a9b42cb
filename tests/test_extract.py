"""Tests for flows.extract: finding page files, reading them and decoding their bytes."""

import os
import random
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.extract import (
    DISCOVERED_SCHEMA,
    PAGE_SCHEMA,
    decode,
    discover_files,
    drop_unchanged,
    read_pages,
)

MAX_BYTES = 1_000
NON_LATIN = "مرحبا بالعالم\nПривет, мир\n"  # noqa: RUF001 (Arabic and Cyrillic on purpose)


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def discovered(*rows: tuple[Path, str]) -> pl.DataFrame:
    """The files frame discover_files should return for (input root, relative path) rows."""
    return pl.DataFrame(
        [(str(root), relative, str(root / relative)) for root, relative in rows],
        schema=DISCOVERED_SCHEMA,
        orient="row",
    )


# decode


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        pytest.param(b"\xef\xbb\xbfTitle line\n\nBody.", "Title line\n\nBody.", id="utf8-bom"),
        pytest.param(b"one\r\ntwo\r\n\r\nthree", "one\ntwo\n\nthree", id="crlf"),
        pytest.param(b"one\rtwo\r\rthree", "one\ntwo\n\nthree", id="lone-cr"),
        pytest.param(b"one\r\ntwo\rthree\n", "one\ntwo\nthree\n", id="mixed-line-ends"),
        pytest.param(b"It can\xb4t be", "It can\u00b4t be", id="cp1252-acute-in-ascii"),
        pytest.param(
            "Caf\u00e9 \u2014 ".encode() + b"\x93quoted\x94 and can\xb4t",
            "Caf\u00e9 \u2014 \u201cquoted\u201d and can\u00b4t",
            id="cp1252-bytes-among-utf8",
        ),
        pytest.param(
            "Gar\u00e7on, cr\u00e8me br\u00fbl\u00e9e, na\u00efve \u00a9 2019".encode("latin-1"),
            "Gar\u00e7on, cr\u00e8me br\u00fbl\u00e9e, na\u00efve \u00a9 2019",
            id="pure-latin-1",
        ),
        pytest.param(
            "Se\u0301amus O\u0301 Ne\u0301ill".encode(),
            "S\u00e9amus \u00d3 N\u00e9ill",
            id="nfc-composes-accents",
        ),
        pytest.param(
            b"A page\x00 with a few\x00 stray NUL\x00 bytes in its text.\n" + b"More text.\n" * 20,
            "A page with a few stray NUL bytes in its text.\n" + "More text.\n" * 20,
            id="stray-nul-bytes-stripped",
        ),
        pytest.param(
            ("\ufeff" + NON_LATIN.replace("\n", "\r\n")).encode(), NON_LATIN, id="non-latin-utf8"
        ),
    ],
)
def test_decode_returns_nfc_text_with_lf_line_ends(raw: bytes, text: str) -> None:
    decoded = decode(raw)

    assert (decoded.text, decoded.reason) == (text, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b" \n\t\r\n  \n", "empty", id="whitespace-only"),
        pytest.param(b"\x00" * 500 + b"PK header", "binary", id="mostly-nul"),
        pytest.param(b"\x00\x01\x02\x00" * 64, "binary", id="nul-and-controls"),
    ],
)
def test_decode_rejects_files_without_page_text(raw: bytes, reason: str) -> None:
    decoded = decode(raw)

    assert decoded.text is None
    assert decoded.reason == reason
    assert decoded.message


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_decode_never_returns_random_bytes_as_text(seed: int) -> None:
    raw = random.Random(seed).randbytes(4_096)

    decoded = decode(raw)

    assert decoded.text is None
    assert decoded.reason in {"binary", "undecodable"}


# discover_files


def test_discover_files_searches_sub_folders_and_counts_ignored_files(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    write(root / "b.txt", "page b")
    write(root / "a" / "x.txt", "page a/x")
    write(root / "a" / "deeper" / "y.txt", "page a/deeper/y")
    write(root / "notes.md", "not a page")
    write(root / "a" / "index.json", "{}")

    discovery = discover_files((root,), "*.txt")

    expected = discovered((root, "a/deeper/y.txt"), (root, "a/x.txt"), (root, "b.txt"))
    assert_frame_equal(discovery.files, expected)
    assert discovery.ignored == 2
    assert discovery.rejects.is_empty()


def test_discover_files_order_is_sorted_and_stable(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    for name in ["m.txt", "z/k.txt", "c.txt", "b/a.txt", "a.txt", "b/c/d.txt"]:
        write(root / name, name)

    first = discover_files((root,), "*.txt")
    second = discover_files((root,), "*.txt")

    paths = first.files["source_path"].to_list()
    assert paths == ["a.txt", "b/a.txt", "b/c/d.txt", "c.txt", "m.txt", "z/k.txt"]
    assert_frame_equal(first.files, second.files)


def test_discover_files_lists_a_directory_named_like_a_page(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    write(root / "page.txt", "a page")
    (root / "folder.txt").mkdir()

    discovery = discover_files((root,), "*.txt")
    pages, rejects = read_pages(discovery.files, MAX_BYTES)

    assert discovery.files["source_path"].to_list() == ["folder.txt", "page.txt"]
    assert discovery.ignored == 0
    assert pages["source_path"].to_list() == ["page.txt"]
    assert rejects.select("source_path", "reason").rows() == [("folder.txt", "not_a_file")]


def test_discover_files_rejects_a_relative_path_seen_in_an_earlier_folder(tmp_path: Path) -> None:
    first, second = tmp_path / "crawl-1", tmp_path / "crawl-2"
    write(first / "site" / "page.txt", "first copy")
    write(first / "only-first.txt", "only in the first crawl")
    write(second / "site" / "page.txt", "second copy")
    write(second / "only-second.txt", "only in the second crawl")

    discovery = discover_files((first, second), "*.txt")

    expected = discovered(
        (first, "only-first.txt"), (second, "only-second.txt"), (first, "site/page.txt")
    )
    assert_frame_equal(discovery.files, expected)
    assert discovery.rejects.select("source_path", "reason", "size_bytes").rows() == [
        ("site/page.txt", "duplicate_path", None)
    ]
    assert str(second / "site" / "page.txt") in discovery.rejects["message"][0]


# read_pages


def test_read_pages_puts_every_file_in_exactly_one_of_pages_and_rejects(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    write(root / "good.txt", b"Title\r\n\r\nBody with can\xb4t in it.\r\n")
    write(root / "limit.txt", b"x" * MAX_BYTES)
    write(root / "empty.txt", b"")
    write(root / "blank.txt", b"\n\n   \n")
    write(root / "binary.txt", b"\x00" * 200 + b"\x89PNG")
    write(root / "noise.txt", random.Random(7).randbytes(MAX_BYTES))
    write(root / "huge.txt", b"y" * (MAX_BYTES + 1))
    (root / "dir.txt").mkdir()
    (root / "broken.txt").symlink_to(root / "missing-target.txt")
    files = discover_files((root,), "*.txt").files

    pages, rejects = read_pages(files, MAX_BYTES)

    assert pages.schema == PAGE_SCHEMA
    assert sorted(pages["source_path"]) == ["good.txt", "limit.txt"]
    assert dict(rejects.select("source_path", "reason").rows()) == {
        "blank.txt": "empty",
        "binary.txt": "binary",
        "broken.txt": "unreadable",
        "dir.txt": "not_a_file",
        "empty.txt": "empty",
        "huge.txt": "too_large",
        "noise.txt": "undecodable",
    }
    assert pages.height + rejects.height == files.height
    assert rejects["message"].str.len_chars().min() > 0
    good = pages.row(by_predicate=pl.col("source_path") == "good.txt", named=True)
    assert good["text"] == "Title\n\nBody with can\u00b4t in it.\n"
    assert good["size_bytes"] == len(b"Title\r\n\r\nBody with can\xb4t in it.\r\n")
    assert len(good["sha256"]) == 64


def test_read_pages_records_size_and_hash_of_rejected_bytes(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    write(root / "huge.txt", b"y" * (MAX_BYTES + 1))
    write(root / "empty.txt", b"")
    files = discover_files((root,), "*.txt").files

    _, rejects = read_pages(files, MAX_BYTES)

    assert rejects.select("source_path", "reason", "size_bytes").rows() == [
        ("empty.txt", "empty", 0),
        ("huge.txt", "too_large", MAX_BYTES + 1),
    ]
    # An empty file was read, so its hash is known; an oversized one was never read.
    assert rejects["sha256"].to_list() == [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        None,
    ]


def test_read_pages_quarantines_a_file_without_read_permission(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    locked = write(root / "locked.txt", "A page nobody may read.")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running with privileges that read any file (root)")
        files = discover_files((root,), "*.txt").files

        pages, rejects = read_pages(files, MAX_BYTES)
    finally:
        locked.chmod(0o644)

    assert pages.is_empty()
    assert rejects.select("source_path", "reason").rows() == [("locked.txt", "unreadable")]


def test_read_pages_quarantines_a_file_the_os_refuses_to_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads a chmod 000 file anyway; this test reaches the same branch on any account.
    root = tmp_path / "crawl"
    write(root / "locked.txt", "A page nobody may read.")
    write(root / "open.txt", "A page anyone may read.")
    files = discover_files((root,), "*.txt").files
    read_bytes = Path.read_bytes

    def refuse_locked(path: Path) -> bytes:
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse_locked)

    pages, rejects = read_pages(files, MAX_BYTES)

    assert pages["source_path"].to_list() == ["open.txt"]
    assert rejects.select("source_path", "reason", "size_bytes").rows() == [
        ("locked.txt", "unreadable", len("A page nobody may read."))
    ]
    assert "Permission denied" in rejects["message"][0]


# drop_unchanged


def test_drop_unchanged_keeps_new_changed_and_reparsed_pages() -> None:
    modified = datetime(2025, 3, 1, 12, 0)
    pages = pl.DataFrame(
        {
            "source_path": ["same.txt", "edited.txt", "old-parser.txt", "new.txt"],
            "size_bytes": [10, 11, 12, 13],
            "modified_at": [modified] * 4,
            "sha256": ["sha-same", "sha-edited-now", "sha-old-parser", "sha-new"],
            "text": ["same", "edited", "old parser", "new"],
        },
        schema=PAGE_SCHEMA,
    )
    known = pl.DataFrame(
        {
            "source_path": ["same.txt", "edited.txt", "old-parser.txt", "gone.txt"],
            "sha256": ["sha-same", "sha-edited-before", "sha-old-parser", "sha-gone"],
            "parser_version": ["2", "2", "1", "2"],
        }
    )

    changed = drop_unchanged(pages, known, parser_version="2")

    assert_frame_equal(changed, pages.slice(1, 3))


def test_drop_unchanged_keeps_everything_when_nothing_is_known() -> None:
    pages = pl.DataFrame(
        {
            "source_path": ["a.txt"],
            "size_bytes": [1],
            "modified_at": [datetime(2025, 1, 1)],
            "sha256": ["sha-a"],
            "text": ["a"],
        },
        schema=PAGE_SCHEMA,
    )
    known = pl.DataFrame(
        schema={"source_path": pl.String(), "sha256": pl.String(), "parser_version": pl.String()}
    )

    assert_frame_equal(drop_unchanged(pages, known, parser_version="1"), pages)
