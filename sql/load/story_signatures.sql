-- The signatures of the articles of staged_other (the others of a chunk's candidate pairs)
-- that were signed before: in earlier chunks or runs.
with source as (
    select article_id, minhash from article_story
),

final as (
    select source.article_id, source.minhash
    from source
    semi join staged_other on source.article_id = staged_other.other_id
)

select * from final
