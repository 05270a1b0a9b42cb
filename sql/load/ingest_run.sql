-- One row for the run being published, its totals counted from the warehouse itself.
insert into ingest_run by name
with totals as (
    select
        (select count(*) from article) as articles,
        (select count(*) from comment) as comments,
        (select count(distinct entity_id) from entity_mention) as entities,
        (select count(*) from entity_mention) as mentions,
        (select count(*) from source_file where status = 'missing') as files_missing
),

final as (
    select
        ? as run_id,
        ? as kind,
        ? as started_at,
        ? as finished_at,
        'completed' as status,
        ? as files_seen,
        ? as files_loaded,
        ? as files_unchanged,
        ? as files_quarantined,
        ? as files_ignored,
        files_missing,
        articles,
        comments,
        entities,
        mentions,
        ? as dq_result,
        ? as newsflow_version
    from totals
)

select * from final
