create table if not exists source_file (
    source_path varchar not null,
    size_bytes bigint,
    modified_at timestamp,
    sha256 varchar,
    first_seen_run varchar not null,
    last_seen_run varchar not null,
    status varchar not null,
    -- Added by migration 005: a file is known by its crawl and its path in it.
    source varchar not null,
    primary key (source, source_path)
);

comment on table source_file is 'Manifest of every page file newsflow has seen, loaded or not.';
comment on column source_file.source_path is 'Path of the file relative to its input folder.';
comment on column source_file.source is 'Name of the crawl (input folder) the file belongs to: with source_path, what identifies a page.';
comment on column source_file.size_bytes is 'File size when last seen; NULL when it could not be examined.';
comment on column source_file.modified_at is 'File modification time when last seen (UTC); NULL when it could not be examined.';
comment on column source_file.sha256 is 'SHA-256 of the file bytes when last read; NULL when they could not be read. Files whose size and modification time did not change are not read again.';
comment on column source_file.first_seen_run is 'ingest_run.run_id of the first run that saw the file.';
comment on column source_file.last_seen_run is 'ingest_run.run_id of the last run that saw the file.';
comment on column source_file.status is 'loaded, unchanged (already loaded with this content) or quarantined, as of the last run that saw the file; missing when the latest run that read its source did not find it (its rows are kept until newsflow prune).';
