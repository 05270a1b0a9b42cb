-- Pairs of a newly signed article (staged_signature, its bands already in story_band) and
-- another article that shares an LSH band with it: both signatures, and the other's story
-- (NULL when it is newly signed too).
with new_band as (
    select band_key, article_id
    from story_band
    where article_id in (select article_id from staged_signature)
),

shared as (
    select distinct new_band.article_id, story_band.article_id as other_id
    from new_band
    inner join story_band on new_band.band_key = story_band.band_key
    where story_band.article_id <> new_band.article_id
),

signature as (
    select article_id, minhash, story_id from article_story
    union all
    select article_id, minhash, null as story_id from staged_signature
),

final as (
    select
        shared.article_id,
        shared.other_id,
        mine.minhash,
        theirs.minhash as other_minhash,
        theirs.story_id as other_story_id
    from shared
    inner join signature as mine on shared.article_id = mine.article_id
    inner join signature as theirs on shared.other_id = theirs.article_id
)

select * from final
