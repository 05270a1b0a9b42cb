-- Record that the warehouse reached a schema version.
insert into schema_version (version, name, applied_at, newsflow_version)
values (?, ?, ?, ?)
