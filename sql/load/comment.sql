-- The batch's comments, with the text repeated_comment compares: lower case, each run of
-- characters other than letters and digits (of any script) made one space. Migration 006
-- computes it the same way for the comments loaded before; one engine for both, as DuckDB
-- and polars disagree on which of the newest Unicode characters are letters.
-- The pattern leaves alone the single spaces between words, which are most of the runs, and
-- replaces the rest: the same text as replacing every run (`[^\pL\pN]+`), in half the time.
insert into comment by name
select
    * replace (
        trim(regexp_replace(lower(body), '[^\pL\pN]{2,}|[^\pL\pN ]', ' ', 'g')) as normalised_text
    )
from staged_comment;
