-- Written at load from the batch's mentions (sql/load/article_entity_pair.sql) and replaced
-- with them: entity_comention sums these rows instead of pairing every mention with every
-- other of its article or comment each time it is read.
create table if not exists article_entity_pair (
    article_id varchar not null,
    scope varchar not null,
    entity_id varchar not null,
    other_entity_id varchar not null,
    together integer not null
);

comment on table article_entity_pair is 'One row per article, scope and pair of entities named together on its page: in its title or body (scope article), or in one of its comments (scope comment). For the entity_comention view.';
comment on column article_entity_pair.article_id is 'The article (article.article_id).';
comment on column article_entity_pair.scope is 'article (both named in the article title or body) or comment (both named in the same reader comment).';
comment on column article_entity_pair.entity_id is 'One entity of the pair (entity.entity_id), the lower id of the two.';
comment on column article_entity_pair.other_entity_id is 'The other entity of the pair (entity.entity_id).';
comment on column article_entity_pair.together is 'Scope article: 1 (the article names both). Scope comment: comments of the article naming both.';
