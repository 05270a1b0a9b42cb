create table if not exists ingest_run (
    run_id varchar primary key,
    started_at timestamp not null,
    finished_at timestamp not null,
    status varchar not null,
    files_seen integer not null,
    files_loaded integer not null,
    files_unchanged integer not null,
    files_quarantined integer not null,
    files_ignored integer not null,
    articles integer not null,
    comments integer not null,
    entities integer not null,
    mentions integer not null,
    dq_result varchar not null,
    newsflow_version varchar not null,
    -- Added by migration 001: columns that migrations add go last, so that a warehouse
    -- created now and an upgraded one have their columns in the same order.
    kind varchar not null,
    files_missing integer not null
);

comment on table ingest_run is 'One row per published run of newsflow: when it ran and what it did.';
comment on column ingest_run.run_id is 'Key of the run (UTC start time and a random suffix).';
comment on column ingest_run.started_at is 'When the run started (UTC).';
comment on column ingest_run.finished_at is 'When the run published the warehouse (UTC).';
comment on column ingest_run.status is 'completed for every published run (failed runs publish nothing).';
comment on column ingest_run.files_seen is 'Files found in the input folders: loaded + unchanged + quarantined + ignored. 0 for reparse runs.';
comment on column ingest_run.files_loaded is 'Files parsed and loaded by this run (new or changed).';
comment on column ingest_run.files_unchanged is 'Files skipped because the warehouse already holds their current content.';
comment on column ingest_run.files_quarantined is 'Files set aside with a reason (see quarantine).';
comment on column ingest_run.files_ignored is 'Files in the input folders not named like a page (not *.txt by default).';
comment on column ingest_run.articles is 'Rows in article after the run.';
comment on column ingest_run.comments is 'Rows in comment after the run.';
comment on column ingest_run.entities is 'Distinct entities mentioned in the warehouse after the run.';
comment on column ingest_run.mentions is 'Rows in entity_mention after the run.';
comment on column ingest_run.dq_result is 'Outcome of the data-quality gate: passed, warnings (a soft rule missed its threshold), pages_quarantined (pages broke a row rule and were set aside) or comments_flagged (comments broke a comment rule and were kept, marked in comment.dq_flags); per rule in dq_result.';
comment on column ingest_run.newsflow_version is 'newsflow version that made the run.';
comment on column ingest_run.kind is 'ingest (pages read from the input folders), reparse (derived tables rebuilt from the stored page text) or prune (the rows of pages whose files are gone removed, by newsflow prune).';
comment on column ingest_run.files_missing is 'Files in source_file that this run did not find (status missing); their rows are kept.';
