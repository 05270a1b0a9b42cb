-- The export of a table or view with an article_id (the {name} is filled in by
-- flows/export.py from the warehouse's own table names), with the month of its article's
-- crawl as the partition column: YYYY-MM, or none for pages without a month line.
with source as (
    select * from {name}
),

article_month as (
    select article_id, coalesce(strftime(crawl_month, '%Y-%m'), 'none') as month from article
),

final as (
    select source.*, article_month.month
    from source
    inner join article_month on source.article_id = article_month.article_id
)

select * from final
