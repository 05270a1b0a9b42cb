"""What a data-quality rule's outcome is, and the error that stops a run."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUITES = ("article", "comment", "entity", "entity_mention")
# The suites each batch is checked with; entity rows are reference data, checked once a run.
BATCH_SUITES = ("article", "comment", "entity_mention")
# What a broken rule does to the run: `batch` stops it (nothing is published) unless each row
# that breaks it names a page of the batch, then those pages are set aside as by `page`; `page`
# quarantines the pages whose rows break it, `comment` keeps the comments that break it and
# their pages and names the rule in comment.dq_flags, `warn` only records a warning.
POLICIES = ("batch", "page", "comment", "warn")

# Example rows kept per rule.
EXAMPLES = 5


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule on one batch (or, in a RunLedger, on the whole run)."""

    suite: str
    expectation: str
    column: str | None
    success: bool
    severity: str
    policy: str
    unexpected_count: int | None
    examples: list[Any]
    element_count: int | None = None
    observed_value: str | None = None
    notes: str = ""
    # article_id of every page with a row that breaks a page- or batch-level rule.
    pages: tuple[str, ...] = ()
    # Rows breaking the rule that name no page of the batch (no article_id to set aside).
    unpinned: int = 0
    # A batch-level rule whose breaking rows were all on pages that were set aside.
    set_aside: bool = False
    # comment_id of every comment that breaks a comment-level rule.
    comments: tuple[str, ...] = ()
    # Set when the rule could not be evaluated at all.
    error: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.suite, self.expectation, self.column)

    @property
    def stops_run(self) -> bool:
        if self.success:
            return False
        return (self.policy == "batch" and not self.set_aside) or self.error is not None

    @property
    def quarantines(self) -> bool:
        """Whether the pages of its breaking rows are set aside (and the rest loads)."""
        return not self.success and (self.policy == "page" or self.set_aside)

    def describe(self) -> str:
        where = f"{self.suite}.{self.column}" if self.column else self.suite
        if self.error is not None:
            return f"{where}: {self.expectation} could not be checked: {self.error}"
        return (
            f"{where}: {self.expectation} failed for {self.unexpected_count} rows "
            f"({self.notes}), e.g. {json.dumps(self.examples, default=str)}"
        )


class DataQualityError(Exception):
    """A batch broke a batch-level rule: nothing of the run may be published."""

    def __init__(self, failures: list[RuleResult]):
        self.failures = failures
        self.data_docs: Path | None = None
        super().__init__(failures)

    def __str__(self) -> str:
        message = "data-quality gate failed: " + "; ".join(f.describe() for f in self.failures)
        if self.data_docs is not None:
            message += f" (Data Docs: {self.data_docs})"
        return message


def share(unexpected: int, elements: int) -> str:
    percent = 100 * unexpected / elements if elements else 0.0
    return f"{unexpected} of {elements} rows unexpected ({percent:.2f}%)"
