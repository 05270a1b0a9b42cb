create table if not exists quarantine (
    run_id varchar not null,
    source_path varchar not null,
    reason varchar not null,
    message varchar not null,
    size_bytes bigint,
    sha256 varchar,
    -- Added by migration 005.
    source varchar not null
);

comment on table quarantine is 'Page files a run could not load, one row per file and run, with the reason.';
comment on column quarantine.run_id is 'ingest_run.run_id of the run that set the file aside.';
comment on column quarantine.source_path is 'Path of the file relative to its input folder (bytes of a name that is not UTF-8 escaped as \\xNN).';
comment on column quarantine.source is 'Name of the crawl (input folder) the file was found in (article.source).';
comment on column quarantine.reason is 'Reason code: empty, binary, undecodable, too_large, unreadable, vanished, broken_link, not_a_file, bad_name (the file name is not UTF-8), outside_input (a link leading out of the input folder, not followed), duplicate_path, parse_timeout (parsing took longer than NEWSFLOW_PARSE_TIMEOUT) or no_text (the page holds nothing but a header or site chrome; runs of older newsflow versions called it unparsable).';
comment on column quarantine.message is 'What went wrong and what to do about it, in plain words.';
comment on column quarantine.size_bytes is 'File size in bytes, where it could be read.';
comment on column quarantine.sha256 is 'SHA-256 of the file bytes, where they could be read.';
