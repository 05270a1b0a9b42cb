-- The comment texts posted under the most stories and names.
with final as (
    select
        example_text,
        occurrences,
        stories,
        names,
        coalesce(name_list, '') as name_list
    from repeated_comment
)

select * from final
order by stories desc, names desc, occurrences desc, example_text
limit ?
