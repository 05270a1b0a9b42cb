-- The number the next new story gets.
select coalesce(max(story_id), 0) + 1 as next_story from article_story
