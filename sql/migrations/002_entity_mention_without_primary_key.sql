-- Version 2: entity_mention keeps no primary-key index (see sql/schema/entity_mention.sql).
-- DuckDB cannot drop a key in place: the table is rebuilt with the same columns and rows.
alter table entity_mention rename to entity_mention_keyed;
create table entity_mention (
    mention_id varchar not null,
    entity_id varchar not null,
    article_id varchar not null,
    comment_id varchar,
    field varchar not null,
    char_start integer not null,
    char_end integer not null,
    surface varchar not null,
    extractor varchar not null
);
insert into entity_mention select * from entity_mention_keyed;
drop table entity_mention_keyed;
