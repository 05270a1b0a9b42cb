"""The warehouse file's life: one writer at a time, the next version built beside it, swapped in."""

import errno
import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO


class WarehouseBusyError(Exception):
    """Another run holds the writer lock."""


class WarehouseOpenForWritingError(Exception):
    """Something other than newsflow has written to the published file."""


class WarehouseStorageError(Exception):
    """The warehouse folder cannot take the run's files: full, read-only or not writable."""


# What each error of the file system means for a run, and what to do about it.
_STORAGE_ADVICE = {
    errno.ENOSPC: (
        "the disk holding {folder} is full",
        "free some space (a run needs about twice the warehouse's size) and run again",
    ),
    errno.EDQUOT: (
        "the disk quota for {folder} is used up",
        "free some space or raise the quota, and run again",
    ),
    errno.EROFS: (
        "{folder} is on a read-only file system",
        "give --warehouse (or NEWSFLOW_WAREHOUSE) in a writable folder: newsflow writes the "
        "warehouse, its lock and the next version there",
    ),
    errno.EACCES: (
        "newsflow may not write in {folder}",
        "fix the folder's permissions or give --warehouse (or NEWSFLOW_WAREHOUSE) elsewhere",
    ),
}
_STORAGE_ADVICE[errno.EPERM] = _STORAGE_ADVICE[errno.EACCES]
# DuckDB reports the same errors as text only.
_STORAGE_TEXT = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}


# Errors that seconds of waiting do not cure: not worth a retry.
LASTING_STORAGE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def storage_errno(error: BaseException) -> int | None:
    """The file-system error (errno) that `error`, or what caused it, is; None if none."""
    seen: BaseException | None = error
    while seen is not None:
        code = getattr(seen, "errno", None)
        if code not in _STORAGE_ADVICE:
            code = next((c for text, c in _STORAGE_TEXT.items() if text in str(seen)), None)
        if code is not None:
            return code
        seen = seen.__cause__ or seen.__context__
    return None


def storage_error(error: BaseException, warehouse: Path) -> WarehouseStorageError | None:
    """A one-line error saying what the file system refused and what to do, when that is
    what `error` (or what caused it) is; None for any other error."""
    code = storage_errno(error)
    if code is None:
        return None
    what, advice = _STORAGE_ADVICE[code]
    return WarehouseStorageError(
        f"{what.format(folder=warehouse.parent)} ({os.strerror(code)}): nothing was "
        f"published, the published warehouse is as it was and the run's partial files "
        f"were removed; {advice}"
    )


class WriterLock:
    """One writer per warehouse: an exclusive lock on `<warehouse>.lock`, released on exit,
    even when the process is killed."""

    def __init__(self, warehouse: Path, wait: bool = False):
        self.path = warehouse.with_name(warehouse.name + ".lock")
        self.wait = wait
        self._handle: IO[str] | None = None

    def __enter__(self) -> "WriterLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise WarehouseBusyError(
                f"another newsflow run is writing {self.path.with_suffix('')}; "
                "wait for it to finish and try again (or pass --wait)"
            ) from None
        self._handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()


@dataclass(frozen=True)
class NextVersion:
    """The file that becomes the next version of the warehouse: a copy of the published file.

    Readers never see it until `swap` renames it over the published file in one step; a run
    that fails or is killed before leaves the published file exactly as it was. What is
    written into it is the writer's business (flows/load.py); this class only makes, checks,
    publishes and drops the file.
    """

    published: Path
    path: Path

    @classmethod
    def prepare(cls, published: Path, run_id: str) -> "NextVersion":
        """Start the next version from a copy of the published one (or from no file).

        Hold the writer lock: leftovers of dead runs are deleted here. The published file is
        only ever read (copied), never opened by DuckDB, so readers holding it are not
        disturbed and it cannot be changed by anything this run does.
        """
        version = cls(published, published.with_name(f".{published.name}.{run_id}.building"))
        published.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(published)
        wal = _wal(published)
        if wal.exists():
            # Committed changes that only the write-ahead log holds: a copy of the file alone
            # would publish without them, and they would be lost.
            raise WarehouseOpenForWritingError(
                f"{wal} exists: a program has {published.name} open read-write, or died while "
                "writing it. Close that program (open the file read-only); if none is "
                f"running, open the file once in the DuckDB shell (`duckdb {published}`, then "
                "`checkpoint;`) and run again."
            )
        if published.exists():
            try:
                clone_file(published, version.path)
            except BaseException:
                # A partial copy (disk full) would keep the disk full until the next run.
                version.discard()
                raise
        return version

    def seal(self) -> None:
        """Check that everything written is in the file itself (the writer has checkpointed
        and closed), so that renaming the file moves all of it."""
        if _wal(self.path).exists():
            raise RuntimeError(f"{_wal(self.path)} remains after a checkpoint; not publishing")

    def swap(self) -> None:
        """Make the sealed file the published one, in one atomic rename."""
        _durable_replace(self.path, self.published)

    def discard(self) -> None:
        """Drop the file; the published one is untouched."""
        self.path.unlink(missing_ok=True)
        _wal(self.path).unlink(missing_ok=True)


# ioctl(2) FICLONE: share the source's blocks, copy on write (btrfs, XFS, bcachefs, ...).
FICLONE = 0x40049409


def clone_file(source: Path, target: Path) -> str:
    """Make `target` a copy of `source` as cheaply as the file system allows; return how.

    A clone shares the blocks (no data is copied, whatever the size); where the file system
    cannot clone, copy_file_range copies inside the kernel (and clones where it can, e.g. NFS
    server-side copy); else a plain copy.
    """
    with source.open("rb") as src, target.open("wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return "clone"
        except OSError:
            pass
        size = os.fstat(src.fileno()).st_size
        copied = 0
        try:
            while copied < size:
                done = os.copy_file_range(src.fileno(), dst.fileno(), size - copied)
                if done == 0:
                    break
                copied += done
        except OSError:
            copied = -1
        if copied == size:
            return "copy_file_range"
    # A kernel copy that failed or stopped short (a file system that copies nothing) is
    # redone whole: the next version never starts from part of the file.
    shutil.copyfile(source, target)
    return "copy"


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove_leftovers(published: Path) -> None:
    """Delete next versions of earlier runs that died before publishing (the writer lock is
    held, so no other run is building one)."""
    for leftover in published.parent.glob(f".{published.name}.*.building*"):
        leftover.unlink(missing_ok=True)


def _durable_replace(source: Path, target: Path) -> None:
    """Rename `source` over `target` so that a crash leaves one or the other, whole."""
    with source.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
