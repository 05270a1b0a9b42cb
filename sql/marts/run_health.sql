-- The published runs, latest first, with their data-quality outcome: rules broken and pages
-- set aside, so that a failing trend shows without reading dq_result.
create or replace view run_health as
with source as (
    select * from ingest_run
),

broken as (
    select
        run_id,
        count(*) as rules_checked,
        count(*) filter (where not success) as rules_broken,
        count(*) filter (where not success and severity = 'critical') as critical_broken,
        string_agg(
            suite || '.' || coalesce(column_name || ':', '') || expectation, ', '
            order by suite, column_name, expectation
        ) filter (where not success) as broken_rules
    from dq_result
    group by run_id
),

quarantined as (
    select run_id, reason, count(*) as files
    from quarantine
    group by run_id, reason
),

reasons as (
    select run_id, sum(files) as files_quarantined,
        string_agg(reason || ': ' || files, ', ' order by files desc, reason) as quarantine_reasons
    from quarantined
    group by run_id
),

final as (
    select
        source.run_id,
        source.kind,
        source.started_at,
        source.finished_at,
        date_diff('millisecond', source.started_at, source.finished_at) / 1000.0 as seconds,
        source.files_seen,
        source.files_loaded,
        source.files_unchanged,
        coalesce(reasons.files_quarantined, 0) as files_quarantined,
        source.articles,
        source.comments,
        source.dq_result,
        coalesce(broken.rules_checked, 0) as rules_checked,
        coalesce(broken.rules_broken, 0) as rules_broken,
        coalesce(broken.critical_broken, 0) as critical_broken,
        broken.broken_rules,
        reasons.quarantine_reasons
    from source
    left join broken on source.run_id = broken.run_id
    left join reasons on source.run_id = reasons.run_id
)

select * from final
order by finished_at desc, run_id desc
;

comment on view run_health is 'One row per published run, latest first: what it loaded, its data-quality result, the rules it found broken and the files it set aside (failed runs publish nothing and are not here; see their logs).';
comment on column run_health.run_id is 'The run (ingest_run.run_id).';
comment on column run_health.kind is 'ingest or reparse.';
comment on column run_health.started_at is 'When the run started (UTC).';
comment on column run_health.finished_at is 'When the run published the warehouse (UTC).';
comment on column run_health.seconds is 'Run time in seconds, start to publish.';
comment on column run_health.files_seen is 'Files found in the input folders (0 for reparse runs).';
comment on column run_health.files_loaded is 'Files parsed and loaded.';
comment on column run_health.files_unchanged is 'Files skipped as already loaded.';
comment on column run_health.files_quarantined is 'Files set aside by the run (rows in quarantine).';
comment on column run_health.articles is 'Rows in article after the run.';
comment on column run_health.comments is 'Rows in comment after the run.';
comment on column run_health.dq_result is 'Outcome of the data-quality gate: passed, warnings, pages_quarantined or comments_flagged (ingest_run.dq_result).';
comment on column run_health.rules_checked is 'Data-quality rules the run checked (rows in dq_result).';
comment on column run_health.rules_broken is 'Rules that did not hold (soft rules included).';
comment on column run_health.critical_broken is 'Critical rules that did not hold: their pages were quarantined or their comments flagged.';
comment on column run_health.broken_rules is 'The rules that did not hold, as suite.column:expectation, comma-separated; NULL when none.';
comment on column run_health.quarantine_reasons is 'Files set aside per reason, as reason: files, most first; NULL when none.';
