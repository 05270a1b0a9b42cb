"""The Great Expectations adapter: the suites in expectations/, run on polars frames."""

import json
import logging
import math
import os
import shutil
import threading
from collections.abc import Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import polars as pl

from flows.entities import ENTITY_TYPES
from flows.parse import CHROME_LINES, LAYOUTS
from flows.quality.report import DocsBatch, docs_selection, offline_index
from flows.quality.row_rules import PAGED, ROW_KEYS
from flows.quality.rules import EXAMPLES, SUITES, RuleResult, share

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"

# A whole line of site chrome anywhere in a text.
CHROME_LINE_REGEX = r"(?m)^[ \t]*(?:" + "|".join(f"(?:{p})" for p in CHROME_LINES) + r")[ \t]*$"
# No web crawl is older than the first web archives.
EARLIEST_CRAWL_MONTH = datetime(1996, 1, 1)
DATA_DOCS_SITE = "newsflow"


def load_suite_documents() -> dict[str, dict]:
    """The suites as stored in expectations/<table>.json (GX's own JSON format)."""
    return {
        name: json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
        for name in SUITES
    }


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

    def check_again(self, batches: list[DocsBatch]) -> list[str]:
        """Validate `batches` again with GX, for the Data Docs; return where GX and the
        polars rules disagree, a line per batch."""
        disagreements = []
        for batch in batches:
            results = self.validate(batch.frames, batch.name, batch.suites)
            theirs = {r.key: _verdict(r) for r in batch.results}
            differ = [r.key for r in results if r.key in theirs and theirs[r.key] != _verdict(r)]
            if differ:
                disagreements.append(f"GX and the polars rules disagree on {batch.name}: {differ}")
        return disagreements

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
        shown = docs_selection(keys, passed)
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
        index.write_text(offline_index(folder, run_prefix, pages), encoding="utf-8")
        for key in keys:
            store.remove_key(key)
        return index


_GATE_LOCK = threading.Lock()


def shared_gate() -> QualityGate:
    """The process's gate: building it imports GX and registers the suites, once."""
    with _GATE_LOCK:
        return _gate()


@cache
def _gate() -> QualityGate:
    return QualityGate()


# Where GX writes the Data Docs beside the run: one worker each, made when a run first needs
# it and kept for the next runs (GX is imported once). Importing GX and validating the Data
# Docs' batches again are seconds of pure Python that, in a thread of the run's process, hold
# its interpreter lock against the stories and the publish; in a process of their own they run
# on the other core, but hold their own memory (up to 700 MiB for batches of 2,000 pages)
# where a thread reuses what the run's batches freed.
_DOCS_WORKERS: dict[bool, Executor] = {}


def _docs_worker(own_process: bool) -> Executor:
    with _GATE_LOCK:
        if own_process not in _DOCS_WORKERS:
            _DOCS_WORKERS[own_process] = (
                ProcessPoolExecutor(
                    1, mp_context=get_context("spawn"), initializer=_log_as_the_console
                )
                if own_process
                else ThreadPoolExecutor(1, thread_name_prefix="great-expectations")
            )
        return _DOCS_WORKERS[own_process]


def _log_as_the_console() -> None:
    """Show GX's messages in the Data Docs' process as the run's console shows its own: a
    failure is reported by the run in one line, so without --verbose only what is CRITICAL."""
    console = logging.StreamHandler()
    console.setLevel(os.environ.get("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING"))
    console.setFormatter(logging.Formatter("%(asctime)s | %(levelname)s | %(name)s - %(message)s"))
    logging.getLogger().addHandler(console)


def warm_up(own_process: bool) -> None:
    """Import GX now, beside the rest of the run (which needs it only for its Data Docs), in
    a process of its own or in a thread."""
    _docs_worker(own_process).submit(_build_gate)


def write_data_docs_beside(
    batches: list[DocsBatch], folder: Path, run_prefix: str, own_process: bool
) -> "Future[tuple[Path, list[str]]]":
    """Start writing the Data Docs of `batches` into `folder` (write_data_docs) beside the
    run, in a process of its own or in a thread; the future gives the index page and where
    GX and the polars rules disagree."""
    return _docs_worker(own_process).submit(write_data_docs, batches, folder, run_prefix)


def write_data_docs(
    batches: list[DocsBatch], folder: Path, run_prefix: str
) -> tuple[Path, list[str]]:
    """Validate `batches` again with GX and rebuild `folder` with their results; return the
    index page and where GX and the polars rules disagree."""
    gate = shared_gate()
    disagreements = gate.check_again(batches)
    return gate.build_data_docs(folder, run_prefix), disagreements


def _build_gate() -> None:
    shared_gate()


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
    policy = meta.get("policy", "batch")
    index_rows = details.get("unexpected_index_list") or []
    # A row without a key (NaN here) cannot name its page; key rules stop the run anyway.
    pages = _keys(index_rows, "article_id")
    examples = details.get("partial_unexpected_index_list") or details.get(
        "partial_unexpected_list", []
    )
    return RuleResult(
        suite=suite,
        expectation=config.type,
        column=column,
        success=bool(result.success),
        severity=str(getattr(config.severity, "value", config.severity)),
        policy=policy,
        unexpected_count=details.get("unexpected_count"),
        examples=[_plain(value) for value in examples][:EXAMPLES],
        element_count=details.get("element_count"),
        observed_value=_observed(details),
        notes=meta.get("notes", ""),
        pages=pages if policy in PAGED else (),
        unpinned=len(index_rows) - _pinned(index_rows) if policy in PAGED else 0,
        comments=_keys(index_rows, "comment_id") if meta.get("policy") == "comment" else (),
        error=error,
    )


def _keys(index_rows: list[dict], column: str) -> tuple[str, ...]:
    """The distinct keys in `column` of the rows that broke a rule."""
    return tuple(sorted({r[column] for r in index_rows if isinstance(r.get(column), str)}))


def _verdict(result: RuleResult) -> tuple:
    return (result.success, result.unexpected_count, result.element_count)


def _pinned(index_rows: list[dict]) -> int:
    """How many of the rows that broke a rule name their page."""
    return sum(isinstance(r.get("article_id"), str) for r in index_rows)


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
    return share(details.get("unexpected_count") or 0, details["element_count"])
