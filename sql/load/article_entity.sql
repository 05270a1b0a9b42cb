-- Count the batch's mentions (staged_entity_mention) per article and entity: the rows the marts
-- sum instead of counting every mention each time they are read.
insert into article_entity by name
with source as (
    select article_id, entity_id, comment_id, field from staged_entity_mention
),

final as (
    select
        article_id,
        entity_id,
        count(*) filter (where field <> 'comment') as article_mentions,
        count(*) filter (where field = 'comment') as comment_mentions,
        count(distinct comment_id) as comments
    from source
    group by article_id, entity_id
)

select * from final
;
