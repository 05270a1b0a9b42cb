-- The rules the latest run found broken, with their plain notes.
with latest as (
    select run_id from run_health limit 1
),

final as (
    select
        dq_result.suite,
        coalesce(dq_result.column_name, '') as column_name,
        dq_result.expectation,
        dq_result.severity,
        dq_result.policy,
        coalesce(dq_result.observed_value, '') as observed_value,
        dq_result.pages_quarantined,
        dq_result.notes
    from dq_result
    inner join latest on dq_result.run_id = latest.run_id
    where not dq_result.success
)

select * from final
order by severity, suite, column_name, expectation
