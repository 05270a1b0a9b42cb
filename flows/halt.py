"""Pause points for crash tests: NEWSFLOW_TEST_HALT_AT=<point> stops a run there until killed."""

import os
import sys
import time

HALT_ENV = "NEWSFLOW_TEST_HALT_AT"
# parse: the first batch is parsed, nothing is loaded into the candidate yet.
# load: the first batch is written into the candidate, later batches are not.
# swap: the candidate is complete and sealed; the rename that publishes it has not happened.
POINTS = ("parse", "load", "swap")


def halt_point(point: str) -> None:
    """Block forever at `point` when the environment asks for it; do nothing otherwise.

    The crash tests start a real run with this variable set, wait for the line below, and
    kill the process with SIGKILL: the kill then lands at a known step, which timing alone
    cannot promise. Unset (always, outside those tests), this is one dictionary lookup.
    """
    if os.environ.get(HALT_ENV) != point:
        return
    # Straight to the stream: Prefect turns print() inside tasks into log records.
    sys.stderr.write(f"newsflow: halted at {point} ({HALT_ENV}), waiting to be killed\n")
    sys.stderr.flush()
    while True:
        time.sleep(3600)
