-- Pages whose split into article and comments an analyst should check first: every page the
-- parser flagged, least sure first, and where it left the most text unsplit.
create or replace view parse_review as
with source as (
    select * from article
),

flagged as (
    select
        article_id,
        source_path,
        title,
        layout,
        n_comments,
        parse_confidence,
        parse_flags,
        coalesce(length(unsplit_text), 0) as unsplit_chars
    from source
    where parse_flags is not null
),

final as (
    select * from flagged
)

select * from final
order by parse_confidence asc, unsplit_chars desc, source_path asc
;

comment on view parse_review is 'Pages the parser flagged for checking how they were split into title, body and comments, least confident first (see README, How pages are parsed). newsflow explain FILE shows the role each line of a page got.';
comment on column parse_review.article_id is 'The article (article.article_id).';
comment on column parse_review.source_path is 'Path of the page file relative to its input folder.';
comment on column parse_review.title is 'Article title; NULL when the parser found none.';
comment on column parse_review.layout is 'Comment layout the parser recognised (article.layout); unknown when it saw a comment section it could not split.';
comment on column parse_review.n_comments is 'Reader comments the parser found on the page.';
comment on column parse_review.parse_confidence is 'How sure the parser is of the split, from 0 to 1 (article.parse_confidence).';
comment on column parse_review.parse_flags is 'Why the page should be checked: comma-separated flag names (article.parse_flags).';
comment on column parse_review.unsplit_chars is 'Characters of text the parser could place neither in the article nor in a comment (article.unsplit_text); 0 when none.';
