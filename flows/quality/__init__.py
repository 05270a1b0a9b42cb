"""Data-quality gate: check each batch with the Great Expectations suites in expectations/.

One module per job: `rules` (a rule's outcome), `frames` (the derived frames the suites
check), `row_rules` (the suites' rules as polars expressions, judged on every row of every
batch), `gate` (the Great Expectations adapter: rules without a polars form, and the Data
Docs, validating again the batches they show), `ledger` (the run's results and the policy),
`report` (the run report). The names below are the ones the flows use.
"""

from flows.quality.frames import checked_frames
from flows.quality.gate import (
    QualityGate,
    load_suite_documents,
    shared_gate,
    suite_parameters,
    warm_up,
    write_data_docs_beside,
)
from flows.quality.ledger import RunLedger, require_passed, set_aside, settle, warehouse_results
from flows.quality.report import DocsBatch, report_markdown, rule_rows
from flows.quality.row_rules import RowRules
from flows.quality.rules import (
    BATCH_SUITES,
    POLICIES,
    SUITES,
    DataQualityError,
    RuleResult,
)

__all__ = [
    "BATCH_SUITES",
    "POLICIES",
    "SUITES",
    "DataQualityError",
    "DocsBatch",
    "QualityGate",
    "RowRules",
    "RuleResult",
    "RunLedger",
    "checked_frames",
    "load_suite_documents",
    "report_markdown",
    "require_passed",
    "rule_rows",
    "set_aside",
    "settle",
    "shared_gate",
    "suite_parameters",
    "warehouse_results",
    "warm_up",
    "write_data_docs_beside",
]
