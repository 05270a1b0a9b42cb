-- Record every file this run saw, keeping the run that first saw it.
insert into source_file by name
select * from staged_source_file
on conflict (source, source_path) do update set
    size_bytes = excluded.size_bytes,
    modified_at = excluded.modified_at,
    sha256 = excluded.sha256,
    last_seen_run = excluded.last_seen_run,
    status = excluded.status;
