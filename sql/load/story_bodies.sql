-- The opening of the bodies of the articles in staged_unsigned (a story is read from the
-- first stories.MAX_WORDS words; the parameter bounds the text fetched for them).
with final as (
    select article_id, loaded_by_run, left(body, $1) as body, md5(left(body, $1)) as body_md5
    from article
    where article_id in (select article_id from staged_unsigned)
)

select * from final
order by article_id
