-- How many of the batch's pages have rows loaded before: only then are rows deleted first.
select count(*) as replaced from replaced_page;
