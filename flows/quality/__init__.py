"""Data-quality gate: check each batch with the Great Expectations suites in expectations/.

One module per job: `rules` (a rule's outcome), `frames` (the derived frames the suites
check), `gate` (the Great Expectations adapter), `ledger` (the run's results and the policy),
`report` (the run report). The names below are the ones the flows use.
"""

from flows.quality.frames import checked_frames
from flows.quality.gate import QualityGate, load_suite_documents, shared_gate, suite_parameters
from flows.quality.ledger import RunLedger, require_passed, set_aside, warehouse_results
from flows.quality.report import report_markdown, rule_rows
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
    "QualityGate",
    "RuleResult",
    "RunLedger",
    "checked_frames",
    "load_suite_documents",
    "report_markdown",
    "require_passed",
    "rule_rows",
    "set_aside",
    "shared_gate",
    "suite_parameters",
    "warehouse_results",
]
