-- Who is discussed with whom: pairs of entities named in the same article text, and
-- separately in the same reader comment, with how surprising the pairing is (lift, PMI).
create or replace view entity_comention as
-- The one place the articles are read: when pages get versions, pick the latest here.
with article_source as (
    select article_id from article
),

source as (
    select distinct
        case when entity_mention.field = 'comment' then 'comment' else 'article' end as scope,
        case
            when entity_mention.field = 'comment' then entity_mention.comment_id
            else entity_mention.article_id
        end as unit_id,
        entity_mention.entity_id
    from entity_mention
    inner join article_source on entity_mention.article_id = article_source.article_id
),

unit_count as (
    select scope, count(distinct unit_id) as units
    from source
    group by scope
),

entity_count as (
    select scope, entity_id, count(*) as entity_units
    from source
    group by scope, entity_id
),

paired as (
    select left_side.scope, left_side.entity_id, right_side.entity_id as other_entity_id,
        count(*) as together
    from source as left_side
    inner join source as right_side
        on left_side.scope = right_side.scope
        and left_side.unit_id = right_side.unit_id
        and left_side.entity_id < right_side.entity_id
    group by left_side.scope, left_side.entity_id, right_side.entity_id
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
