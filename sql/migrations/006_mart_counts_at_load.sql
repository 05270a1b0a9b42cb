-- Version 6: what the marts aggregate is computed at load (see sql/load/article_entity.sql,
-- sql/load/article_entity_pair.sql and flows/load.py with_mart_columns) instead of each time a
-- mart is read. Here it is computed once for the rows loaded before, the way a load computes
-- it. The two tables are created here to be filled; their descriptions come from sql/schema.
-- Columns first, values after: DuckDB alters a table with an index (comment's key) only when
-- the transaction has not updated it yet.
alter table comment add column normalised_text varchar default '';
alter table comment alter column normalised_text set not null;
alter table comment alter column normalised_text drop default;
alter table comment add column entities_named integer default 0;
alter table comment alter column entities_named set not null;
alter table comment alter column entities_named drop default;
-- As sql/load/comment.sql computes it.
update comment set normalised_text = trim(regexp_replace(lower(body), '[^\pL\pN]+', ' ', 'g'));
update comment set entities_named = named.entities
from (
    select comment_id, count(distinct entity_id) as entities
    from entity_mention
    where comment_id is not null
    group by comment_id
) as named
where comment.comment_id = named.comment_id;

create table article_entity (
    article_id varchar not null,
    entity_id varchar not null,
    article_mentions integer not null,
    comment_mentions integer not null,
    comments integer not null
);
insert into article_entity
select
    article_id,
    entity_id,
    count(*) filter (where field <> 'comment'),
    count(*) filter (where field = 'comment'),
    count(distinct comment_id)
from entity_mention
group by article_id, entity_id;

create table article_entity_pair (
    article_id varchar not null,
    scope varchar not null,
    entity_id varchar not null,
    other_entity_id varchar not null,
    together integer not null
);
insert into article_entity_pair
with unit as (
    select distinct
        article_id,
        case when field = 'comment' then 'comment' else 'article' end as scope,
        coalesce(comment_id, '') as comment_id,
        entity_id
    from entity_mention
)
select l.article_id, l.scope, l.entity_id, r.entity_id, count(*)
from unit as l
inner join unit as r
    on l.article_id = r.article_id
    and l.scope = r.scope
    and l.comment_id = r.comment_id
    and l.entity_id < r.entity_id
group by l.article_id, l.scope, l.entity_id, r.entity_id;
