-- No primary key (since schema version 7, see sql/migrations/007): article_id is unique all
-- the same, and sql/checks/warehouse.sql checks it.
create table if not exists article (
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
    -- Added by migration 005 (columns that migrations add go last).
    source varchar not null,
    previous_article_id varchar
);

comment on table article is 'One row per scraped page: the article''s title and body, without site chrome.';
comment on column article.article_id is 'Stable key of the page, derived from its source and source_path (pages loaded before schema version 5 keep the key they had until parsed again).';
comment on column article.source_path is 'Path of the page file relative to the input folder it was found in; with source, what identifies the page.';
comment on column article.title is 'Article title; NULL when the page shows none.';
comment on column article.body is 'Article text, paragraphs separated by a blank line; NULL when the page holds only comments.';
comment on column article.crawl_month is 'First day of the month in the page header: the month of the crawl, not the publication date. NULL when absent.';
comment on column article.layout is 'Comment layout the parser recognised: wpdiscuz (author line, then text), numbered (numbered reply threads), bullets (bullet reply threads), other (comments of other sites: time-stamped author lines, forum posts), none (no comment section) or unknown (a comment-section header with no comment found under it).';
comment on column article.n_comments is 'Number of reader comments on the page (rows in comment).';
comment on column article.sha256 is 'SHA-256 of the page file the row was parsed from.';
comment on column article.parser_version is 'newsflow parser version that produced the row.';
comment on column article.loaded_by_run is 'ingest_run.run_id of the run that last loaded the page.';
comment on column article.unsplit_text is 'Text of the page the parser could place neither in the article nor in a comment (for example a comment section it could not split), kept so that nothing is lost; paragraphs separated by a blank line. NULL when all text was placed.';
comment on column article.parse_flags is 'Why an analyst should check how the page was split, as comma-separated names: no_title, no_body, unsplit_text, uncertain_lines, empty_comment, comments_without_author (see README). NULL when there is nothing to check.';
comment on column article.parse_confidence is 'How sure the parser is of the split, from 0 to 1: its certainty about the least certain line of the page. Check pages with low values first (view parse_review). NULL for rows loaded before newsflow recorded it, until the page is parsed again.';
comment on column article.source is 'Name of the crawl the page came from: the --source given for its input folder, else the folder''s name (for example crawl-2026-11). Empty for pages loaded before schema version 5 until a run finds them again.';
comment on column article.previous_article_id is 'The article this one is a re-crawl of: the same path and title in the crawl (source) loaded before it; NULL when there is none. An article that no other names as its previous one is the latest version of its page.';
