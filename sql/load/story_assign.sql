-- Merge the stories that a new copy joined (staged_relabel), then record the new articles'
-- stories and signatures (staged_story).
update article_story
set story_id = staged_relabel.story_id
from staged_relabel
where article_story.story_id = staged_relabel.old_story_id;

insert into article_story by name
select article_id, story_id, loaded_by_run, body_md5, signed_with, minhash from staged_story;
