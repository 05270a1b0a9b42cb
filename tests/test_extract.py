"""Tests for flows.extract: finding page files, reading them and decoding their bytes."""

import os
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows import extract
from flows.extract import (
    DISCOVERED_SCHEMA,
    KNOWN_FILE_SCHEMA,
    PAGE_SCHEMA,
    decode,
    discover_files,
    drop_unchanged,
    read_pages,
    split_unchanged,
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
        [
            (
                root.name,
                str(root),
                relative,
                str(root / relative),
                (root / relative).stat().st_size,
                datetime(1970, 1, 1)
                + timedelta(microseconds=(root / relative).stat().st_mtime_ns // 1000),
            )
            for root, relative in rows
        ],
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
        pytest.param(
            ("\ufeffTitle\r\n\r\n" + NON_LATIN).encode("utf-16-le"),
            "Title\n\n" + NON_LATIN,
            id="utf16-le-bom",
        ),
        pytest.param(("\ufeffTitle\n").encode("utf-16-be"), "Title\n", id="utf16-be-bom"),
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
        pytest.param(b"\xff\xfe", "empty", id="utf16-bom-only"),
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
    (root / "images").mkdir()
    (root / "a" / "media").mkdir()

    discovery = discover_files((root,), "*.txt")

    expected = discovered((root, "a/deeper/y.txt"), (root, "a/x.txt"), (root, "b.txt"))
    assert_frame_equal(discovery.files, expected)
    # The two files not named like a page; folders are walked, not ignored.
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


def test_discover_files_keeps_the_same_path_in_two_crawls_apart(tmp_path: Path) -> None:
    first, second = tmp_path / "crawl-1", tmp_path / "crawl-2"
    write(first / "site" / "page.txt", "first copy")
    write(second / "site" / "page.txt", "second copy")

    discovery = discover_files((first, second), "*.txt")

    assert discovery.files.select("source", "source_path").rows() == [
        ("crawl-1", "site/page.txt"),
        ("crawl-2", "site/page.txt"),
    ]
    assert discovery.rejects.is_empty()


def test_discover_files_sorts_by_source_name_then_path(tmp_path: Path) -> None:
    first, second = tmp_path / "crawl-1", tmp_path / "crawl-2"
    write(first / "a.txt", "first folder, first path")
    write(second / "b.txt", "second folder, second path")

    discovery = discover_files((first, second), "*.txt", ("zeta", "alpha"))

    assert discovery.files.select("source", "source_path").rows() == [
        ("alpha", "b.txt"),
        ("zeta", "a.txt"),
    ]


def test_discover_files_rejects_a_relative_path_seen_in_an_earlier_folder(tmp_path: Path) -> None:
    first, second = tmp_path / "crawl-1", tmp_path / "crawl-2"
    write(first / "site" / "page.txt", "first copy")
    write(first / "only-first.txt", "only in the first crawl")
    write(second / "site" / "page.txt", "second copy")
    write(second / "only-second.txt", "only in the second crawl")

    # Two folders given one source name: one crawl, so one page per path.
    discovery = discover_files((first, second), "*.txt", ("crawl", "crawl"))

    expected = discovered(
        (first, "only-first.txt"), (second, "only-second.txt"), (first, "site/page.txt")
    ).with_columns(source=pl.lit("crawl"))
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
    (root / "loop.txt").symlink_to(root / "loop.txt")
    files = discover_files((root,), "*.txt").files

    pages, rejects = read_pages(files, MAX_BYTES)

    assert pages.schema == PAGE_SCHEMA
    assert sorted(pages["source_path"]) == ["good.txt", "limit.txt"]
    assert dict(rejects.select("source_path", "reason").rows()) == {
        "blank.txt": "empty",
        "binary.txt": "binary",
        "broken.txt": "broken_link",
        "loop.txt": "broken_link",
        "dir.txt": "not_a_file",
        "empty.txt": "empty",
        "huge.txt": "too_large",
        "noise.txt": "undecodable",
    }
    assert pages.height + rejects.height == files.height
    assert rejects["message"].str.len_chars().min() > 0
    messages = dict(rejects.select("source_path", "message").rows())
    assert "missing-target.txt, which does not exist" in messages["broken.txt"]
    assert "link loop" in messages["loop.txt"]
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
    read_at_most = extract.read_at_most

    def refuse_locked(path: Path, limit: int) -> bytes:
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return read_at_most(path, limit)

    monkeypatch.setattr(extract, "read_at_most", refuse_locked)

    pages, rejects = read_pages(files, MAX_BYTES)

    assert pages["source_path"].to_list() == ["open.txt"]
    assert rejects.select("source_path", "reason", "size_bytes").rows() == [
        ("locked.txt", "unreadable", len("A page nobody may read."))
    ]
    assert "Permission denied" in rejects["message"][0]


def test_read_pages_quarantines_a_file_that_vanished_after_discovery(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    write(root / "gone.txt", "A page deleted while the run was going.")
    write(root / "kept.txt", "A page that stays.")
    files = discover_files((root,), "*.txt").files
    (root / "gone.txt").unlink()

    pages, rejects = read_pages(files, MAX_BYTES)

    assert pages["source_path"].to_list() == ["kept.txt"]
    assert rejects.select("source_path", "reason").rows() == [("gone.txt", "vanished")]


def test_discover_files_quarantines_a_folder_it_cannot_list(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    write(root / "open.txt", "A page.")
    write(root / "locked" / "hidden.txt", "A page in a folder nobody may list.")
    (root / "locked").chmod(0)
    try:
        if os.access(root / "locked", os.R_OK):
            pytest.skip("running with privileges that list any folder (root)")
        discovery = discover_files((root,), "*.txt")
    finally:
        (root / "locked").chmod(0o755)

    assert discovery.files["source_path"].to_list() == ["open.txt"]
    assert discovery.rejects.select("source_path", "reason").rows() == [("locked", "unreadable")]


def test_discover_files_quarantines_a_folder_the_os_refuses_to_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root lists a chmod 000 folder anyway; this test reaches the same branch on any account.
    root = tmp_path / "crawl"
    write(root / "open.txt", "A page.")
    write(root / "locked" / "hidden.txt", "A page in a folder nobody may list.")
    scandir = os.scandir

    def refuse_locked(path: str | os.PathLike[str]) -> Iterator[os.DirEntry[str]]:
        if not isinstance(path, int) and Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse_locked)

    discovery = discover_files((root,), "*.txt")

    assert discovery.files["source_path"].to_list() == ["open.txt"]
    assert discovery.rejects.rows() == [
        (
            "locked",
            "unreadable",
            "The folder cannot be listed (Permission denied); the pages in it were not seen. "
            "Check its permissions.",
            None,
            None,
            "crawl",
        )
    ]


# split_unchanged

KNOWN_TIME = datetime(2025, 3, 1, 12, 0)


@pytest.mark.parametrize(
    ("file", "manifest", "loaded", "read"),
    [
        pytest.param((10, KNOWN_TIME), (10, KNOWN_TIME, "s1"), ("s1", "2"), False, id="same"),
        pytest.param((11, KNOWN_TIME), (10, KNOWN_TIME, "s1"), ("s1", "2"), True, id="size"),
        pytest.param(
            (10, KNOWN_TIME + timedelta(microseconds=1)),
            (10, KNOWN_TIME, "s1"),
            ("s1", "2"),
            True,
            id="mtime-by-a-microsecond",
        ),
        pytest.param((10, KNOWN_TIME), (10, KNOWN_TIME, "s1"), ("s1", "1"), True, id="old-parser"),
        pytest.param(
            (10, KNOWN_TIME), (10, KNOWN_TIME, "s2"), ("s1", "2"), True, id="last-read-not-loaded"
        ),
        pytest.param((10, KNOWN_TIME), (10, KNOWN_TIME, "s1"), None, True, id="never-loaded"),
        pytest.param((10, KNOWN_TIME), (10, KNOWN_TIME, None), None, True, id="never-read"),
        pytest.param((10, KNOWN_TIME), None, None, True, id="new"),
        pytest.param((None, None), (10, KNOWN_TIME, "s1"), ("s1", "2"), True, id="cannot-stat"),
    ],
)
def test_split_unchanged_reads_only_files_that_may_differ(
    file: tuple, manifest: tuple | None, loaded: tuple | None, read: bool
) -> None:
    files = pl.DataFrame(
        [("crawl", "/crawl", "a.txt", "/crawl/a.txt", *file)],
        schema=DISCOVERED_SCHEMA,
        orient="row",
    )
    known = pl.DataFrame(
        [("crawl", "a.txt", *(manifest or (None, None, None)), *(loaded or (None, None)))],
        schema=KNOWN_FILE_SCHEMA,
        orient="row",
    )

    to_read, unchanged = split_unchanged(files, known, parser_version="2")

    assert (to_read.height, unchanged.height) == ((1, 0) if read else (0, 1))
    assert_frame_equal(pl.concat([to_read, unchanged]), files)


def test_split_unchanged_reads_everything_in_a_new_warehouse(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    write(root / "a.txt", "page a")
    write(root / "b.txt", "page b")
    files = discover_files((root,), "*.txt").files

    to_read, unchanged = split_unchanged(files, pl.DataFrame(schema=KNOWN_FILE_SCHEMA), "1")

    assert_frame_equal(to_read, files)
    assert unchanged.is_empty()


def test_a_file_read_once_is_unchanged_by_its_stat_at_the_next_discovery(tmp_path: Path) -> None:
    # The time stored from reading must equal, to the microsecond, the one discovery finds.
    root = tmp_path / "crawl"
    page = write(root / "a.txt", "page a")
    os.utime(page, ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    pages, _ = read_pages(discover_files((root,), "*.txt").files, MAX_BYTES)
    known = pages.select(
        "source",
        "source_path",
        "size_bytes",
        "modified_at",
        "sha256",
        loaded_sha256="sha256",
        parser_version=pl.lit("1"),
    )

    to_read, unchanged = split_unchanged(discover_files((root,), "*.txt").files, known, "1")

    assert (to_read.height, unchanged.height) == (0, 1)
    page.write_text("page A")  # same size, new time
    to_read, _ = split_unchanged(discover_files((root,), "*.txt").files, known, "1")
    assert to_read["source_path"].to_list() == ["a.txt"]


# drop_unchanged


def test_drop_unchanged_keeps_new_changed_and_reparsed_pages() -> None:
    modified = datetime(2025, 3, 1, 12, 0)
    pages = pl.DataFrame(
        {
            "source": ["crawl"] * 4,
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
            "source": ["crawl"] * 4,
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
            "source": ["crawl"],
            "source_path": ["a.txt"],
            "size_bytes": [1],
            "modified_at": [datetime(2025, 1, 1)],
            "sha256": ["sha-a"],
            "text": ["a"],
        },
        schema=PAGE_SCHEMA,
    )
    known = pl.DataFrame(
        schema={
            "source": pl.String(),
            "source_path": pl.String(),
            "sha256": pl.String(),
            "parser_version": pl.String(),
        }
    )

    assert_frame_equal(drop_unchanged(pages, known, parser_version="1"), pages)


# Hostile entries: never followed, never fatal, each quarantined with its reason.


def test_a_file_name_that_is_not_utf8_is_quarantined_escaped(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    write(root / "good.txt", "Title\n\nBody.\n")
    os.makedirs(os.fsencode(root / "sub"))
    (Path(os.fsdecode(os.fsencode(root / "sub") + b"/caf\xe9.txt"))).write_text("page")

    discovery = discover_files((root,), "*.txt")
    pages, _ = read_pages(discovery.files, MAX_BYTES)

    assert discovery.files["source_path"].to_list() == ["good.txt"]
    assert discovery.rejects.select("source_path", "reason").rows() == [
        ("sub/caf\\xe9.txt", "bad_name")
    ]
    # Every name stored is valid text: the frame and DuckDB take it.
    discovery.rejects["source_path"].to_list()[0].encode("utf-8")
    assert pages["source_path"].to_list() == ["good.txt"]


def test_links_out_of_the_input_folder_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    secret = write(tmp_path / "elsewhere" / "secret.txt", "API_TOKEN=hunter2\n")
    write(root / "site" / "inside.txt", "Title\n\nBody.\n")
    (root / "site" / "to-secret.txt").symlink_to(secret)
    (root / "environ.txt").symlink_to("/proc/self/environ")
    (root / "relative.txt").symlink_to(Path("..") / "elsewhere" / "secret.txt")
    (root / "inside-link.txt").symlink_to(root / "site" / "inside.txt")
    (root / "outside-folder.txt").symlink_to(secret.parent, target_is_directory=True)

    discovery = discover_files((root,), "*.txt")
    pages, _ = read_pages(discovery.files, MAX_BYTES)

    assert sorted(discovery.rejects.select("source_path", "reason").rows()) == [
        ("environ.txt", "outside_input"),
        ("outside-folder.txt", "outside_input"),
        ("relative.txt", "outside_input"),
        ("site/to-secret.txt", "outside_input"),
    ]
    assert sorted(pages["source_path"]) == ["inside-link.txt", "site/inside.txt"]
    assert discovery.rejects["source"].to_list() == ["crawl"] * 4
    assert not pages["text"].str.contains("hunter2").any()


def test_special_files_are_never_opened(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    write(root / "good.txt", "Title\n\nBody.\n")
    os.mkfifo(root / "pipe.txt")  # opening it for reading would wait for a writer forever
    (root / "dir.txt").mkdir()

    discovery = discover_files((root,), "*.txt")
    pages, rejects = read_pages(discovery.files, MAX_BYTES)

    assert pages["source_path"].to_list() == ["good.txt"]
    messages = dict(rejects.select("source_path", "message").rows())
    assert set(rejects["reason"]) == {"not_a_file"}
    assert "named pipe" in messages["pipe.txt"]
    assert "directory" in messages["dir.txt"]


def test_a_file_that_says_it_is_empty_is_still_held_to_the_size_limit(tmp_path: Path) -> None:
    # /proc files report size 0 whatever they hold.
    environ = Path("/proc/self/environ")
    if environ.stat().st_size != 0 or len(environ.read_bytes()) < 20:
        pytest.skip("no /proc file of size 0 with content here")
    files = pl.DataFrame(
        {"source_path": ["environ.txt"], "path": [str(environ)]},
    )

    pages, rejects = read_pages(files, 16)

    assert pages.is_empty()
    assert rejects.select("source_path", "reason", "size_bytes").rows() == [
        ("environ.txt", "too_large", 17)
    ]
