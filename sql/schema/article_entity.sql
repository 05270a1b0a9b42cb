-- Written at load from the batch's mentions (sql/load/article_entity.sql) and replaced with
-- them: the marts sum these rows instead of counting millions of mentions each time they are
-- read. No primary key, for the reason entity_mention has none; a page's rows come from one
-- grouping and are replaced whole.
create table if not exists article_entity (
    article_id varchar not null,
    entity_id varchar not null,
    article_mentions integer not null,
    comment_mentions integer not null,
    comments integer not null
);

comment on table article_entity is 'One row per article and entity named on its page (title, body or comments): the mentions of entity_mention counted, for the marts.';
comment on column article_entity.article_id is 'The article (article.article_id).';
comment on column article_entity.entity_id is 'The entity named (entity.entity_id).';
comment on column article_entity.article_mentions is 'Mentions in the article title and body.';
comment on column article_entity.comment_mentions is 'Mentions in the reader comments.';
comment on column article_entity.comments is 'Reader comments naming the entity.';
