"""The suites' rules as polars expressions: every rule of expectations/ judged on every row.

Great Expectations validates pandas copies of a batch, row by row in Python for some rules;
this module reads the same suite documents and judges each rule the way GX does (the same
rows considered, the same unexpected rows, `mostly`, row conditions), in one polars pass per
table. tests/test_quality.py runs every rule through both and requires the same results.
"""

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

from flows.quality.rules import EXAMPLES, SUITES, RuleResult, share

# The columns that name a row in examples; article_id also ties each row to its page.
ROW_KEYS = {
    "article": ["article_id", "source_path"],
    "comment": ["article_id", "comment_id"],
    "entity": ["entity_id"],
    "entity_mention": ["article_id", "mention_id"],
}
# The policies whose breaking rows name their pages: to set aside (page, and batch when every
# row names one).
PAGED = ("page", "batch")
# GX keeps this many unexpected rows as the rule's examples before EXAMPLES cuts them.
PARTIAL_UNEXPECTED = 20
COMPARISONS: dict[str, Callable[[pl.Expr, Any], pl.Expr]] = {
    "==": operator.eq,
    # pandas compares a missing value as unequal to anything: so does ne_missing.
    "!=": lambda column, value: column.ne_missing(value),
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class UnsupportedRuleError(ValueError):
    """A rule of the suites that this module has no polars form for."""


@dataclass(frozen=True)
class Judged:
    """How one rule judges a frame: which rows it considers, which of them break it."""

    considered: pl.Expr
    unexpected: pl.Expr
    # Columns shown in examples after the row keys (the second column of a pair).
    shown_after: tuple[str, ...] = ()


def judge(kind: str, kwargs: dict[str, Any], parameters: dict[str, Any]) -> Judged:
    """The polars form of one expectation: rows considered and rows unexpected."""
    if kind in PAIR_RULES:
        a, b = pl.col(kwargs["column_A"]), pl.col(kwargs["column_B"])
        holds = PAIR_RULES[kind](a, b, kwargs).fill_null(False)
        considered = a.is_not_null() | b.is_not_null()
        return Judged(considered, considered & ~holds, (kwargs["column_B"],))
    column = pl.col(kwargs["column"])
    if kind == "expect_column_values_to_not_be_null":
        return Judged(pl.lit(True), column.is_null())
    if kind == "expect_column_values_to_be_null":
        return Judged(pl.lit(True), column.is_not_null())
    if kind not in COLUMN_RULES:
        raise UnsupportedRuleError(f"no polars form for {kind}")
    values = {key: _value(value, parameters) for key, value in kwargs.items()}
    holds = COLUMN_RULES[kind](column, values)
    return Judged(column.is_not_null(), column.is_not_null() & ~holds.fill_null(False))


def _between(column: pl.Expr, low: Any, high: Any, kwargs: dict[str, Any]) -> pl.Expr:
    holds = pl.lit(True)
    if low is not None:
        holds &= column > low if kwargs.get("strict_min") else column >= low
    if high is not None:
        holds &= column < high if kwargs.get("strict_max") else column <= high
    return holds


COLUMN_RULES: dict[str, Callable[[pl.Expr, dict[str, Any]], pl.Expr]] = {
    "expect_column_values_to_be_unique": lambda c, _: ~c.is_duplicated(),
    "expect_column_value_lengths_to_be_between": lambda c, k: _between(
        c.str.len_chars(), k.get("min_value"), k.get("max_value"), k
    ),
    "expect_column_values_to_be_between": lambda c, k: _between(
        c, k.get("min_value"), k.get("max_value"), k
    ),
    "expect_column_values_to_be_in_set": lambda c, k: c.is_in(list(k["value_set"])),
    "expect_column_values_to_match_regex": lambda c, k: c.str.contains(k["regex"]),
    "expect_column_values_to_not_match_regex": lambda c, k: ~c.str.contains(k["regex"]),
}
PAIR_RULES: dict[str, Callable[[pl.Expr, pl.Expr, dict[str, Any]], pl.Expr]] = {
    "expect_column_pair_values_to_be_equal": lambda a, b, _: a == b,
    "expect_column_pair_values_a_to_be_greater_than_b": lambda a, b, k: (
        a >= b if k.get("or_equal") else a > b
    ),
}


def condition(spec: dict[str, Any] | None, parameters: dict[str, Any]) -> pl.Expr:
    """A GX row condition (nullity, comparison, and, or) as a filter: rows it keeps."""
    if spec is None:
        return pl.lit(True)
    kind = spec["type"]
    if kind == "nullity":
        column = pl.col(spec["column"]["name"])
        return column.is_null() if spec["is_null"] else column.is_not_null()
    if kind == "comparison":
        column = pl.col(spec["column"]["name"])
        value = _value(spec["parameter"], parameters)
        return COMPARISONS[spec["operator"]](column, value).fill_null(False)
    if kind in ("and", "or"):
        parts = [condition(part, parameters) for part in spec["conditions"]]
        return pl.all_horizontal(parts) if kind == "and" else pl.any_horizontal(parts)
    raise UnsupportedRuleError(f"no polars form for the row condition {kind}")


def _value(value: Any, parameters: dict[str, Any]) -> Any:
    """A kwarg's value, with {"$PARAMETER": name} replaced by the parameter."""
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite document, with its policy."""

    suite: str
    kind: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    severity: str

    @property
    def column(self) -> str:
        return self.kwargs.get("column") or self.kwargs["column_A"]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.suite, self.kind, self.column)

    @property
    def policy(self) -> str:
        return self.meta.get("policy", "batch")


def suite_rules(documents: dict[str, dict]) -> dict[str, list[Rule]]:
    """The rules of each suite document, in the document's order."""
    return {
        name: [
            Rule(name, e["type"], e["kwargs"], e.get("meta") or {}, e.get("severity", "critical"))
            for e in document["expectations"]
        ]
        for name, document in documents.items()
    }


class RowRules:
    """The suites' rules judged with polars, for a run's batches; `gx_only` names the rules
    with no polars form, which Great Expectations judges instead."""

    def __init__(self, documents: dict[str, dict], parameters: dict[str, Any]) -> None:
        self._parameters = parameters
        self.gx_only: dict[str, set[tuple[str, str, str]]] = {}
        self._rules: dict[str, list[Rule]] = {}
        for name, rules in suite_rules(documents).items():
            self._rules[name] = []
            for rule in rules:
                try:
                    judge(rule.kind, rule.kwargs, parameters)
                    condition(rule.kwargs.get("row_condition"), parameters)
                except UnsupportedRuleError:
                    self.gx_only.setdefault(name, set()).add(rule.key)
                    continue
                self._rules[name].append(rule)

    def validate(
        self, frames: dict[str, pl.DataFrame], suites: Iterable[str] | None = None
    ) -> list[RuleResult]:
        """Every rule of each suite (default: every suite with a frame) on its frame."""
        results: list[RuleResult] = []
        for name in suites or [s for s in SUITES if s in frames]:
            results += self._judge_suite(self._rules[name], frames[name])
        return results

    def _judge_suite(self, rules: list[Rule], frame: pl.DataFrame) -> list[RuleResult]:
        """All rules of a suite in one pass over its frame: per rule, the rows its condition
        keeps, the rows it considers and those that break it."""
        masks: dict[str, pl.Expr] = {}
        for number, rule in enumerate(rules):
            judged = judge(rule.kind, rule.kwargs, self._parameters)
            kept = condition(rule.kwargs.get("row_condition"), self._parameters)
            masks[f"kept{number}"] = kept
            masks[f"considered{number}"] = kept & judged.considered
            masks[f"unexpected{number}"] = kept & judged.unexpected
        flags = frame.select(**masks)
        counts = flags.sum().row(0, named=True)
        return [
            self._result(rule, frame, flags[f"unexpected{n}"], counts, n)
            for n, rule in enumerate(rules)
        ]

    def _result(
        self, rule: Rule, frame: pl.DataFrame, mask: pl.Series, counts: dict, number: int
    ) -> RuleResult:
        elements = int(counts[f"kept{number}"])
        considered = int(counts[f"considered{number}"])
        unexpected = int(counts[f"unexpected{number}"])
        broken = frame.filter(mask) if unexpected else frame.clear()
        mostly = rule.kwargs.get("mostly", 1.0)
        success = considered == 0 or (considered - unexpected) / considered >= mostly
        keys = ROW_KEYS[rule.suite]
        shown_after = judge(rule.kind, rule.kwargs, self._parameters).shown_after
        shown = [rule.column, *(k for k in keys if k != rule.column), *shown_after]
        policy = rule.policy
        return RuleResult(
            suite=rule.suite,
            expectation=rule.kind,
            column=rule.column,
            success=success,
            severity=rule.severity,
            policy=policy,
            unexpected_count=unexpected,
            examples=_examples(broken.head(PARTIAL_UNEXPECTED).select(shown))[:EXAMPLES],
            element_count=elements,
            observed_value=share(unexpected, elements),
            notes=rule.meta.get("notes", ""),
            pages=_keys(broken, "article_id") if policy in PAGED else (),
            unpinned=_unpinned(broken) if policy in PAGED else 0,
            comments=_keys(broken, "comment_id") if policy == "comment" else (),
        )


def _examples(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts; dates as the midnight GX shows them as (pandas Timestamps)."""
    return [
        {k: datetime(v.year, v.month, v.day) if _is_date(v) else v for k, v in row.items()}
        for row in rows.iter_rows(named=True)
    ]


def _is_date(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _keys(rows: pl.DataFrame, column: str) -> tuple[str, ...]:
    """The distinct keys in `column` of the rows that broke a rule."""
    if column not in rows.columns:
        return ()
    return tuple(sorted(rows[column].drop_nulls().unique().to_list()))


def _unpinned(rows: pl.DataFrame) -> int:
    """How many of the rows that broke a rule name no page."""
    if "article_id" not in rows.columns:
        return rows.height
    return rows["article_id"].null_count()
