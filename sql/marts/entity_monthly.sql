-- Mentions of each entity per crawl month, in the article text and in the reader comments.
create or replace view entity_monthly as
-- The one place the articles are read. Every version of a page counts, each in its own crawl
-- month: a month shows what that month's crawl held, re-crawled pages included.
with article_source as (
    select article_id, crawl_month from article
),

source as (
    select
        article_entity.entity_id,
        article_entity.article_mentions,
        article_entity.comment_mentions,
        article_source.crawl_month
    from article_entity
    inner join article_source on article_entity.article_id = article_source.article_id
),

counted as (
    select
        entity_id,
        crawl_month,
        sum(article_mentions)::bigint as article_mentions,
        sum(comment_mentions)::bigint as comment_mentions,
        -- article_entity has one row per article and entity.
        count(*) as articles
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

comment on view entity_monthly is 'Mentions of each entity per crawl month, split into the article text (title and body) and the reader comments. A page crawled in two months counts in both: each month shows what its crawl held.';
comment on column entity_monthly.entity_id is 'The entity (entity.entity_id).';
comment on column entity_monthly.name is 'Canonical name of the entity.';
comment on column entity_monthly.type is 'PERSON, ORG or LOC.';
comment on column entity_monthly.crawl_month is 'First day of the crawl month of the pages (not the publication date); NULL for pages without a month line.';
comment on column entity_monthly.article_mentions is 'Mentions in article titles and bodies crawled that month.';
comment on column entity_monthly.comment_mentions is 'Mentions in reader comments on pages crawled that month.';
comment on column entity_monthly.articles is 'Distinct pages naming it that month, in text or comments.';
