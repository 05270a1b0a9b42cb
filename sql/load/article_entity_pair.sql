-- Pair the entities the batch's pages name together (staged_entity_mention): in the same
-- article title or body, and in the same comment, counted per article, so that
-- entity_comention sums rows instead of joining every mention with its neighbours when read.
insert into article_entity_pair by name
with source as (
    select distinct
        article_id,
        case when field = 'comment' then 'comment' else 'article' end as scope,
        -- The unit the entities are named together in: the comment, or the article's text.
        coalesce(comment_id, '') as comment_id,
        entity_id
    from staged_entity_mention
),

final as (
    select
        left_side.article_id,
        left_side.scope,
        left_side.entity_id,
        right_side.entity_id as other_entity_id,
        count(*) as together
    from source as left_side
    inner join source as right_side
        on left_side.article_id = right_side.article_id
        and left_side.scope = right_side.scope
        and left_side.comment_id = right_side.comment_id
        and left_side.entity_id < right_side.entity_id
    group by left_side.article_id, left_side.scope, left_side.entity_id, right_side.entity_id
)

select * from final
;
