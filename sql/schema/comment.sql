create table if not exists comment (
    comment_id varchar primary key,
    article_id varchar not null,
    position integer not null,
    author varchar,
    depth integer not null,
    parent_comment_id varchar,
    body varchar not null,
    dq_flags varchar,
    -- Added by migration 006: computed at load for the marts, so that no view works them out
    -- over every comment each time it is read.
    normalised_text varchar not null,
    entities_named integer not null
);

comment on table comment is 'One row per reader comment under an article.';
comment on column comment.comment_id is 'Stable key of the comment, derived from its article, author, text and occurrence.';
comment on column comment.article_id is 'The article the comment was posted under (article.article_id).';
comment on column comment.position is '1-based order of the comment on the page.';
comment on column comment.author is 'Display name of the commenter; NULL when the page shows none (guest or deleted user).';
comment on column comment.depth is 'Reply depth: 0 for a top-level comment, 1 for a reply to it, and so on.';
comment on column comment.parent_comment_id is 'The comment this one replies to; NULL for top-level comments.';
comment on column comment.body is 'Comment text, paragraphs separated by a blank line.';
comment on column comment.dq_flags is 'Data-quality rules this comment breaks (column:rule, comma-separated), e.g. an empty text; NULL when it breaks none. Such a comment is kept, and its page loaded: see dq_result for the rule.';
comment on column comment.normalised_text is 'The text as repeated_comment compares it: lower case, each run of characters other than letters and digits (of any script) made one space, trimmed.';
comment on column comment.entities_named is 'Distinct entities the comment names (its rows in entity_mention); 0 when none.';
