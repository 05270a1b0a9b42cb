"""`newsflow` with one step made to block, so that a crash test can kill a run at that step.

    python tests/halting_run.py POINT NEWSFLOW-ARGUMENTS...

A kill timed from outside cannot promise to land at a given step; a run that waits there
until it is killed can. The blocking is patched in here, so production code carries no pause
points. POINT is one of:

- parse: the first batch is parsed, nothing is loaded into the candidate yet;
- load: the first batch is written into the candidate, later batches are not;
- swap: the candidate is complete and sealed; the rename that publishes it has not happened.
"""

import sys
import time
from collections.abc import Callable
from typing import Any

from flows import load, parse, warehouse


def halt(point: str) -> None:
    # Straight to the stream: Prefect turns print() inside tasks into log records.
    sys.stderr.write(f"newsflow: halted at {point}, waiting to be killed\n")
    sys.stderr.flush()
    while True:
        time.sleep(3600)


def block(owner: Any, name: str, point: str, after: bool) -> None:
    """Make `owner.name` block at `point`, after or before doing its work."""
    original: Callable[..., Any] = getattr(owner, name)

    def blocking(*args: Any, **kwargs: Any) -> Any:
        if not after:
            halt(point)
        result = original(*args, **kwargs)
        halt(point)
        return result

    setattr(owner, name, blocking)


POINTS = {
    "parse": (parse, "parse_pages", True),
    "load": (load.Writer, "write_batch", True),
    "swap": (warehouse.NextVersion, "swap", False),
}

if __name__ == "__main__":
    point, *arguments = sys.argv[1:]
    block(*POINTS[point][:2], point, after=POINTS[point][2])
    from flows.cli import app

    app(arguments, prog_name="newsflow")
