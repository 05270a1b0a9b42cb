"""The run's data-quality report: Markdown for Prefect, rows for a table, a Data Docs index."""

import html
import json
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from flows.quality.rules import POLICIES, RuleResult

if TYPE_CHECKING:
    from flows.quality.ledger import RunLedger

# Data Docs show every batch with a broken rule up to this many per suite, and the last batch.
DOCS_PER_SUITE = 20


# Besides the last batch, Data Docs show up to this many batches that broke a rule no earlier
# batch of the run broke.
DOCS_BATCHES = 1


@dataclass
class DocsBatch:
    """A batch as it was validated: its frames, the suites and the polars rules' verdicts."""

    name: str
    frames: dict[str, pl.DataFrame]
    suites: tuple[str, ...]
    results: list[RuleResult]


@dataclass
class DocsBatches:
    """The batches Great Expectations validates again after the run, for the Data Docs: the
    reference entities, the first batches that broke each rule, and the last batch."""

    kept: list[DocsBatch] = field(default_factory=list)
    last: DocsBatch | None = None
    _broken: set[tuple] = field(default_factory=set)
    # The Data Docs being written beside the run (gate.write_data_docs_beside), once started:
    # their index page and where GX and the polars rules disagreed.
    writing: "Future[tuple[Path, list[str]]] | None" = None

    def offer(self, batch: DocsBatch) -> None:
        """Keep `batch` if it is the reference or broke a rule not seen broken before."""
        new = {r.key for r in batch.results if not r.success} - self._broken
        if batch.suites == ("entity",) or (new and len(self.kept) < DOCS_BATCHES + 1):
            self.kept.append(batch)
            self._broken |= new
            self.last = None
            return
        self.last = batch

    def batches(self) -> list[DocsBatch]:
        return [*self.kept, *([self.last] if self.last is not None else [])]


def report_markdown(title: str, facts: list[tuple[str, str]], ledger: "RunLedger") -> str:
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


def rule_rows(ledger: "RunLedger") -> list[dict[str, Any]]:
    """The run's rule results as plain rows, for a table artifact."""
    return [
        {key: value for key, value in row.items() if key != "run_id"}
        for row in ledger.frame().iter_rows(named=True)
    ]


def docs_selection(keys: list, passed: dict) -> list:
    """The validation results worth a Data Docs page: per suite, every batch with a broken
    rule (the latest DOCS_PER_SUITE) and the last batch."""
    by_suite: dict[str, list] = {}
    for key in sorted(keys, key=lambda k: k.run_id.run_name):
        by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
    shown: list = []
    for suite_keys in by_suite.values():
        failed = [key for key in suite_keys if not passed[key]][-DOCS_PER_SUITE:]
        shown += dict.fromkeys([*failed, suite_keys[-1]])
    return shown


def offline_index(folder: Path, run_prefix: str, shown: list[tuple[str, str, bool]]) -> str:
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
