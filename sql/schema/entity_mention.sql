-- No primary key: its index must be in memory for every insert (0.3 GiB and 2 s per batch at
-- 10 M mentions). mention_id is unique all the same: it starts with the article_id, the
-- data-quality gate checks it unique in each batch, and a page's rows are replaced whole.
create table if not exists entity_mention (
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

comment on table entity_mention is 'One row per place an entity is named: in an article title, an article body or a comment.';
comment on column entity_mention.mention_id is 'Stable key of the mention: article_id/comment_id (or title, body)/char_start.';
comment on column entity_mention.entity_id is 'The entity named (entity.entity_id).';
comment on column entity_mention.article_id is 'The article the text belongs to (article.article_id).';
comment on column entity_mention.comment_id is 'The comment the mention is in (comment.comment_id); NULL for title and body mentions.';
comment on column entity_mention.field is 'Which text holds the mention: title, body or comment.';
comment on column entity_mention.char_start is '0-based character offset where the mention starts in that text.';
comment on column entity_mention.char_end is 'Character offset just past the mention: substring(text, char_start + 1, char_end - char_start) = surface.';
comment on column entity_mention.surface is 'The mention exactly as written on the page.';
comment on column entity_mention.extractor is 'What found the mention: gazetteer (a name, alias or spelling in the gazetteer) or discovery (a name typed by its context).';
