"""Keep DuckDB's shutdown noise out of what people read after a run."""

import atexit
import os
import sys


def silence_teardown_noise() -> None:
    """From interpreter teardown on, send standard error to /dev/null.

    After a Prefect flow run, DuckDB's bindings (nanobind) find their module constants still
    alive at shutdown and print dozens of false "leaked instance" lines. Call this before
    Prefect registers its exit handlers: atexit runs handlers last-in first-out, so this one
    runs after Prefect has stopped its temporary server and said so.
    """
    atexit.register(_to_devnull)


def _to_devnull() -> None:
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())
