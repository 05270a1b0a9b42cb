-- One row per commenter name: how much and where they comment, when, and how they converse.
create or replace view commenter as
-- The one place the articles are read: each page at its latest version, so that the comments
-- of a page crawled again count once.
with article_source as (
    select article_id, crawl_month from article
    where article_id not in (
        select previous_article_id from article where previous_article_id is not null
    )
),

source as (
    select comment.*, article_source.crawl_month
    from comment
    inner join article_source on comment.article_id = article_source.article_id
    where comment.author is not null
),

received as (
    select parent.author, count(*) as replies_received
    from source as reply
    inner join source as parent on reply.parent_comment_id = parent.comment_id
    group by parent.author
),

given as (
    select
        author,
        count(*) as comments,
        count(distinct article_id) as articles,
        min(crawl_month) as first_crawl_month,
        max(crawl_month) as last_crawl_month,
        count(*) filter (where parent_comment_id is not null) as replies_given,
        median(length(body)) as median_comment_length
    from source
    group by author
),

final as (
    select
        given.author,
        given.comments,
        given.articles,
        given.first_crawl_month,
        given.last_crawl_month,
        given.replies_given,
        coalesce(received.replies_received, 0) as replies_received,
        given.median_comment_length
    from given
    left join received on given.author = received.author
)

select * from final
;

comment on view commenter is 'One row per commenter name (as the page shows it; the same name on two sites may be two people): comments, articles, crawl months and replies. Comments without an author are left out; a page crawled again counts at its latest version.';
comment on column commenter.author is 'Display name of the commenter (comment.author).';
comment on column commenter.comments is 'Comments posted under this name.';
comment on column commenter.articles is 'Distinct articles commented on.';
comment on column commenter.first_crawl_month is 'Earliest crawl month of a page with a comment of theirs; NULL when no such page has a month.';
comment on column commenter.last_crawl_month is 'Latest crawl month of a page with a comment of theirs; NULL when no such page has a month.';
comment on column commenter.replies_given is 'Their comments that reply to another comment (comment.parent_comment_id set; known in numbered and bullet threads only).';
comment on column commenter.replies_received is 'Comments by named authors that reply to one of theirs (known in numbered and bullet threads only).';
comment on column commenter.median_comment_length is 'Median length of their comments, in characters.';
