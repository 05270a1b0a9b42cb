-- Story rows whose article was loaded or parsed again since they were checked: stale when
-- the article is gone, was signed another way (the first parameter: stories.SIGNED_WITH) or
-- has another text now (MD5 of its opening; the second parameter is stories.MAX_CHARS);
-- reloaded when its text is the same, so that it keeps its signature and story. Only the
-- articles loaded again are read for their text: holding every body for the comparison
-- took more than the writer's memory in a warehouse of 100,000 articles.
with signed as (
    select article_id, loaded_by_run, body_md5, signed_with from article_story
),

current_article as (
    select article_id, loaded_by_run from article where body is not null
),

compared as (
    select
        signed.article_id,
        signed.body_md5,
        current_article.loaded_by_run,
        case
            when current_article.article_id is null or signed.signed_with <> $1 then 'stale'
            when signed.loaded_by_run = current_article.loaded_by_run then 'current'
            else 'loaded again'
        end as state
    from signed
    left join current_article on signed.article_id = current_article.article_id
),

loaded_again as (
    select article_id, md5(left(body, $2)) as body_md5
    from article
    where article_id in (select article_id from compared where state = 'loaded again')
),

checked as (
    select
        compared.article_id,
        compared.loaded_by_run,
        case
            when compared.state <> 'loaded again' then compared.state
            when compared.body_md5 = loaded_again.body_md5 then 'reloaded'
            else 'stale'
        end as state
    from compared
    left join loaded_again on compared.article_id = loaded_again.article_id
),

final as (
    select article_id, loaded_by_run, state from checked where state <> 'current'
)

select * from final
