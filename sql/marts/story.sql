-- One row per story: an article and its copies on mirror sites and in later crawls.
create or replace view story as
-- The one place the articles are read. Every version of a page counts: a re-crawl is a copy of
-- its story like a mirror's.
with source as (
    select
        article_story.story_id,
        article.article_id,
        article.source_path,
        article.title,
        article.crawl_month,
        article.n_comments,
        case
            when contains(article.source_path, '/')
                then regexp_replace(article.source_path, '/[^/]*$', '')
            else ''
        end as folder
    from article
    inner join article_story on article.article_id = article_story.article_id
),

final as (
    select
        story_id,
        arg_min(title, coalesce(crawl_month, date '9999-12-01')::varchar || source_path)
            filter (where title is not null) as title,
        min(crawl_month) as first_crawl_month,
        max(crawl_month) as last_crawl_month,
        count(*) as copies,
        count(distinct folder) as folders,
        string_agg(distinct folder, ', ' order by folder) as folder_list,
        sum(n_comments) as comments,
        arg_min(article_id, coalesce(crawl_month, date '9999-12-01')::varchar || source_path)
            as first_article_id
    from source
    group by story_id
)

select * from final
;

comment on view story is 'One row per story: articles whose bodies are near-duplicates (mirror copies, re-crawls with small edits) grouped at load with MinHash and LSH (estimated Jaccard similarity of 3-word shingles of the first 600 words at least 0.5; see README, Stories). Single articles are stories of one copy.';
comment on column story.story_id is 'The story (article_story.story_id, also in article_overview).';
comment on column story.title is 'Title of the earliest copy that has one (by crawl month, then path); NULL when no copy shows a title.';
comment on column story.first_crawl_month is 'Earliest crawl month of a copy; NULL when no copy has one.';
comment on column story.last_crawl_month is 'Latest crawl month of a copy; NULL when no copy has one.';
comment on column story.copies is 'Articles (pages) in the story.';
comment on column story.folders is 'Distinct folders the copies were found in (the path without the file name; a site per folder in most crawls).';
comment on column story.folder_list is 'Those folders, comma-separated; an empty name for pages at the top of an input folder.';
comment on column story.comments is 'Reader comments on all copies together.';
comment on column story.first_article_id is 'The earliest copy (by crawl month, then path): article.article_id.';
