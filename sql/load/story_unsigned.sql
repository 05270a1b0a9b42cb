-- Articles with a body and no story yet, in key order.
with source as (
    select article_id from article where body is not null
),

final as (
    select source.article_id
    from source
    anti join article_story on source.article_id = article_story.article_id
)

select * from final
order by article_id
