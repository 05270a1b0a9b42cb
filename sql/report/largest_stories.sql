-- The stories with the most copies.
with final as (
    select
        coalesce(title, '(no title)') as title,
        copies,
        folders,
        comments,
        coalesce(strftime(first_crawl_month, '%Y-%m'), '') as first_month
    from story
    where copies > 1
)

select * from final
order by copies desc, comments desc, title
limit ?
