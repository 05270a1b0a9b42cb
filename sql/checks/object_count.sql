-- How many tables and views a database file holds: 0 for a file nothing was written into.
with objects as (
    select table_name as name from duckdb_tables() where not internal
    union all
    select view_name as name from duckdb_views() where not internal
),

final as (
    select count(*) as objects from objects
)

select * from final
