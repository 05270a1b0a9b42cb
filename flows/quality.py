"""Data-quality gate: check each batch with the Great Expectations suites in expectations/."""

import json
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from flows.parse import CHROME_LINES, LAYOUTS

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
SUITES = ("article", "comment", "entity_mention")
# A whole line of site chrome anywhere in a text.
CHROME_LINE_REGEX = r"(?m)^[ \t]*(?:" + "|".join(f"(?:{p})" for p in CHROME_LINES) + r")[ \t]*$"
_EXAMPLES = 5


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one expectation on one table."""

    suite: str
    expectation: str
    column: str | None
    success: bool
    severity: str
    unexpected_count: int | None
    examples: list[Any]

    def describe(self) -> str:
        where = f"{self.suite}.{self.column}" if self.column else self.suite
        return (
            f"{where}: {self.expectation} failed for {self.unexpected_count} rows, "
            f"e.g. {self.examples}"
        )


class DataQualityError(Exception):
    """A batch broke a critical rule: nothing of the run may be published."""

    def __init__(self, failures: list[RuleResult]):
        self.failures = failures
        super().__init__("data-quality gate failed: " + "; ".join(f.describe() for f in failures))


def load_suite_documents() -> dict[str, dict]:
    """The suites as stored in expectations/<table>.json (GX's own JSON format)."""
    return {
        name: json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
        for name in SUITES
    }


def checked_frames(
    article: pl.DataFrame, comment: pl.DataFrame, mention: pl.DataFrame, texts: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """The tables to validate, with the derived columns their cross-row rules compare."""
    comment_checked = comment.with_columns(
        expected_position=pl.col("position").rank("ordinal").over("article_id").cast(pl.Int32)
    )
    mention_checked = mention.join(
        texts, on=["article_id", "comment_id", "field"], how="left", nulls_equal=True
    ).select(
        *mention.columns,
        text_length=pl.col("text").str.len_chars().cast(pl.Int32),
        text_at_offsets=pl.col("text").str.slice(
            pl.col("char_start"), pl.col("char_end") - pl.col("char_start")
        ),
    )
    return {"article": article, "comment": comment_checked, "entity_mention": mention_checked}


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
        for name, document in load_suite_documents().items():
            suite = self._context.suites.add(gx.ExpectationSuite(**document))
            batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            self._definitions[name] = self._context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )

    def validate(self, frames: dict[str, pl.DataFrame], entity_ids: list[str]) -> list[RuleResult]:
        """Run every suite on its frame; return every rule's result."""
        parameters = {
            "chrome_line_regex": CHROME_LINE_REGEX,
            "layouts": list(LAYOUTS),
            "article_ids": frames["article"]["article_id"].to_list(),
            "comment_ids": frames["comment"]["comment_id"].to_list(),
            "entity_ids": entity_ids,
        }
        results: list[RuleResult] = []
        for name, definition in self._definitions.items():
            outcome = definition.run(
                batch_parameters={"dataframe": frames[name].to_pandas()},
                expectation_parameters=parameters,
            )
            results.extend(_rule_result(name, result) for result in outcome.results)
        return results


@cache
def shared_gate() -> QualityGate:
    """The process's gate: building it imports GX and registers the suites, once."""
    return QualityGate()


def _rule_result(suite: str, result: Any) -> RuleResult:
    config = result.expectation_config
    details = result.result or {}
    column = config.kwargs.get("column") or config.kwargs.get("column_A")
    return RuleResult(
        suite=suite,
        expectation=config.type,
        column=column,
        success=bool(result.success),
        severity=str(config.severity.value if hasattr(config.severity, "value") else "critical"),
        unexpected_count=details.get("unexpected_count"),
        examples=[_plain(value) for value in details.get("partial_unexpected_list", [])][
            :_EXAMPLES
        ],
    )


def _plain(value: Any) -> Any:
    """Example values as plain Python (GX hands back numpy scalars and tuples of them)."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value.item() if hasattr(value, "item") else value


def require_passed(results: list[RuleResult]) -> None:
    """Stop the run when a critical rule failed."""
    failures = [r for r in results if not r.success and r.severity == "critical"]
    if failures:
        raise DataQualityError(failures)
