-- Entity discovery (issue 4): entities found by context are stored with source = 'discovered'
-- and mentions with extractor = 'discovery' (no column changes); untyped capitalised names go
-- to the new candidate_mention table, read through the entity_candidate view (sql/marts).
-- The lead renumbers this file when merging. Descriptions come from sql/schema.
create table if not exists candidate_mention (
    mention_id varchar primary key,
    name varchar not null,
    article_id varchar not null,
    comment_id varchar,
    field varchar not null,
    char_start integer not null,
    char_end integer not null
);
