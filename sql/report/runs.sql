-- The latest runs and their data-quality result.
with final as (
    select
        run_id,
        kind,
        strftime(finished_at, '%Y-%m-%d %H:%M') as finished,
        files_loaded,
        files_quarantined,
        dq_result,
        rules_broken,
        critical_broken,
        coalesce(quarantine_reasons, '') as quarantine_reasons
    from run_health
)

select * from final
limit ?
