-- Written at load by flows/stories.py, for the articles loaded or re-parsed since the last run:
-- the heavy part of grouping articles into stories is done once per article, never in a view.
-- No primary key (since schema version 7, see sql/migrations/007): article_id is unique all
-- the same, and sql/checks/warehouse.sql checks it.
create table if not exists article_story (
    article_id varchar not null,
    story_id bigint not null,
    loaded_by_run varchar not null,
    body_md5 varchar not null,
    signed_with varchar not null,
    minhash blob not null
);

comment on table article_story is 'One row per article with a body: the story it belongs to (near-duplicate bodies, such as mirror copies and re-crawls with small edits, share a story) and the MinHash signature of its body. See the story view.';
comment on column article_story.article_id is 'The article (article.article_id).';
comment on column article_story.story_id is 'The story: articles whose bodies are near-duplicates (estimated Jaccard similarity of their 3-word shingles at least 0.5) share it, also through a chain of copies. Stable across runs; when a new copy joins two stories, they merge into the older (lower) id.';
comment on column article_story.loaded_by_run is 'article.loaded_by_run when the row was last checked: a page loaded or parsed again is checked again.';
comment on column article_story.body_md5 is 'MD5 of the opening of the body that was signed: a page loaded or parsed again with the same text keeps its signature and story.';
comment on column article_story.signed_with is 'How the signature was made (shingle size, permutations, library versions); signatures made otherwise are computed again.';
comment on column article_story.minhash is 'MinHash signature of the body (datasketch, unsigned 32-bit values), to compare later articles with this one.';
