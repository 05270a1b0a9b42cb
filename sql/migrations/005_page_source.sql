-- Version 5: a page is known by its source (the crawl it came from, by default the name of its
-- input folder) and its path in it, so that another crawl's page at the same path is a page of
-- its own. Rows loaded before get the empty source: the first run that finds the same path
-- gives them its source (see sql/load/adopt_unnamed.sql). An article records the one it is a
-- re-crawl of. source_file is rebuilt, as DuckDB cannot change a primary key in place.
alter table article add column source varchar default '';
alter table article alter column source set not null;
alter table article alter column source drop default;
alter table article add column previous_article_id varchar;
alter table page add column source varchar default '';
alter table page alter column source set not null;
alter table page alter column source drop default;
alter table quarantine add column source varchar default '';
alter table quarantine alter column source set not null;
alter table quarantine alter column source drop default;
alter table source_file rename to source_file_v4;
create table source_file (
    source_path varchar not null,
    size_bytes bigint,
    modified_at timestamp,
    sha256 varchar,
    first_seen_run varchar not null,
    last_seen_run varchar not null,
    status varchar not null,
    source varchar not null,
    primary key (source, source_path)
);
insert into source_file select *, '' as source from source_file_v4;
drop table source_file_v4;
