-- The headline figures of the report.
with final as (
    select
        (select count(*) from article) as articles,
        (select count(*) from comment) as comments,
        (select count(*) from mentioned_entity) as entities_mentioned,
        (select count(*) from story) as stories,
        (select count(*) from story where copies > 1) as stories_with_copies,
        (select count(*) from ingest_run) as runs
)

select * from final
