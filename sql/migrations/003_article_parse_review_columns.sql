-- Version 3: article keeps the text the parser could not place, and records why a page's split
-- should be checked and how sure the parser was. Rows loaded before hold NULL in all three
-- until their page is parsed again. Descriptions come from sql/schema after every upgrade.
alter table article add column unsplit_text varchar;
alter table article add column parse_flags varchar;
alter table article add column parse_confidence double;
