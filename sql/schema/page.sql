-- No primary key (since schema version 7, see sql/migrations/007): article_id is unique all
-- the same, and sql/checks/warehouse.sql checks it.
create table if not exists page (
    article_id varchar not null,
    source_path varchar not null,
    sha256 varchar not null,
    raw_text varchar not null,
    -- Added by migration 005.
    source varchar not null
);

comment on table page is 'The decoded text of each page file as read, so pages can be parsed again without the input files.';
comment on column page.article_id is 'Key shared with article.article_id.';
comment on column page.source_path is 'Path of the page file relative to its input folder.';
comment on column page.source is 'Name of the crawl the page came from (article.source).';
comment on column page.sha256 is 'SHA-256 of the file bytes.';
comment on column page.raw_text is 'Page text after decoding (UTF-8, NFC, LF line ends), before any parsing.';
