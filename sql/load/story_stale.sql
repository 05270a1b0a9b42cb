-- Story rows to compute again: their article is gone, was loaded or parsed again since it was
-- signed, or was signed another way (the parameter: stories.SIGNED_WITH).
with signed as (
    select article_id, loaded_by_run, signed_with from article_story
),

current_article as (
    select article_id, loaded_by_run from article where body is not null
),

final as (
    select signed.article_id
    from signed
    left join current_article
        on signed.article_id = current_article.article_id
        and signed.loaded_by_run = current_article.loaded_by_run
    where current_article.article_id is null or signed.signed_with <> ?
)

select * from final
