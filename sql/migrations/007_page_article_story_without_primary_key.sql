-- Version 7: page, article and article_story keep no primary-key index, as entity_mention
-- has none since version 2. DuckDB appends a run's rows to the last row group of a table with
-- an index and rewrites that whole row group at the next checkpoint: adding 1,000 pages to a
-- warehouse of 100,000 rewrote some 100,000 page texts, article bodies and signatures, 2.7 s
-- of checkpoints. Without the index a run's rows go into row groups of their own. The keys
-- are unique all the same: they are derived from the page's source and path, a page's rows
-- are replaced whole, and a rule checks them unique before publishing
-- (sql/checks/warehouse.sql). comment keeps its key: its rows are short, so its last row
-- group is cheap to rewrite. DuckDB cannot drop a key in place: each table is rebuilt with
-- the same columns and rows.
alter table page rename to page_keyed;
create table page (
    article_id varchar not null,
    source_path varchar not null,
    sha256 varchar not null,
    raw_text varchar not null,
    source varchar not null
);
insert into page select * from page_keyed;
drop table page_keyed;
alter table article rename to article_keyed;
create table article (
    article_id varchar not null,
    source_path varchar not null,
    title varchar,
    body varchar,
    crawl_month date,
    layout varchar not null,
    n_comments integer not null,
    sha256 varchar not null,
    parser_version varchar not null,
    loaded_by_run varchar not null,
    unsplit_text varchar,
    parse_flags varchar,
    parse_confidence double,
    source varchar not null,
    previous_article_id varchar
);
insert into article select * from article_keyed;
drop table article_keyed;
-- Warehouses from before the stories have no article_story yet: it is made keyless here.
create table if not exists article_story (
    article_id varchar not null,
    story_id bigint not null,
    loaded_by_run varchar not null,
    body_md5 varchar not null,
    signed_with varchar not null,
    minhash blob not null
);
alter table article_story rename to article_story_keyed;
create table article_story (
    article_id varchar not null,
    story_id bigint not null,
    loaded_by_run varchar not null,
    body_md5 varchar not null,
    signed_with varchar not null,
    minhash blob not null
);
insert into article_story select * from article_story_keyed;
drop table article_story_keyed;
