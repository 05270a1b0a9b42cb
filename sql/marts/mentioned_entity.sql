-- The entities actually named somewhere, with totals: the entity table holds the whole
-- gazetteer, most of it never mentioned.
create or replace view mentioned_entity as
-- The one place the articles are read: each page at its latest version, so that a page
-- crawled again counts once (a later crawl's version names the one before it).
with article_source as (
    select article_id, crawl_month from article
    where article_id not in (
        select previous_article_id from article where previous_article_id is not null
    )
),

counted as (
    select
        article_entity.entity_id,
        sum(article_entity.article_mentions + article_entity.comment_mentions)::bigint
            as mentions,
        sum(article_entity.article_mentions)::bigint as article_mentions,
        sum(article_entity.comment_mentions)::bigint as comment_mentions,
        count(*) as articles,
        min(article_source.crawl_month) as first_crawl_month,
        max(article_source.crawl_month) as last_crawl_month
    from article_entity
    inner join article_source on article_entity.article_id = article_source.article_id
    group by article_entity.entity_id
),

final as (
    select
        entity.entity_id,
        entity.name,
        entity.type,
        entity.wikidata_id,
        entity.source,
        counted.mentions,
        counted.article_mentions,
        counted.comment_mentions,
        counted.articles,
        counted.first_crawl_month,
        counted.last_crawl_month
    from counted
    inner join entity on counted.entity_id = entity.entity_id
)

select * from final
;

comment on view mentioned_entity is 'Entities named at least once, with their totals over the latest version of each page (the entity table keeps every known entity, mentioned or not, for lookups).';
comment on column mentioned_entity.entity_id is 'The entity (entity.entity_id).';
comment on column mentioned_entity.name is 'Canonical name.';
comment on column mentioned_entity.type is 'PERSON, ORG or LOC.';
comment on column mentioned_entity.wikidata_id is 'Wikidata QID where known.';
comment on column mentioned_entity.source is 'gazetteer or discovered (entity.source).';
comment on column mentioned_entity.mentions is 'All mentions: article text and comments.';
comment on column mentioned_entity.article_mentions is 'Mentions in article titles and bodies.';
comment on column mentioned_entity.comment_mentions is 'Mentions in reader comments.';
comment on column mentioned_entity.articles is 'Distinct pages naming it, in text or comments (a page crawled again counts once, at its latest version).';
comment on column mentioned_entity.first_crawl_month is 'Earliest crawl month of a page naming it; NULL when none has a month.';
comment on column mentioned_entity.last_crawl_month is 'Latest crawl month of a page naming it; NULL when none has a month.';
