-- Files of the sources this run read (and of no source: loaded before sources had names) that
-- the run did not find: their rows stay, marked missing. Other crawls' files are left alone.
update source_file set status = 'missing'
where
    (source in (select source from staged_run_source) or source = '')
    and (source, source_path) not in (select (source, source_path) from staged_source_file);
