-- The entities named most often, split into article text and comments.
with final as (
    select name, type, article_mentions, comment_mentions, mentions
    from mentioned_entity
)

select * from final
order by mentions desc, name
limit ?
