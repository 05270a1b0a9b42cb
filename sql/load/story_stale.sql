-- Story rows whose article was loaded or parsed again since they were checked: stale when
-- the article is gone, has another text now (MD5 of its opening; the second parameter is
-- stories.MAX_CHARS), or was signed another way (the first: stories.SIGNED_WITH); reloaded
-- when its text is the same, so that it keeps its signature and story.
with signed as (
    select article_id, loaded_by_run, body_md5, signed_with from article_story
),

current_article as (
    select article_id, loaded_by_run, body from article where body is not null
),

checked as (
    select
        signed.article_id,
        current_article.loaded_by_run,
        case
            when current_article.article_id is null or signed.signed_with <> $1 then 'stale'
            when signed.loaded_by_run = current_article.loaded_by_run then 'current'
            when signed.body_md5 = md5(left(current_article.body, $2)) then 'reloaded'
            else 'stale'
        end as state
    from signed
    left join current_article on signed.article_id = current_article.article_id
),

final as (
    select article_id, loaded_by_run, state from checked where state <> 'current'
)

select * from final
