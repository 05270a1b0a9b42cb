-- Rows whose parent row is missing, per relationship; every count must be 0 before publishing.
with comment_without_article as (
    select count(*) as n from comment
    where article_id not in (select article_id from article)
),

mention_without_entity as (
    select count(*) as n from entity_mention
    where entity_id not in (select entity_id from entity)
),

mention_without_article as (
    select count(*) as n from entity_mention
    where article_id not in (select article_id from article)
),

mention_without_comment as (
    select count(*) as n from entity_mention
    where comment_id is not null and comment_id not in (select comment_id from comment)
),

final as (
    select 'comment.article_id -> article' as relationship, n from comment_without_article
    union all
    select 'entity_mention.entity_id -> entity', n from mention_without_entity
    union all
    select 'entity_mention.article_id -> article', n from mention_without_article
    union all
    select 'entity_mention.comment_id -> comment', n from mention_without_comment
)

select * from final
