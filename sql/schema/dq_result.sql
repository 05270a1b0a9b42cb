create table if not exists dq_result (
    run_id varchar not null,
    suite varchar not null,
    expectation varchar not null,
    column_name varchar,
    severity varchar not null,
    policy varchar not null,
    success boolean not null,
    observed_value varchar,
    element_count bigint,
    unexpected_count bigint,
    pages_quarantined integer not null,
    examples varchar not null,
    notes varchar not null
);

comment on table dq_result is 'One row per data-quality rule and published run: what the rule checked and what it found, summed over the run''s batches.';
comment on column dq_result.run_id is 'ingest_run.run_id of the run that checked the rule.';
comment on column dq_result.suite is 'The table the rule guards (article, comment, entity, entity_mention; expectations/<suite>.json), or warehouse for the SQL checks on the whole warehouse before publishing (sql/checks).';
comment on column dq_result.expectation is 'The rule: a Great Expectations expectation type, or relationship / row_invariant for the warehouse checks.';
comment on column dq_result.column_name is 'The column the rule checks (the first of a column pair); table.column for warehouse checks.';
comment on column dq_result.severity is 'critical (the rule must hold) or warning (a soft rule with a threshold).';
comment on column dq_result.policy is 'What a broken rule does: batch (stops the run, nothing is published), page (the pages with breaking rows are quarantined, the rest loads), comment (the breaking comments are kept, loaded and marked in comment.dq_flags) or warn (recorded only).';
comment on column dq_result.success is 'True when the rule held in every batch of the run.';
comment on column dq_result.observed_value is 'What the rule saw, e.g. 3 of 1200 rows unexpected (0.25%); the error when the rule could not be checked.';
comment on column dq_result.element_count is 'Rows the rule looked at over the run; NULL when the rule is about the table as a whole.';
comment on column dq_result.unexpected_count is 'Rows that broke the rule over the run (for soft rules: also when the threshold was met).';
comment on column dq_result.pages_quarantined is 'Pages the run quarantined because their rows broke this rule (quarantine.reason dq:<expectation>).';
comment on column dq_result.examples is 'Up to five breaking rows or values, as a JSON list.';
comment on column dq_result.notes is 'What the rule means, in plain words.';
