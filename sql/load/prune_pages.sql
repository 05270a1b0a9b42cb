-- Remove every row of the pages in staged_pruned (source, source_path, article_id): their
-- files are gone. A later crawl's version of a pruned article no longer points at it, and a
-- discovered entity no mention names any more goes too.
update article set previous_article_id = null
where previous_article_id in (select article_id from staged_pruned);
delete from entity_mention where article_id in (select article_id from staged_pruned);
delete from article_entity where article_id in (select article_id from staged_pruned);
delete from article_entity_pair where article_id in (select article_id from staged_pruned);
delete from candidate_mention where article_id in (select article_id from staged_pruned);
delete from comment where article_id in (select article_id from staged_pruned);
delete from article where article_id in (select article_id from staged_pruned);
delete from page where article_id in (select article_id from staged_pruned);
delete from source_file
where (source, source_path) in (select (source, source_path) from staged_pruned);
delete from entity
where source = 'discovered' and entity_id not in (select entity_id from entity_mention);
