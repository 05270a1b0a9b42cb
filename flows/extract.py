"""Find page files under the input folders, read them and decode their text."""

import codecs
import errno
import fnmatch
import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISREG, S_ISSOCK

import polars as pl

from flows.schema import polars_schema

DISCOVERED_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "input_root": pl.String(),
        "source_path": pl.String(),
        "path": pl.String(),
        # From one stat at discovery; NULL when the entry cannot be examined.
        "size_bytes": pl.Int64(),
        "modified_at": pl.Datetime("us"),
    }
)
# What the warehouse knows of each file: its manifest row, and the page it loaded, if any.
KNOWN_FILE_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "source_path": pl.String(),
        "size_bytes": pl.Int64(),
        "modified_at": pl.Datetime("us"),
        "sha256": pl.String(),
        "loaded_sha256": pl.String(),
        "parser_version": pl.String(),
    }
)
PAGE_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "source_path": pl.String(),
        "size_bytes": pl.Int64(),
        "modified_at": pl.Datetime("us"),
        "sha256": pl.String(),
        "text": pl.String(),
    }
)
# A quarantine row before the run id is known.
REJECT_SCHEMA = pl.Schema(
    {name: dtype for name, dtype in polars_schema("quarantine").items() if name != "run_id"}
)

_EPOCH = datetime(1970, 1, 1)
# Share of control characters above which decoded bytes are not text.
_MAX_CONTROL_SHARE = 0.05
# Control characters (Unicode category Cc) other than tab, line feed, form feed and CR.
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode a byte that is not valid UTF-8 as cp1252 (Latin-1 where cp1252 has a hole).

    Crawls mix encodings inside one file: an acute accent saved as a single cp1252 byte among UTF-8.
    """
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.start + 1]
    try:
        return bad.decode("cp1252"), error.start + 1
    except UnicodeDecodeError:
        return bad.decode("latin-1"), error.start + 1


codecs.register_error("newsflow-cp1252", _cp1252_fallback)


@dataclass(frozen=True)
class Discovery:
    """Files that match the input pattern, those set aside already, and how many did not match."""

    files: pl.DataFrame
    rejects: pl.DataFrame
    ignored: int


@dataclass(frozen=True)
class Decoded:
    """The text of a page file, or why there is none."""

    text: str | None
    reason: str | None = None
    message: str | None = None


def discover_files(
    inputs: tuple[Path, ...], pattern: str, names: tuple[str, ...] | None = None
) -> Discovery:
    """List every entry named like a page under `inputs`, recursively, sorted by relative path.

    Each folder's files belong to its source: its name in `names` (default: the folder's own
    name). Directories and broken links named like a page are listed too: reading them fails
    and they are quarantined, so that nothing that looks like a page goes unaccounted for. So
    is a folder that cannot be listed, since its pages would otherwise go unseen in silence.
    """
    rows: list[tuple[str, str, str, str, int | None, int | None]] = []
    unlistable: list[dict] = []
    ignored = 0
    # fnmatch.fnmatch's own test, compiled once (POSIX names need no case folding).
    named_like_a_page = re.compile(fnmatch.translate(pattern)).match
    names = names or tuple(root.name for root in inputs)
    for source, root in zip(names, inputs, strict=True):

        def cannot_list(error: OSError, root: Path = root, source: str = source) -> None:
            folder = Path(error.filename).relative_to(root).as_posix()
            message = (
                f"The folder cannot be listed ({error.strerror}); the pages in it were not "
                "seen. Check its permissions."
            )
            unlistable.append({"source": source, **_entry_reject(folder, "unreadable", message)})

        top = os.fspath(root)
        prefix = os.path.join(top, "")
        for folder, entries in _folders(top, cannot_list):
            # Strings, not Path objects: one per file took seconds for 100,000 files.
            below = folder[len(prefix) :] if folder != top else ""
            for entry in entries:
                if not named_like_a_page(entry.name):
                    ignored += not _is_folder(entry)
                    continue
                relative = f"{below}/{entry.name}" if below else entry.name
                hostile = _hostile_entry(root, entry, relative)
                if hostile is not None:
                    unlistable.append({"source": source, **hostile})
                    continue
                size, mtime = _stat_or_none(entry)
                rows.append((source, top, relative, entry.path, size, mtime))
    # Sorted by relative path, not in walk order (which lists a folder's files before its
    # sub-folders); the stable sort keeps the input folders in the order given.
    found = (
        pl.DataFrame(
            rows,
            schema={**DISCOVERED_SCHEMA, "modified_at": pl.Int64()},
            orient="row",
        )
        .with_columns(pl.col("modified_at").cast(pl.Datetime("us")))
        .sort("source", "source_path", maintain_order=True)
    )
    # A page is known by its source and its path in the folder: when two folders of one
    # source name hold the same path, the first folder given wins.
    first = pl.struct("source", "source_path").is_first_distinct()
    rejects = pl.concat(
        [_duplicate_rejects(found.filter(~first)), pl.DataFrame(unlistable, schema=REJECT_SCHEMA)]
    )
    return Discovery(files=found.filter(first), rejects=rejects, ignored=ignored)


def _folders(
    top: str, onerror: Callable[[OSError], None]
) -> Iterator[tuple[str, list[os.DirEntry]]]:
    """Each folder under `top` with its entries in name order: `top` first, then each
    sub-folder in name order, as os.walk lists them (links to folders are listed, not
    followed; `onerror` gets the error of a folder that cannot be listed).

    The entries, not their names as os.walk gives them, so that a file's type and its status
    come from the listing and one stat call: 1.06 s to list 101,000 files became 0.79 s."""
    try:
        with os.scandir(top) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        onerror(error)
        return
    yield top, entries
    for entry in entries:
        if _is_folder(entry) and not entry.is_symlink():
            yield from _folders(entry.path, onerror)


def _is_folder(entry: os.DirEntry) -> bool:
    """Whether `entry` is a folder or a link to one (as os.walk tells them from files)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _hostile_entry(root: Path, entry: os.DirEntry, relative: str) -> dict | None:
    """A quarantine row for `entry` (at `relative` in `root`) that must not be read, or None:
    a name that is not UTF-8 text, or a link that leads out of the input folder."""
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        # The OS handed over bytes that are not UTF-8 as surrogates: keep them visible, escaped.
        escaped = os.fsencode(relative).decode("utf-8", "backslashreplace")
        return _entry_reject(
            escaped,
            "bad_name",
            "The file name is not valid UTF-8 (bad bytes shown as \\xNN); the file was not "
            "read. Rename it to UTF-8.",
        )
    if not entry.is_symlink():
        return None
    try:
        target = Path(entry.path).resolve()
    except (OSError, RuntimeError):
        return None  # a link loop: reading it says so (broken_link)
    if target.is_relative_to(root.resolve()):
        return None
    return _entry_reject(
        relative,
        "outside_input",
        "The file is a symbolic link to a file outside the input folder; it was not followed. "
        "Copy the page into the input folder if it belongs to the crawl.",
    )


def _entry_reject(source_path: str, reason: str, message: str) -> dict:
    return {
        "source_path": source_path,
        "reason": reason,
        "message": message,
        "size_bytes": None,
        "sha256": None,
    }


def _duplicate_rejects(duplicates: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows for files at a relative path an earlier input folder has already."""
    return duplicates.select(
        "source_path",
        reason=pl.lit("duplicate_path"),
        message=pl.format(
            "An earlier input folder of source {} has a file at the same relative path; {} "
            "was not read. Give each crawl folder its own name (--source).",
            "source",
            "path",
        ),
        size_bytes=pl.lit(None, dtype=pl.Int64()),
        sha256=pl.lit(None, dtype=pl.String()),
        source="source",
    )


def _stat_or_none(entry: os.DirEntry) -> tuple[int | None, int | None]:
    """Size and modification time (microseconds since the epoch) of the file `entry` names
    (of its target, for a link)."""
    try:
        stat = entry.stat()
    except OSError:
        return None, None
    return stat.st_size, _mtime_us(stat)


def _mtime_us(stat: os.stat_result) -> int:
    # Whole microseconds from the nanosecond field: exactly what a DuckDB TIMESTAMP holds, so
    # the value read back from the manifest compares equal (a float would round differently).
    return stat.st_mtime_ns // 1_000


def split_unchanged(
    files: pl.DataFrame, known: pl.DataFrame, parser_version: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split discovered `files` into (to_read, unchanged) without opening any of them.

    A file is unchanged when its size and modification time are those in the manifest, the
    content the manifest saw is the content loaded, and the current parser loaded it. Every
    other file is read: new, edited, quarantined before, or due for the new parser.
    """
    trusted = known.filter(
        (pl.col("sha256") == pl.col("loaded_sha256")) & (pl.col("parser_version") == parser_version)
    ).select("source", "source_path", "size_bytes", "modified_at")
    keys = ["source", "source_path", "size_bytes", "modified_at"]
    unchanged = files.join(trusted, on=keys, how="semi")
    return files.join(trusted, on=keys, how="anti"), unchanged


def decode(raw: bytes) -> Decoded:
    """Turn file bytes into NFC text with LF line ends, or say why they are not a page."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Saved as UTF-16 (some Windows tools do): half its bytes are NUL, yet it is text.
        raw = raw.decode("utf-16", errors="replace").encode()
    if not raw.strip():
        return Decoded(None, "empty", "The file is empty or holds only white space.")
    nul_share = raw.count(b"\x00") / len(raw)
    if nul_share > _MAX_CONTROL_SHARE:
        return Decoded(None, "binary", "The file holds binary data (NUL bytes), not page text.")
    raw = raw.replace(b"\x00", b"")
    text = raw.decode("utf-8-sig", errors="newsflow-cp1252")
    if len(_CONTROL_CHAR.findall(text)) / len(text) > _MAX_CONTROL_SHARE:
        return Decoded(
            None,
            "undecodable",
            "The bytes decode neither as UTF-8 nor as cp1252 text; "
            "check the file's encoding and save it as UTF-8.",
        )
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        return Decoded(None, "empty", "The file holds only white space and control characters.")
    return Decoded(text)


def read_pages(files: pl.DataFrame, max_file_bytes: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read and decode `files`; return (pages, rejects), every file in exactly one of them."""
    pages: list[dict] = []
    rejects: list[dict] = []
    if "source" not in files.columns:
        files = files.with_columns(source=pl.lit(""))
    for source, source_path, path in files.select("source", "source_path", "path").iter_rows():
        page, reject = _read_one(source_path, Path(path), max_file_bytes)
        if page is not None:
            pages.append({"source": source, **page})
        else:
            rejects.append({"source": source, **reject})
    return (
        pl.DataFrame(pages, schema=PAGE_SCHEMA),
        pl.DataFrame(rejects, schema=REJECT_SCHEMA),
    )


def _read_one(source_path: str, path: Path, max_file_bytes: int) -> tuple[dict | None, dict]:
    def reject(reason: str, message: str, size: int | None = None, sha: str | None = None):
        return None, {
            "source_path": source_path,
            "reason": reason,
            "message": message,
            "size_bytes": size,
            "sha256": sha,
        }

    stat = _stat(path)
    if not isinstance(stat, os.stat_result):  # a stat_result is a tuple too: test it first
        return reject(*stat)
    if not S_ISREG(stat.st_mode):
        # Never opened: a pipe would block the run, a device read could have side effects.
        return reject("not_a_file", f"A {_kind(stat.st_mode)} is named like a page file.")

    def too_large(size: int) -> tuple[None, dict]:
        return reject(
            "too_large",
            f"The file has {size:,} bytes or more, over the limit of {max_file_bytes:,}; "
            "raise NEWSFLOW_MAX_FILE_BYTES if it is a real page.",
            size,
        )

    if stat.st_size > max_file_bytes:
        return too_large(stat.st_size)
    try:
        raw = read_at_most(path, max_file_bytes + 1)
    except FileNotFoundError:
        return reject("vanished", "The file disappeared between discovery and reading.")
    except OSError as error:
        return reject(
            "unreadable",
            f"The file cannot be read ({error.strerror}); check its permissions.",
            stat.st_size,
        )
    if len(raw) > max_file_bytes:
        # Files of /proc and the like say they are empty and are not.
        return too_large(len(raw))
    sha = hashlib.sha256(raw).hexdigest()
    decoded = decode(raw)
    if decoded.text is None:
        return reject(decoded.reason or "undecodable", decoded.message or "", len(raw), sha)
    page = {
        "source_path": source_path,
        "size_bytes": len(raw),
        # The stat taken before reading: should the file change after it, the next run finds
        # a newer time than the manifest's and reads it again.
        "modified_at": _EPOCH + timedelta(microseconds=_mtime_us(stat)),
        "sha256": sha,
        "text": decoded.text,
    }
    return page, {}


def read_at_most(path: Path, limit: int) -> bytes:
    """The first `limit` bytes of the regular file at `path` (fewer when it is shorter)."""
    # O_NONBLOCK: should a pipe take the file's place after the check, opening it does not
    # wait for a writer; fstat then shows it is not a regular file.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return handle.read(limit)


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, kind in (
        (S_ISDIR, "directory"),
        (S_ISFIFO, "named pipe (FIFO)"),
        (S_ISCHR, "character device"),
        (S_ISBLK, "block device"),
        (S_ISSOCK, "socket"),
    ):
        if test(mode):
            return kind
    return "special file"


def _stat(path: Path) -> os.stat_result | tuple[str, str]:
    """The file's status, or why it cannot be examined: (reason, message)."""
    try:
        return path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return (
                "broken_link",
                f"The file is a symbolic link to {os.readlink(path)}, which does not exist; "
                "fix or remove the link.",
            )
        return ("vanished", "The file disappeared between discovery and reading.")
    except OSError as error:
        if error.errno == errno.ELOOP:
            return (
                "broken_link",
                "The file is a symbolic link that leads back to itself (a link loop); "
                "fix or remove the link.",
            )
        return ("unreadable", f"The file cannot be examined: {error.strerror}.")


def drop_unchanged(pages: pl.DataFrame, known: pl.DataFrame, parser_version: str) -> pl.DataFrame:
    """Keep the pages whose content or parser changed since they were loaded."""
    current = known.filter(pl.col("parser_version") == parser_version).select(
        "source", "source_path", "sha256"
    )
    return pages.join(current, on=["source", "source_path", "sha256"], how="anti")
