"""Quality figures that tests record and the end-of-session summary prints.

A test calls `record_property(FIGURES, text)`; `conftest.pytest_terminal_summary` prints every
such text after the results, also when the tests ran on pytest-xdist workers, whose own
output pytest does not show.
"""

from collections.abc import Callable

FIGURES = "figures"
RecordProperty = Callable[[str, object], None]
