-- Rules on the whole candidate warehouse before it is published: the keys of the tables with
-- no primary-key index are unique (see sql/migrations/007), every row's parent exists, and every
-- article's n_comments matches its comment rows. One row per rule; all must have
-- unexpected_count = 0.
with repeated_article as (
    select article_id as example from article group by article_id having count(*) > 1
),

repeated_page as (
    select article_id as example from page group by article_id having count(*) > 1
),

repeated_article_story as (
    select article_id as example from article_story group by article_id having count(*) > 1
),

comment_without_article as (
    select comment_id as example from comment
    where article_id not in (select article_id from article)
),

reply_without_parent as (
    select r.comment_id as example from comment as r
    where r.parent_comment_id is not null and not exists (
        select 1 from comment as p
        where p.comment_id = r.parent_comment_id and p.article_id = r.article_id
    )
),

mention_without_entity as (
    select mention_id as example from entity_mention
    where entity_id not in (select entity_id from entity)
),

mention_without_article as (
    select mention_id as example from entity_mention
    where article_id not in (select article_id from article)
),

mention_without_comment as (
    select mention_id as example from entity_mention
    where comment_id is not null and comment_id not in (select comment_id from comment)
),

miscounted_article as (
    select a.article_id as example from article as a
    left join (select article_id, count(*) as n from comment group by article_id) as c
        using (article_id)
    where a.n_comments <> coalesce(c.n, 0)
),

broken as (
    select 'unique' as expectation, 'article.article_id' as column_name,
        'Every article''s key is unique.' as notes,
        (select count(*) from article) as element_count,
        (select count(*) from repeated_article) as unexpected_count,
        (select list(example order by example)[1:5] from repeated_article) as examples
    union all
    select 'unique', 'page.article_id', 'Every page''s key is unique.',
        (select count(*) from page),
        (select count(*) from repeated_page),
        (select list(example order by example)[1:5] from repeated_page)
    union all
    select 'unique', 'article_story.article_id', 'Every article has at most one story.',
        (select count(*) from article_story),
        (select count(*) from repeated_article_story),
        (select list(example order by example)[1:5] from repeated_article_story)
    union all
    select 'relationship', 'comment.article_id',
        'Every comment''s article exists.',
        (select count(*) from comment),
        (select count(*) from comment_without_article),
        (select list(example order by example)[1:5] from comment_without_article)
    union all
    select 'relationship', 'comment.parent_comment_id',
        'Every reply''s parent is a comment of the same article.',
        (select count(*) from comment where parent_comment_id is not null),
        (select count(*) from reply_without_parent),
        (select list(example order by example)[1:5] from reply_without_parent)
    union all
    select 'relationship', 'entity_mention.entity_id', 'Every mention''s entity exists.',
        (select count(*) from entity_mention),
        (select count(*) from mention_without_entity),
        (select list(example order by example)[1:5] from mention_without_entity)
    union all
    select 'relationship', 'entity_mention.article_id', 'Every mention''s article exists.',
        (select count(*) from entity_mention),
        (select count(*) from mention_without_article),
        (select list(example order by example)[1:5] from mention_without_article)
    union all
    select 'relationship', 'entity_mention.comment_id',
        'Every comment mention''s comment exists.',
        (select count(*) from entity_mention where comment_id is not null),
        (select count(*) from mention_without_comment),
        (select list(example order by example)[1:5] from mention_without_comment)
    union all
    select 'row_invariant', 'article.n_comments',
        'Every article''s n_comments equals its rows in comment.',
        (select count(*) from article),
        (select count(*) from miscounted_article),
        (select list(example order by example)[1:5] from miscounted_article)
),

final as (
    select * from broken
)

select * from final
