-- Remove every row derived from the pages in staged_page, before their new rows go in.
delete from entity_mention where article_id in (select article_id from staged_page);
delete from candidate_mention where article_id in (select article_id from staged_page);
delete from comment where article_id in (select article_id from staged_page);
delete from article where article_id in (select article_id from staged_page);
delete from page where article_id in (select article_id from staged_page);
