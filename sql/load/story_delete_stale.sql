-- Remove the story rows and index entries of the stale articles of staged_checked, and
-- record the run that reloaded the others (same text: same signature and story).
delete from story_band
where article_id in (select article_id from staged_checked where state = 'stale');

delete from article_story
where article_id in (select article_id from staged_checked where state = 'stale');

update article_story
set loaded_by_run = staged_checked.loaded_by_run
from staged_checked
where article_story.article_id = staged_checked.article_id and staged_checked.state = 'reloaded';
