-- How many stories have how many copies.
with final as (
    select copies, count(*) as stories
    from story
    group by copies
)

select * from final
order by copies
