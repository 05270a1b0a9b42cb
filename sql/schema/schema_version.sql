create table if not exists schema_version (
    version integer primary key,
    name varchar not null,
    applied_at timestamp not null,
    newsflow_version varchar not null
);

comment on table schema_version is 'The layout of this warehouse file: one row per migration applied (or one row when a newsflow created the file at that version). The highest version is the current one.';
comment on column schema_version.version is 'Schema version: the number of a migration in sql/migrations.';
comment on column schema_version.name is 'The migration applied (file name without .sql), or created when the file was created at this version.';
comment on column schema_version.applied_at is 'When the version was reached (UTC).';
comment on column schema_version.newsflow_version is 'newsflow version that applied it.';
