-- One row per article with what an analyst asks of it first: its comments and commenters,
-- the entities named in its text and in its comments, and its story (copies elsewhere).
create or replace view article_overview as
-- The one place the articles are read. Every version of a page is a row of its own: an
-- article of an earlier crawl keeps its comments and entities (previous_article_id links them).
with source as (
    select * from article
),

comment_stats as (
    select
        article_id,
        count(*) filter (where author is null) as comments_without_author,
        count(distinct author) as commenters
    from comment
    group by article_id
),

mention_stats as (
    select
        article_id,
        sum(article_mentions)::bigint as article_mentions,
        sum(comment_mentions)::bigint as comment_mentions
    from article_entity
    group by article_id
),

-- Entities in name order, to break ties in mentions by name below.
name_order as (
    select entity_id, name, row_number() over (order by name, entity_id) as name_rank
    from entity
),

entity_counts as (
    select
        article_entity.article_id,
        name_order.name,
        name_order.name_rank,
        article_entity.article_mentions + article_entity.comment_mentions as mentions
    from article_entity
    inner join name_order on article_entity.entity_id = name_order.entity_id
),

top_entities as (
    -- The three with the most mentions (the first name on a tie), most first: a top 3 kept
    -- per article, cheaper than ranking every entity of every article with a window. The
    -- order is one number, mentions then name, as a pair (a struct) compares much slower.
    select
        article_id,
        array_to_string(
            max_by(
                name || ' (' || mentions || ')', mentions::bigint * 4294967296 - name_rank, 3
            ),
            ', '
        ) as top_entities
    from entity_counts
    group by article_id
),

final as (
    select
        source.article_id,
        source.source_path,
        source.title,
        source.crawl_month,
        source.layout,
        source.n_comments as comments,
        coalesce(comment_stats.comments_without_author, 0) as comments_without_author,
        coalesce(comment_stats.commenters, 0) as commenters,
        coalesce(mention_stats.article_mentions, 0) as article_mentions,
        coalesce(mention_stats.comment_mentions, 0) as comment_mentions,
        top_entities.top_entities,
        article_story.story_id
    from source
    left join comment_stats on source.article_id = comment_stats.article_id
    left join mention_stats on source.article_id = mention_stats.article_id
    left join top_entities on source.article_id = top_entities.article_id
    left join article_story on source.article_id = article_story.article_id
)

select * from final
;

comment on view article_overview is 'One row per article: comments, commenters, entity mentions in its text and in its comments, its top entities and its story (see the story view).';
comment on column article_overview.article_id is 'The article (article.article_id).';
comment on column article_overview.source_path is 'Path of the page file relative to its input folder.';
comment on column article_overview.title is 'Article title; NULL when the page shows none (mirror pages): use article_id, not the title, to tell articles apart.';
comment on column article_overview.crawl_month is 'First day of the crawl month in the page header (not the publication date); NULL when absent.';
comment on column article_overview.layout is 'Comment layout the parser recognised (article.layout).';
comment on column article_overview.comments is 'Reader comments on the page.';
comment on column article_overview.comments_without_author is 'Comments shown without an author name (guest or deleted users).';
comment on column article_overview.commenters is 'Distinct author names among the comments (comments without an author not counted).';
comment on column article_overview.article_mentions is 'Entity mentions in the article title and body.';
comment on column article_overview.comment_mentions is 'Entity mentions in the reader comments.';
comment on column article_overview.top_entities is 'The three entities named most often on the page (title, body and comments), as name (mentions), most first; NULL when none.';
comment on column article_overview.story_id is 'The story the article belongs to (article_story.story_id): copies of the same text on mirrors and re-crawls share it. NULL for articles without a body.';
