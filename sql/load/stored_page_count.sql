-- How many pages the warehouse stores: what a reparse run parses again.
with final as (
    select count(*) as pages from page
)

select * from final
