-- Remove the story rows and index entries of the articles in staged_stale.
delete from story_band where article_id in (select article_id from staged_stale);
delete from article_story where article_id in (select article_id from staged_stale);
