-- Names the entity stage found capitalised in mid-sentence but could not type or link: how
-- often, where, and one place they occur, so that analysts can promote them to the gazetteer.
create or replace view entity_candidate as
with candidate as (
    select * from candidate_mention
),

located as (
    select
        candidate.name,
        candidate.article_id,
        candidate.field,
        candidate.char_start,
        candidate.char_end,
        case candidate.field
            when 'title' then article.title
            when 'body' then article.body
            else comment.body
        end as text
    from candidate
    inner join article on candidate.article_id = article.article_id
    left join comment on candidate.comment_id = comment.comment_id
),

final as (
    select
        name,
        count(*) as mentions,
        count(distinct article_id) as articles,
        count(*) filter (where field = 'comment') as comment_mentions,
        arg_min(
            substring(text, greatest(char_start - 59, 1), char_end - char_start + 120),
            article_id || '/' || lpad(char_start::varchar, 9, '0')
        ) as example
    from located
    group by name
)

select * from final
;

comment on view entity_candidate is 'Capitalised names that match no entity and have no clear type, with how often they occur: candidates to add to the gazetteer (see README).';
comment on column entity_candidate.name is 'The name as written.';
comment on column entity_candidate.mentions is 'How many times it occurs.';
comment on column entity_candidate.articles is 'In how many articles (title, body or comments).';
comment on column entity_candidate.comment_mentions is 'How many of the occurrences are in comments.';
comment on column entity_candidate.example is 'Some 60 characters either side of one occurrence, to judge what the name is.';
