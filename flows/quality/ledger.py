"""The run's ledger of rule results, and the policy: stop the run, quarantine pages, or warn."""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from flows.quality.report import DocsBatches
from flows.quality.rules import EXAMPLES, DataQualityError, RuleResult, share
from flows.schema import polars_schema


def require_passed(results: Iterable[RuleResult]) -> None:
    """Stop the run when a batch-level rule failed (or a rule could not be evaluated)."""
    failures = [r for r in results if r.stops_run]
    if failures:
        raise DataQualityError(failures)


def settle(results: Sequence[RuleResult], batch_pages: pl.Series) -> list[RuleResult]:
    """Mark the broken batch-level rules that one page or a few break: when every breaking
    row names a page of the batch, those pages are set aside instead of stopping the run
    (issue 17: no page can block the run)."""
    known = set(batch_pages.drop_nulls().to_list())
    return [
        replace(r, set_aside=True)
        if not r.success
        and r.policy == "batch"
        and r.error is None
        and r.pages
        and r.unpinned == 0
        and known.issuperset(r.pages)
        else r
        for r in results
    ]


def set_aside(
    results: Sequence[RuleResult],
    article: pl.DataFrame,
    comment: pl.DataFrame,
    mention: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Apply the policy: raise on a batch-level failure, else take the pages that broke a
    page-level rule out of the batch. Returns (article, comment, mention, quarantined), the
    last with the quarantine columns (source_path, reason, message, size_bytes, sha256)."""
    require_passed(results)
    broken: dict[str, list[RuleResult]] = {}
    for result in results:
        if result.quarantines:
            for page in result.pages:
                broken.setdefault(page, []).append(result)
    reasons = pl.DataFrame(
        {
            "article_id": list(broken),
            "reason": [f"dq:{rules[0].expectation}" for rules in broken.values()],
            "message": [_quarantine_message(rules) for rules in broken.values()],
        },
        schema={"article_id": pl.String(), "reason": pl.String(), "message": pl.String()},
    )
    quarantined = article.join(reasons, on="article_id").select(
        "source_path",
        "reason",
        "message",
        size_bytes=pl.lit(None, dtype=pl.Int64()),
        sha256="sha256",
        source="source",
    )
    keep = ~pl.col("article_id").is_in(reasons["article_id"].implode())
    comment = _with_flags(comment.filter(keep), results)
    return article.filter(keep), comment, mention.filter(keep), quarantined


def _with_flags(comment: pl.DataFrame, results: Sequence[RuleResult]) -> pl.DataFrame:
    """Comments with the comment-level rules each breaks in dq_flags (`column:rule`), NULL
    for those that break none."""
    flags: dict[str, list[str]] = {}
    for result in results:
        if not result.success and result.policy == "comment":
            for comment_id in result.comments:
                flags.setdefault(comment_id, []).append(f"{result.column}:{result.expectation}")
    comment = comment.with_columns(dq_flags=pl.lit(None, dtype=pl.String()))
    if not flags:
        return comment
    broken = pl.DataFrame(
        {"comment_id": list(flags), "flags": [", ".join(rules) for rules in flags.values()]},
        schema={"comment_id": pl.String(), "flags": pl.String()},
    )
    return (
        comment.join(broken, on="comment_id", how="left", maintain_order="left")
        .with_columns(dq_flags=pl.col("flags"))
        .drop("flags")
    )


def _quarantine_message(rules: list[RuleResult]) -> str:
    broken = "; ".join(
        f"{r.suite}.{r.column}: {r.expectation} ({r.notes.rstrip('.')})" for r in rules
    )
    return (
        f"The page's rows broke data-quality rules: {broken}. The rest of the batch loaded; "
        "see dq_result and the Data Docs for example rows."
    )


def warehouse_results(checks: pl.DataFrame) -> list[RuleResult]:
    """RuleResults of the SQL checks run on the candidate warehouse (sql/checks/*.sql):
    one row per rule with expectation, column_name, notes, unexpected_count, examples."""
    return [
        RuleResult(
            suite="warehouse",
            expectation=row["expectation"],
            column=row["column_name"],
            success=row["unexpected_count"] == 0,
            severity="critical",
            policy="batch",
            unexpected_count=row["unexpected_count"],
            examples=list(row["examples"] or [])[:EXAMPLES],
            element_count=row["element_count"],
            observed_value=share(row["unexpected_count"], row["element_count"]),
            notes=row["notes"],
        )
        for row in checks.iter_rows(named=True)
    ]


@dataclass
class RunLedger:
    """Every rule's results over a run, summed across batches: what dq_result records."""

    run_id: str
    batches: int = 0
    _rules: dict[tuple[str, str, str | None], RuleResult] = field(default_factory=dict)
    _quarantined: dict[tuple[str, str, str | None], int] = field(default_factory=dict)
    # What Great Expectations validates again for the Data Docs once the run is done.
    docs: DocsBatches = field(default_factory=DocsBatches)

    def add(self, results: Iterable[RuleResult]) -> None:
        self.batches += 1
        for result in results:
            quarantined = len(result.pages) if result.quarantines else 0
            self._quarantined[result.key] = self._quarantined.get(result.key, 0) + quarantined
            before = self._rules.get(result.key)
            self._rules[result.key] = result if before is None else _combined(before, result)

    @property
    def results(self) -> list[RuleResult]:
        return list(self._rules.values())

    def status(self) -> str:
        """failed (a batch-level rule broke), pages_quarantined, comments_flagged, warnings or
        passed."""
        broken = [r for r in self._rules.values() if not r.success]
        if any(r.stops_run for r in broken):
            return "failed"
        if any(r.policy == "page" or r.set_aside for r in broken):
            return "pages_quarantined"
        if any(r.policy == "comment" for r in broken):
            return "comments_flagged"
        if broken:
            return "warnings"
        return "passed"

    def frame(self) -> pl.DataFrame:
        """One dq_result row per rule."""
        rows = [
            {
                "run_id": self.run_id,
                "suite": r.suite,
                "expectation": r.expectation,
                "column_name": r.column,
                "severity": r.severity,
                "policy": r.policy,
                "success": r.success,
                "observed_value": r.error or r.observed_value,
                "element_count": r.element_count,
                "unexpected_count": r.unexpected_count,
                "pages_quarantined": self._quarantined.get(r.key, 0),
                "examples": json.dumps(r.examples, default=str, ensure_ascii=False),
                "notes": r.notes,
            }
            for r in self._rules.values()
        ]
        return pl.DataFrame(rows, schema=polars_schema("dq_result"))


def _combined(before: RuleResult, now: RuleResult) -> RuleResult:
    def total(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    unexpected = total(before.unexpected_count, now.unexpected_count)
    elements = total(before.element_count, now.element_count)
    observed = now.observed_value
    if elements is not None and unexpected is not None:
        observed = share(unexpected, elements)
    return replace(
        before,
        success=before.success and now.success,
        unexpected_count=unexpected,
        element_count=elements,
        examples=(before.examples + now.examples)[:EXAMPLES],
        observed_value=observed,
        pages=(),
        unpinned=before.unpinned + now.unpinned,
        # Set aside over the run: every batch that broke it had its pages set aside.
        set_aside=(before.success or before.set_aside)
        and (now.success or now.set_aside)
        and not (before.success and now.success),
        error=before.error or now.error,
    )
