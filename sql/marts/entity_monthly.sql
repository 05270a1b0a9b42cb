-- Mentions of each entity per crawl month, in the article text and in the reader comments.
create or replace view entity_monthly as
-- The one place the articles are read: when pages get versions, pick the latest here.
with article_source as (
    select article_id, crawl_month from article
),

source as (
    select entity_mention.entity_id, entity_mention.article_id, entity_mention.field,
        article_source.crawl_month
    from entity_mention
    inner join article_source on entity_mention.article_id = article_source.article_id
),

counted as (
    select
        entity_id,
        crawl_month,
        count(*) filter (where field <> 'comment') as article_mentions,
        count(*) filter (where field = 'comment') as comment_mentions,
        count(distinct article_id) as articles
    from source
    group by entity_id, crawl_month
),

final as (
    select
        counted.entity_id,
        entity.name,
        entity.type,
        counted.crawl_month,
        counted.article_mentions,
        counted.comment_mentions,
        counted.articles
    from counted
    inner join entity on counted.entity_id = entity.entity_id
)

select * from final
;

comment on view entity_monthly is 'Mentions of each entity per crawl month, split into the article text (title and body) and the reader comments.';
comment on column entity_monthly.entity_id is 'The entity (entity.entity_id).';
comment on column entity_monthly.name is 'Canonical name of the entity.';
comment on column entity_monthly.type is 'PERSON, ORG or LOC.';
comment on column entity_monthly.crawl_month is 'First day of the crawl month of the pages (not the publication date); NULL for pages without a month line.';
comment on column entity_monthly.article_mentions is 'Mentions in article titles and bodies crawled that month.';
comment on column entity_monthly.comment_mentions is 'Mentions in reader comments on pages crawled that month.';
comment on column entity_monthly.articles is 'Distinct pages naming it that month, in text or comments.';
