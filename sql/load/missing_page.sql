-- Pages whose files are gone: the latest run that read their source did not find them
-- (source_file.status missing). The first parameter lists the sources to look at (empty: all).
with missing as (
    select source, source_path, last_seen_run
    from source_file
    where status = 'missing' and (len(?::varchar[]) = 0 or list_contains(?::varchar[], source))
),

final as (
    select
        missing.source,
        missing.source_path,
        page.article_id,
        article.title,
        missing.last_seen_run
    from missing
    left join page using (source, source_path)
    left join article using (article_id)
)

select * from final
order by source, source_path
