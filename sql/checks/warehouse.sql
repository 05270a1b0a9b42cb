-- Rules on the whole candidate warehouse before it is published: the keys of the tables with
-- no primary-key index are unique (see sql/migrations/007), every row's parent exists, and every
-- article's n_comments matches its comment rows. One statement per rule, each one row; all must
-- have unexpected_count = 0. Each runs on its own: in one query, DuckDB held the hash tables of
-- all the rules at once and spilled them to disk (1.9 s on the 100k bench warehouse, 0.5 s
-- one rule at a time).
with broken as (
    select article_id as example from article group by article_id having count(*) > 1
),

final as (
    select
        'unique' as expectation,
        'article.article_id' as column_name,
        'Every article''s key is unique.' as notes,
        (select count(*) from article) as element_count,
        count(*) as unexpected_count,
        list(example order by example)[1:5] as examples
    from broken
)

select * from final;

with broken as (
    select article_id as example from page group by article_id having count(*) > 1
),

final as (
    select
        'unique' as expectation,
        'page.article_id' as column_name,
        'Every page''s key is unique.' as notes,
        (select count(*) from page) as element_count,
        count(*) as unexpected_count,
        list(example order by example)[1:5] as examples
    from broken
)

select * from final;

with broken as (
    select article_id as example from article_story group by article_id having count(*) > 1
),

final as (
    select
        'unique' as expectation,
        'article_story.article_id' as column_name,
        'Every article has at most one story.' as notes,
        (select count(*) from article_story) as element_count,
        count(*) as unexpected_count,
        list(example order by example)[1:5] as examples
    from broken
)

select * from final;

with broken as (
    select comment_id as example from comment
    where article_id not in (select article_id from article)
),

final as (
    select
        'relationship' as expectation,
        'comment.article_id' as column_name,
        'Every comment''s article exists.' as notes,
        (select count(*) from comment) as element_count,
        count(*) as unexpected_count,
        list(example order by example)[1:5] as examples
    from broken
)

select * from final;

with broken as (
    select r.comment_id as example from comment as r
    where r.parent_comment_id is not null and not exists (
        select 1 from comment as p
        where p.comment_id = r.parent_comment_id and p.article_id = r.article_id
    )
),

final as (
    select
        'relationship' as expectation,
        'comment.parent_comment_id' as column_name,
        'Every reply''s parent is a comment of the same article.' as notes,
        (select count(*) from comment where parent_comment_id is not null) as element_count,
        count(*) as unexpected_count,
        list(example order by example)[1:5] as examples
    from broken
)

select * from final;

with broken as (
    select mention_id as example from entity_mention
    where entity_id not in (select entity_id from entity)
),

final as (
    select
        'relationship' as expectation,
        'entity_mention.entity_id' as column_name,
        'Every mention''s entity exists.' as notes,
        (select count(*) from entity_mention) as element_count,
        count(*) as unexpected_count,
        list(example order by example)[1:5] as examples
    from broken
)

select * from final;

with broken as (
    select mention_id as example from entity_mention
    where article_id not in (select article_id from article)
),

final as (
    select
        'relationship' as expectation,
        'entity_mention.article_id' as column_name,
        'Every mention''s article exists.' as notes,
        (select count(*) from entity_mention) as element_count,
        count(*) as unexpected_count,
        list(example order by example)[1:5] as examples
    from broken
)

select * from final;

with broken as (
    select mention_id as example from entity_mention
    where comment_id is not null and comment_id not in (select comment_id from comment)
),

final as (
    select
        'relationship' as expectation,
        'entity_mention.comment_id' as column_name,
        'Every comment mention''s comment exists.' as notes,
        (select count(*) from entity_mention where comment_id is not null) as element_count,
        count(*) as unexpected_count,
        list(example order by example)[1:5] as examples
    from broken
)

select * from final;

with broken as (
    select a.article_id as example from article as a
    left join (select article_id, count(*) as n from comment group by article_id) as c
        using (article_id)
    where a.n_comments <> coalesce(c.n, 0)
),

final as (
    select
        'row_invariant' as expectation,
        'article.n_comments' as column_name,
        'Every article''s n_comments equals its rows in comment.' as notes,
        (select count(*) from article) as element_count,
        count(*) as unexpected_count,
        list(example order by example)[1:5] as examples
    from broken
)

select * from final;
