-- The same comment text posted on several pages or under several names: the signal of
-- coordinated posting (and of mirror copies of a page; compare pages with stories).
create or replace view repeated_comment as
-- The one place the articles are read: each page at its latest version, so that the comments
-- of a page crawled again are not taken for the same text posted twice.
with article_source as (
    select
        article.article_id,
        article.source_path,
        article.crawl_month,
        coalesce(article_story.story_id::varchar, article.article_id) as story_key
    from article
    left join article_story on article.article_id = article_story.article_id
    where article.article_id not in (
        select previous_article_id from article where previous_article_id is not null
    )
),

source as (
    select
        comment.comment_id,
        comment.article_id,
        comment.author,
        comment.body,
        article_source.source_path,
        article_source.crawl_month,
        article_source.story_key,
        -- Case, punctuation and spacing do not make a comment different (computed at load).
        comment.normalised_text
    from comment
    inner join article_source on comment.article_id = article_source.article_id
    where length(comment.normalised_text) >= 20
),

-- A text posted once is on one page under one name. The others get a number, so that the
-- distinct counts below group on it and the page, not on the long text and the page.
repeated_text as (
    select normalised_text, row_number() over () as text_id
    from source
    group by normalised_text
    having count(*) >= 2
),

grouped as (
    select
        repeated_text.text_id,
        count(*) as occurrences,
        count(distinct source.article_id) as pages,
        count(distinct source.story_key) as stories,
        count(distinct source.author) as names,
        count(*) filter (where source.author is null) as without_author,
        string_agg(distinct source.author, ', ' order by source.author) as name_list,
        min(source.crawl_month) as first_crawl_month,
        max(source.crawl_month) as last_crawl_month,
        arg_min(source.body, source.source_path || '/' || source.comment_id) as example_text
    from source
    inner join repeated_text on source.normalised_text = repeated_text.normalised_text
    group by repeated_text.text_id
),

final as (
    select repeated_text.normalised_text, grouped.* exclude (text_id)
    from grouped
    inner join repeated_text on grouped.text_id = repeated_text.text_id
    where grouped.pages >= 2 or grouped.names >= 2
)

select * from final
;

comment on view repeated_comment is 'Comment texts posted more than once on different pages or under different names (compared in lower case, ignoring punctuation and spacing; texts under 20 characters left out, e.g. +1 or thanks). Copies of a page on mirror sites repeat its comments too: stories counts the distinct stories, so that stories > 1 means the text was posted under different articles. A page crawled again counts at its latest version.';
comment on column repeated_comment.normalised_text is 'The text as compared (comment.normalised_text): lower case, each run of characters other than letters and digits (of any script) made one space.';
comment on column repeated_comment.occurrences is 'Comments with this text.';
comment on column repeated_comment.pages is 'Distinct pages (articles) it was posted on.';
comment on column repeated_comment.stories is 'Distinct stories it was posted under (see story): mirror copies and re-crawls of one article count once.';
comment on column repeated_comment.names is 'Distinct author names it was posted under (comments without an author not counted).';
comment on column repeated_comment.without_author is 'Occurrences shown without an author name.';
comment on column repeated_comment.name_list is 'Those author names, comma-separated; NULL when every occurrence is without an author.';
comment on column repeated_comment.first_crawl_month is 'Earliest crawl month of a page it is on; NULL when none has a month.';
comment on column repeated_comment.last_crawl_month is 'Latest crawl month of a page it is on; NULL when none has a month.';
comment on column repeated_comment.example_text is 'One occurrence as written (that of the first page by path).';
