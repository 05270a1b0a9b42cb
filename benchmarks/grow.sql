-- A larger warehouse made of copies of a smaller one (attached as `small`), for timing the
-- marts: copy k of every row gets keys suffixed ~k, its page a folder copyk/, and a crawl
-- month k months later, so there are as many stories, commenters' months and entity months
-- as a real crawl of that size would have. The variable copies is the number of copies. Comment texts and
-- author names repeat in every copy: repeated_comment is at its worst.
insert into article by name
select * exclude (k) replace (
    article_id || '~' || k as article_id,
    'copy' || k || '/' || source_path as source_path,
    coalesce(crawl_month, date '2020-01-01') + to_months(k::integer % 36) as crawl_month
)
from small.article, range(getvariable('copies')) as copies(k);

insert into comment by name
select * exclude (k) replace (
    comment_id || '~' || k as comment_id,
    article_id || '~' || k as article_id,
    parent_comment_id || '~' || k as parent_comment_id
)
from small.comment, range(getvariable('copies')) as copies(k);

insert into entity_mention by name
select * exclude (k) replace (
    mention_id || '~' || k as mention_id,
    article_id || '~' || k as article_id,
    comment_id || '~' || k as comment_id
)
from small.entity_mention, range(getvariable('copies')) as copies(k);

-- The counts a load makes of the mentions, copied with them.
insert into article_entity by name
select * exclude (k) replace (article_id || '~' || k as article_id)
from small.article_entity, range(getvariable('copies')) as copies(k);

insert into article_entity_pair by name
select * exclude (k) replace (article_id || '~' || k as article_id)
from small.article_entity_pair, range(getvariable('copies')) as copies(k);

insert into article_story by name
select * exclude (k) replace (
    article_id || '~' || k as article_id,
    story_id * getvariable('copies') + k as story_id
)
from small.article_story, range(getvariable('copies')) as copies(k);

insert into entity by name select * from small.entity;
insert into ingest_run by name select * from small.ingest_run;
insert into dq_result by name select * from small.dq_result;
insert into quarantine by name select * from small.quarantine;
