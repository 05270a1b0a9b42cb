-- Pages and comments per crawl month (pages without a month line last).
with final as (
    select
        coalesce(strftime(crawl_month, '%Y-%m'), 'no month') as month,
        count(*) as pages,
        sum(comments) as comments
    from article_overview
    group by crawl_month
)

select * from final
order by month = 'no month', month
