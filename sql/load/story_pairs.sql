-- The articles each newly signed article (staged_signature, its bands already in story_band)
-- is compared with: in every LSH band bucket it falls in, one article of each earlier story
-- there, and the bucket's first new article. Comparing with every member of a bucket would
-- cost the square of its size (thousands of copies of one story, or of one boilerplate
-- text); copies of copies are joined through the stories all the same. With the other's
-- story (NULL when it is newly signed too); the signatures are compared in Python
-- (flows/stories.py), read once per article rather than once per pair.
with new_band as (
    select band_key, article_id
    from story_band
    where article_id in (select article_id from staged_signature)
),

touched as (
    select story_band.band_key, story_band.article_id, article_story.story_id
    from story_band
    semi join new_band on story_band.band_key = new_band.band_key
    left join article_story on story_band.article_id = article_story.article_id
),

representative as (
    select band_key, min(article_id) as other_id
    from touched
    group by band_key, story_id
),

shared as (
    select distinct new_band.article_id, representative.other_id
    from new_band
    inner join representative on new_band.band_key = representative.band_key
    where representative.other_id <> new_band.article_id
),

final as (
    select
        shared.article_id,
        shared.other_id,
        article_story.story_id as other_story_id
    from shared
    left join article_story on shared.other_id = article_story.article_id
)

select * from final
