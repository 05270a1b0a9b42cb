-- Files of the manifest that the run did not find: their rows stay, marked missing.
update source_file set status = 'missing'
where source_path not in (select source_path from staged_source_file);
