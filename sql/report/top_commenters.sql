-- The names that comment most.
with final as (
    select author, comments, articles, replies_received
    from commenter
)

select * from final
order by comments desc, author
limit ?
