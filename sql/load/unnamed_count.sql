-- How many files were loaded before sources had names and have not been found since.
with final as (
    select count(*) as unnamed from source_file where source = ''
)

select * from final
