"""Which task failures the ingest flow retries: I/O errors only."""

import duckdb
import pytest
from prefect.states import Failed

from flows.tasks import _is_transient_io, load_task, prepare_task, read_task


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (PermissionError(13, "Permission denied"), True),
        (OSError(5, "Input/output error"), True),
        (duckdb.IOException("Could not set lock on file"), True),
        (ValueError("a bug"), False),
        (KeyError("source_path"), False),
        # A full disk or a read-only folder is still so seconds later.
        (OSError(28, "No space left on device"), False),
        (duckdb.IOException("Could not write file: No space left on device"), False),
        (OSError(30, "Read-only file system"), False),
    ],
    ids=["permission", "eio", "duckdb-io", "bug", "key-error", "disk-full", "duckdb-full", "ro"],
)
def test_only_io_errors_are_retried(error: Exception, retried: bool):
    assert _is_transient_io(load_task, None, Failed(data=error)) is retried  # type: ignore[arg-type]


def test_prepare_read_and_load_retry_with_backoff():
    for task in (prepare_task, read_task, load_task):
        assert task.retries == 3
        assert task.retry_delay_seconds == [2, 4, 8]
        assert task.retry_condition_fn is _is_transient_io
