-- Version 4: a comment that breaks a comment-level data-quality rule is kept and marked,
-- instead of taking its whole page out of the batch. Rows loaded before hold NULL.
alter table comment add column dq_flags varchar;
