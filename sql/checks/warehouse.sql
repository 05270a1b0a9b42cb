-- Rules on the whole candidate warehouse before it is published: the keys of the tables with
-- no primary-key index are unique (see sql/migrations/007), every row's parent exists, and every
-- article's n_comments matches its comment rows. One statement per rule, each one row; all must
-- have unexpected_count = 0. Each runs on its own: in one query, DuckDB held the hash tables of
-- all the rules at once and spilled them to disk (1.9 s on the 100k bench warehouse, 0.5 s
-- one rule at a time).
-- Examples are five of the broken keys: the least five (`min(key, 5)` keeps five as it goes,
-- where a list of every broken key ran out of the writer's memory when millions broke), or,
-- in the rules over comments and mentions, those of the first five broken rows, found by row
-- number: reading every row's key to find none broken took 0.2 s of each rule over the 10 M
-- mentions of the 100k bench warehouse.
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
        min(example, 5) as examples
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
        min(example, 5) as examples
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
        min(example, 5) as examples
    from broken
)

select * from final;

with broken as (
    select rowid as row from comment
    where article_id not in (select article_id from article)
),

counted as (
    select count(*) as unexpected_count, min(row, 5) as example_rows from broken
),

final as (
    select
        'relationship' as expectation,
        'comment.article_id' as column_name,
        'Every comment''s article exists.' as notes,
        (select count(*) from comment) as element_count,
        unexpected_count,
        (
            select list(comment_id order by comment_id) from comment
            where rowid in (select unnest(example_rows) from counted)
        ) as examples
    from counted
)

select * from final;

with broken as (
    select r.rowid as row from comment as r
    where r.parent_comment_id is not null and not exists (
        select 1 from comment as p
        where p.comment_id = r.parent_comment_id and p.article_id = r.article_id
    )
),

counted as (
    select count(*) as unexpected_count, min(row, 5) as example_rows from broken
),

final as (
    select
        'relationship' as expectation,
        'comment.parent_comment_id' as column_name,
        'Every reply''s parent is a comment of the same article.' as notes,
        (select count(*) from comment where parent_comment_id is not null) as element_count,
        unexpected_count,
        (
            select list(comment_id order by comment_id) from comment
            where rowid in (select unnest(example_rows) from counted)
        ) as examples
    from counted
)

select * from final;

with broken as (
    select rowid as row from entity_mention
    where entity_id not in (select entity_id from entity)
),

counted as (
    select count(*) as unexpected_count, min(row, 5) as example_rows from broken
),

final as (
    select
        'relationship' as expectation,
        'entity_mention.entity_id' as column_name,
        'Every mention''s entity exists.' as notes,
        (select count(*) from entity_mention) as element_count,
        unexpected_count,
        (
            select list(mention_id order by mention_id) from entity_mention
            where rowid in (select unnest(example_rows) from counted)
        ) as examples
    from counted
)

select * from final;

with broken as (
    select rowid as row from entity_mention
    where article_id not in (select article_id from article)
),

counted as (
    select count(*) as unexpected_count, min(row, 5) as example_rows from broken
),

final as (
    select
        'relationship' as expectation,
        'entity_mention.article_id' as column_name,
        'Every mention''s article exists.' as notes,
        (select count(*) from entity_mention) as element_count,
        unexpected_count,
        (
            select list(mention_id order by mention_id) from entity_mention
            where rowid in (select unnest(example_rows) from counted)
        ) as examples
    from counted
)

select * from final;

with broken as (
    select rowid as row from entity_mention
    where comment_id is not null and comment_id not in (select comment_id from comment)
),

counted as (
    select count(*) as unexpected_count, min(row, 5) as example_rows from broken
),

final as (
    select
        'relationship' as expectation,
        'entity_mention.comment_id' as column_name,
        'Every comment mention''s comment exists.' as notes,
        (select count(*) from entity_mention where comment_id is not null) as element_count,
        unexpected_count,
        (
            select list(mention_id order by mention_id) from entity_mention
            where rowid in (select unnest(example_rows) from counted)
        ) as examples
    from counted
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
        min(example, 5) as examples
    from broken
)

select * from final;
