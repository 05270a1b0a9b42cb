-- Link each article to the one it re-crawls: the same path and title in another source, the
-- one before it by crawl month, then by when its file was first seen, then by source name.
-- Recomputed for every path and title the batch loads, so a crawl loaded late fits in.
update article set previous_article_id = chain.previous_id
from (
    select
        a.article_id,
        lag(a.article_id) over (
            partition by a.source_path, a.title
            order by
                a.crawl_month asc nulls first,
                coalesce(f.first_seen_run, a.loaded_by_run) asc,
                a.source asc
        ) as previous_id
    from article as a
    left join source_file as f using (source, source_path)
    where
        a.title is not null
        and (a.source_path, a.title) in (select (source_path, title) from staged_article)
) as chain
where
    article.article_id = chain.article_id
    and article.previous_article_id is distinct from chain.previous_id;
