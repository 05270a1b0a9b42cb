-- The totals a run recorded in ingest_run, as the run summary shows them.
with final as (
    select articles, comments, entities, mentions, files_missing
    from ingest_run
    where run_id = ?
)

select * from final
