-- Remove every row derived from the pages in staged_page, before their new rows go in. A page
-- is found by its key, or by its source and path (its key changes when a page loaded before
-- schema version 5 is parsed again).
delete from entity_mention where article_id in (select article_id from replaced_page);
delete from article_entity where article_id in (select article_id from replaced_page);
delete from article_entity_pair where article_id in (select article_id from replaced_page);
delete from candidate_mention where article_id in (select article_id from replaced_page);
delete from comment where article_id in (select article_id from replaced_page);
delete from article where article_id in (select article_id from replaced_page);
delete from page where article_id in (select article_id from replaced_page);
