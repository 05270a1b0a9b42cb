create table if not exists candidate_mention (
    mention_id varchar primary key,
    name varchar not null,
    article_id varchar not null,
    comment_id varchar,
    field varchar not null,
    char_start integer not null,
    char_end integer not null
);

comment on table candidate_mention is 'One row per place a capitalised name that matches no entity, and has no clear type, is written: for analysts to review (see the entity_candidate view).';
comment on column candidate_mention.mention_id is 'Stable key of the occurrence.';
comment on column candidate_mention.name is 'The name as written (possessive s removed).';
comment on column candidate_mention.article_id is 'The article the text belongs to (article.article_id).';
comment on column candidate_mention.comment_id is 'The comment the name is in (comment.comment_id); NULL for title and body.';
comment on column candidate_mention.field is 'Which text holds the name: title, body or comment.';
comment on column candidate_mention.char_start is '0-based character offset where the name starts in that text.';
comment on column candidate_mention.char_end is 'Character offset just past the name.';
