-- The keys of the stored pages the batch in staged_page replaces, for delete_replaced_rows.
create or replace temporary table replaced_page as
select article_id from page where article_id in (select article_id from staged_page)
union
select p.article_id from page p join staged_page s using (source, source_path)
