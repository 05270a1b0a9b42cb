-- Version 1: ingest_run tells ingest runs from re-parse runs, and counts manifest files that a
-- run did not find. Earlier runs were all ingest runs; how many files they missed is unknown
-- and recorded as 0. Descriptions come from sql/schema after every upgrade.
alter table ingest_run add column kind varchar default 'ingest';
alter table ingest_run alter column kind set not null;
alter table ingest_run alter column kind drop default;
alter table ingest_run add column files_missing integer default 0;
alter table ingest_run alter column files_missing set not null;
alter table ingest_run alter column files_missing drop default;
