-- The signatures of the articles of staged_other (the others of a chunk's candidate pairs)
-- that were signed before: in earlier chunks or runs.
select article_id, minhash
from article_story
where article_id in (select other_id from staged_other)
