-- How many articles an older parser made: their files were not read again by this run (gone,
-- or in a crawl the run did not read), so only `newsflow reparse` brings them up to date.
with final as (
    select count(*) as stale from article where parser_version <> ?
)

select * from final
