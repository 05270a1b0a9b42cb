"""A time budget for work that may run away on hostile input (one page parsed for minutes)."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class OverBudgetError(Exception):
    """The work inside `time_budget` took longer than it was given."""


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise OverBudgetError inside the block once it has run `seconds` (None or 0: no limit).

    Uses the process's interval timer, so it binds only in the main thread (the flow's own
    process and the parse workers); elsewhere (Dask worker threads) the block runs unbounded.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise OverBudgetError(f"over the budget of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
