"""Data-quality gate: check each batch with the Great Expectations suites in expectations/."""

import html
import json
import logging
import math
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from flows.entities import ENTITY_TYPES
from flows.parse import CHROME_LINES, LAYOUTS

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
SUITES = ("article", "comment", "entity", "entity_mention")
# The suites each batch is checked with; entity rows are reference data, checked once a run.
BATCH_SUITES = ("article", "comment", "entity_mention")
# What a broken rule does to the run: `batch` stops it (nothing is published), `page`
# quarantines the pages whose rows break it, `warn` only records a warning.
POLICIES = ("batch", "page", "warn")
# A whole line of site chrome anywhere in a text.
CHROME_LINE_REGEX = r"(?m)^[ \t]*(?:" + "|".join(f"(?:{p})" for p in CHROME_LINES) + r")[ \t]*$"
# No web crawl is older than the first web archives.
EARLIEST_CRAWL_MONTH = datetime(1996, 1, 1)
# The columns that name a row in examples; article_id also ties each row to its page.
ROW_KEYS = {
    "article": ["article_id", "source_path"],
    "comment": ["article_id", "comment_id"],
    "entity": ["entity_id"],
    "entity_mention": ["article_id", "mention_id"],
}
DATA_DOCS_SITE = "newsflow"
_EXAMPLES = 5
# Data Docs show every batch with a broken rule up to this many per suite, and the last batch.
_DOCS_PER_SUITE = 20


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
    # article_id of every page with a row that breaks the rule.
    pages: tuple[str, ...] = ()
    # Set when the rule could not be evaluated at all.
    error: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.suite, self.expectation, self.column)

    @property
    def stops_run(self) -> bool:
        return not self.success and (self.policy == "batch" or self.error is not None)

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


def load_suite_documents() -> dict[str, dict]:
    """The suites as stored in expectations/<table>.json (GX's own JSON format)."""
    return {
        name: json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
        for name in SUITES
    }


def checked_frames(
    article: pl.DataFrame,
    comment: pl.DataFrame,
    mention: pl.DataFrame,
    texts: pl.DataFrame,
    entity: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """The tables to validate, with the derived columns their cross-row rules compare."""
    per_page_comments = comment.group_by("article_id").agg(
        comment_rows=pl.len().cast(pl.Int32),
        authorless_comment_share=pl.col("author").is_null().mean(),
    )
    per_page_words = texts.group_by("article_id").agg(
        words=pl.col("text").str.count_matches(r"\S+").sum()
    )
    per_page_mentions = mention.group_by("article_id").agg(mentions=pl.len())
    article_checked = (
        article.join(per_page_comments, on="article_id", how="left")
        .join(per_page_words, on="article_id", how="left")
        .join(per_page_mentions, on="article_id", how="left")
        .select(
            *article.columns,
            "authorless_comment_share",
            comment_rows=pl.col("comment_rows").fill_null(0),
            mentions_per_1000_words=pl.when(pl.col("words") > 0).then(
                1000 * pl.col("mentions").fill_null(0) / pl.col("words")
            ),
        )
    )
    # A reply's parent must be an earlier comment of the same article.
    parents = comment.select(
        "article_id",
        parent_comment_id="comment_id",
        parent_position="position",
        parent_depth_plus_one=pl.col("depth") + 1,
    ).unique(["article_id", "parent_comment_id"], keep="first", maintain_order=True)
    comment_checked = comment.join(
        parents, on=["article_id", "parent_comment_id"], how="left"
    ).select(
        *comment.columns,
        article_id_found=_found("article_id", article["article_id"]),
        expected_position=pl.col("position").rank("ordinal").over("article_id").cast(pl.Int32),
        parent_depth_plus_one=pl.when(pl.col("parent_position") < pl.col("position")).then(
            "parent_depth_plus_one"
        ),
    )
    mention_checked = mention.join(
        texts, on=["article_id", "comment_id", "field"], how="left", nulls_equal=True
    ).select(
        *mention.columns,
        entity_id_found=_found("entity_id", entity["entity_id"]),
        article_id_found=_found("article_id", article["article_id"]),
        comment_id_found=_found("comment_id", comment["comment_id"]),
        text_length=pl.col("text").str.len_chars().cast(pl.Int32),
        text_at_offsets=pl.col("text").str.slice(
            pl.col("char_start"), pl.col("char_end") - pl.col("char_start")
        ),
    )
    return {
        "article": article_checked,
        "comment": comment_checked,
        "entity": entity,
        "entity_mention": mention_checked,
    }


def _found(column: str, keys: pl.Series) -> pl.Expr:
    """`column` where its value is one of `keys`, else null.

    A relationship rule expects the two columns equal. GX's own in-set rule would take the
    keys as a parameter, which GX copies value by value into every rule of the suite on each
    validation: with a batch's tens of thousands of comment ids that took most of the time.
    """
    return pl.when(pl.col(column).is_in(keys.implode())).then(pl.col(column))


def suite_parameters() -> dict[str, Any]:
    """Values the suites refer to as {"$PARAMETER": name}."""
    now = datetime.now(UTC)
    return {
        "chrome_line_regex": CHROME_LINE_REGEX,
        "layouts": list(LAYOUTS),
        "entity_types": list(ENTITY_TYPES),
        "earliest_crawl_month": EARLIEST_CRAWL_MONTH,
        "latest_crawl_month": datetime(now.year, now.month, 1),
    }


class QualityGate:
    """One GX context with one validation definition per suite, reused for every batch."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        # GX takes seconds to import: only runs that validate pay for it.
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # It announces a temporary Data Docs folder that this gate never uses.
        logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self._context.data_sources.add_pandas("newsflow")
        self._definitions = {}
        self._documents = load_suite_documents()
        for name, document in self._documents.items():
            suite = self._context.suites.add(gx.ExpectationSuite(**document))
            batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            self._definitions[name] = self._context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
        self._docs_folder: Path | None = None

    def validate(
        self,
        frames: dict[str, pl.DataFrame],
        run_name: str = "newsflow",
        suites: Iterable[str] | None = None,
    ) -> list[RuleResult]:
        """Run each suite (default: every suite with a frame) on its frame; return every
        rule's result. `run_name` files the GX results for Data Docs."""
        from great_expectations.core.run_identifier import RunIdentifier

        parameters = suite_parameters()
        results: list[RuleResult] = []
        for name in suites or [s for s in SUITES if s in frames]:
            outcome = self._definitions[name].run(
                batch_parameters={"dataframe": frames[name].to_pandas()},
                expectation_parameters=parameters,
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": ROW_KEYS[name],
                },
                run_id=RunIdentifier(run_name=run_name),
            )
            results.extend(_rule_result(name, result) for result in outcome.results)
        return results

    def build_data_docs(self, folder: Path, run_prefix: str) -> Path:
        """Rebuild `folder` from scratch with the suites and this run's validation results;
        return its index page. Results are dropped from memory once they are on disk."""
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        store = self._context.validation_results_store
        stored: list[Any] = store.list_keys()
        keys = [key for key in stored if key.run_id.run_name.startswith(run_prefix)]
        passed = {key: bool(getattr(store.get(key), "success", False)) for key in keys}
        shown = _docs_selection(keys, passed)
        site_config = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(folder),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        if self._docs_folder is None:
            self._context.add_data_docs_site(DATA_DOCS_SITE, site_config)  # type: ignore[arg-type]
        elif self._docs_folder != folder:
            self._context.update_data_docs_site(DATA_DOCS_SITE, site_config)  # type: ignore[arg-type]
        self._docs_folder = folder
        shutil.rmtree(folder, ignore_errors=True)
        self._context.build_data_docs(
            site_names=[DATA_DOCS_SITE],
            resource_identifiers=[
                *(ExpectationSuiteIdentifier(name) for name in SUITES),
                *shown,
            ],
        )
        index = folder / "index.html"
        pages = [
            (key.expectation_suite_identifier.name, key.run_id.run_name, passed[key])
            for key in shown
        ]
        index.write_text(_offline_index(folder, run_prefix, pages), encoding="utf-8")
        for key in keys:
            store.remove_key(key)
        return index


@cache
def shared_gate() -> QualityGate:
    """The process's gate: building it imports GX and registers the suites, once."""
    return QualityGate()


def _rule_result(suite: str, result: Any) -> RuleResult:
    config = result.expectation_config
    details = result.result or {}
    column = config.kwargs.get("column") or config.kwargs.get("column_A")
    meta = config.meta or {}
    exception = result.exception_info or {}
    error = exception.get("exception_message") if exception.get("raised_exception") else None
    if error is None and not result.success and not details:
        # GX keys exceptions by metric when a metric failed: report its message.
        messages = [v.get("exception_message") for v in exception.values() if isinstance(v, dict)]
        error = next((m for m in messages if m), "the rule raised an exception")
    index_rows = details.get("unexpected_index_list") or []
    # A row without a key (NaN here) cannot name its page; key rules stop the run anyway.
    pages = tuple(
        sorted({r["article_id"] for r in index_rows if isinstance(r.get("article_id"), str)})
    )
    examples = details.get("partial_unexpected_index_list") or details.get(
        "partial_unexpected_list", []
    )
    return RuleResult(
        suite=suite,
        expectation=config.type,
        column=column,
        success=bool(result.success),
        severity=str(getattr(config.severity, "value", config.severity)),
        policy=meta.get("policy", "batch"),
        unexpected_count=details.get("unexpected_count"),
        examples=[_plain(value) for value in examples][:_EXAMPLES],
        element_count=details.get("element_count"),
        observed_value=_observed(details),
        notes=meta.get("notes", ""),
        pages=pages if meta.get("policy") == "page" else (),
        error=error,
    )


def _plain(value: Any) -> Any:
    """Example values as plain Python: GX hands back numpy scalars, NaN for missing values and
    tuples of them."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _observed(details: dict) -> str | None:
    if "observed_value" in details:
        return str(_plain(details["observed_value"]))
    if details.get("element_count") is None:
        return None
    return _share(details.get("unexpected_count") or 0, details["element_count"])


def _share(unexpected: int, elements: int) -> str:
    percent = 100 * unexpected / elements if elements else 0.0
    return f"{unexpected} of {elements} rows unexpected ({percent:.2f}%)"


def require_passed(results: Iterable[RuleResult]) -> None:
    """Stop the run when a batch-level rule failed (or a rule could not be evaluated)."""
    failures = [r for r in results if r.stops_run]
    if failures:
        raise DataQualityError(failures)


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
        if not result.success and result.policy == "page":
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
    )
    keep = ~pl.col("article_id").is_in(reasons["article_id"].implode())
    return article.filter(keep), comment.filter(keep), mention.filter(keep), quarantined


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
            examples=list(row["examples"] or [])[:_EXAMPLES],
            element_count=row["element_count"],
            observed_value=_share(row["unexpected_count"], row["element_count"]),
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

    def add(self, results: Iterable[RuleResult]) -> None:
        self.batches += 1
        for result in results:
            self._quarantined[result.key] = self._quarantined.get(result.key, 0) + len(result.pages)
            before = self._rules.get(result.key)
            self._rules[result.key] = result if before is None else _combined(before, result)

    @property
    def results(self) -> list[RuleResult]:
        return list(self._rules.values())

    def status(self) -> str:
        """failed (a batch-level rule broke), pages_quarantined, warnings or passed."""
        broken = [r for r in self._rules.values() if not r.success]
        if any(r.stops_run for r in broken):
            return "failed"
        if any(r.policy == "page" for r in broken):
            return "pages_quarantined"
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
        from flows.schema import polars_schema

        return pl.DataFrame(rows, schema=polars_schema("dq_result"))


def _combined(before: RuleResult, now: RuleResult) -> RuleResult:
    def total(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    unexpected = total(before.unexpected_count, now.unexpected_count)
    elements = total(before.element_count, now.element_count)
    observed = now.observed_value
    if elements is not None and unexpected is not None:
        observed = _share(unexpected, elements)
    return replace(
        before,
        success=before.success and now.success,
        unexpected_count=unexpected,
        element_count=elements,
        examples=(before.examples + now.examples)[:_EXAMPLES],
        observed_value=observed,
        pages=(),
        error=before.error or now.error,
    )


def report_markdown(title: str, facts: list[tuple[str, str]], ledger: RunLedger) -> str:
    """The run report as Markdown: the summary, then every rule that did not pass."""
    lines = [f"# {title}", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in facts]
    results = ledger.results
    broken = [r for r in results if not r.success]
    lines += ["", f"**Data quality: {ledger.status()}**, {len(results)} rules checked.", ""]
    if broken:
        lines += ["| rule | policy | unexpected | examples |", "|---|---|---|---|"]
        for r in sorted(broken, key=lambda r: POLICIES.index(r.policy)):
            where = f"{r.suite}.{r.column}" if r.column else r.suite
            examples = json.dumps(r.examples[:2], default=str, ensure_ascii=False)
            lines.append(
                f"| `{where}` {r.expectation} | {r.policy} | "
                f"{r.error or r.observed_value} | `{examples.replace('|', '/')}` |"
            )
    else:
        lines.append("Every rule passed.")
    return "\n".join(lines) + "\n"


def rule_rows(ledger: RunLedger) -> list[dict[str, Any]]:
    """The run's rule results as plain rows, for a table artifact."""
    return [
        {key: value for key, value in row.items() if key != "run_id"}
        for row in ledger.frame().iter_rows(named=True)
    ]


def _docs_selection(keys: list, passed: dict) -> list:
    """The validation results worth a Data Docs page: per suite, every batch with a broken
    rule (the latest _DOCS_PER_SUITE) and the last batch."""
    by_suite: dict[str, list] = {}
    for key in sorted(keys, key=lambda k: k.run_id.run_name):
        by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
    shown: list = []
    for suite_keys in by_suite.values():
        failed = [key for key in suite_keys if not passed[key]][-_DOCS_PER_SUITE:]
        shown += dict.fromkeys([*failed, suite_keys[-1]])
    return shown


def _offline_index(folder: Path, run_prefix: str, shown: list[tuple[str, str, bool]]) -> str:
    """A static index page: GX's own index draws its table with scripts from the internet,
    so it stays blank offline; this one lists the same pages as plain links."""
    rows = []
    for suite, run_name, passed in sorted(shown):
        for page in sorted(folder.glob(f"validations/{suite}/{run_name}/*/*.html")):
            link = html.escape(page.relative_to(folder).as_posix())
            status = "passed" if passed else "<b>rule broken</b>"
            rows.append(
                f'<tr><td>{html.escape(suite)}</td><td><a href="{link}">'
                f"{html.escape(run_name)}</a></td><td>{status}</td></tr>"
            )
    suites = [
        f'<li><a href="expectations/{html.escape(page.name)}">{html.escape(page.stem)}</a></li>'
        for page in sorted(folder.glob("expectations/*.html"))
    ]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>newsflow data quality: {html.escape(run_prefix)}</title>",
            "</head><body style='font-family: sans-serif; margin: 2em'>",
            f"<h1>newsflow data quality, run {html.escape(run_prefix)}</h1>",
            "<p>Validation results of every batch with a broken rule (warnings included) and "
            "of the last batch, per suite. The dq_result table in the warehouse holds every "
            "rule's totals over the run, with the warehouse-wide SQL checks.</p>",
            "<h2>Validation results</h2>",
            "<table><tr><th>suite</th><th>batch</th><th>result</th></tr>",
            *rows,
            "</table><h2>Expectation suites</h2><ul>",
            *suites,
            "</ul></body></html>",
        ]
    )
