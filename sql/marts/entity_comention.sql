-- Who is discussed with whom: pairs of entities named in the same article text, and
-- separately in the same reader comment, with how surprising the pairing is (lift, PMI).
create or replace view entity_comention as
-- The one place the articles are read: each page at its latest version, so that a page
-- crawled again counts once. Every article_entity and article_entity_pair row has its article
-- (a page's rows are replaced and pruned with it): leaving out the versions a later one
-- replaces is enough, and cheaper than joining millions of pairs with every article.
with replaced_version as (
    select previous_article_id as article_id from article where previous_article_id is not null
),

source as (
    select article_entity.*
    from article_entity
    anti join replaced_version on article_entity.article_id = replaced_version.article_id
),

unit_count as (
    select 'article' as scope, count(*) as units
    from (select distinct article_id from source where article_mentions > 0)
    union all
    select 'comment' as scope, count(*) as units
    from comment
    anti join replaced_version on comment.article_id = replaced_version.article_id
    where comment.entities_named > 0
),

entity_count as (
    select 'article' as scope, entity_id, count(*) as entity_units
    from source
    where article_mentions > 0
    group by entity_id
    union all
    select 'comment' as scope, entity_id, sum(comments)::bigint as entity_units
    from source
    where comments > 0
    group by entity_id
),

paired as (
    select
        article_entity_pair.scope,
        article_entity_pair.entity_id,
        article_entity_pair.other_entity_id,
        sum(article_entity_pair.together)::bigint as together
    from article_entity_pair
    anti join replaced_version on article_entity_pair.article_id = replaced_version.article_id
    group by
        article_entity_pair.scope,
        article_entity_pair.entity_id,
        article_entity_pair.other_entity_id
),

final as (
    select
        paired.scope,
        paired.entity_id,
        entity.name,
        paired.other_entity_id,
        other.name as other_name,
        paired.together,
        one.entity_units,
        two.entity_units as other_units,
        unit_count.units,
        paired.together * unit_count.units / (one.entity_units * two.entity_units) as lift,
        ln(paired.together * unit_count.units / (one.entity_units * two.entity_units)) as pmi
    from paired
    inner join unit_count on paired.scope = unit_count.scope
    inner join entity_count as one
        on paired.scope = one.scope and paired.entity_id = one.entity_id
    inner join entity_count as two
        on paired.scope = two.scope and paired.other_entity_id = two.entity_id
    inner join entity on paired.entity_id = entity.entity_id
    inner join entity as other on paired.other_entity_id = other.entity_id
)

select * from final
;

comment on view entity_comention is 'Pairs of entities named together: in the same article (title and body; scope article) or in the same reader comment (scope comment), with counts and lift. Each pair appears once per scope, the entity with the lower entity_id first: filter on either column to find an entity''s partners.';
comment on column entity_comention.scope is 'article (named in the same article title or body) or comment (named in the same reader comment).';
comment on column entity_comention.entity_id is 'One entity of the pair (entity.entity_id), the lower id of the two.';
comment on column entity_comention.name is 'Canonical name of entity_id.';
comment on column entity_comention.other_entity_id is 'The other entity of the pair (entity.entity_id).';
comment on column entity_comention.other_name is 'Canonical name of other_entity_id.';
comment on column entity_comention.together is 'Articles (scope article) or comments (scope comment) naming both.';
comment on column entity_comention.entity_units is 'Articles or comments naming entity_id.';
comment on column entity_comention.other_units is 'Articles or comments naming other_entity_id.';
comment on column entity_comention.units is 'Articles or comments naming any entity, in this scope.';
comment on column entity_comention.lift is 'together * units / (entity_units * other_units): how many times more often the two are named together than if they were named independently; above 1 means they go together.';
comment on column entity_comention.pmi is 'Pointwise mutual information, ln(lift): 0 when independent, positive when they go together.';
