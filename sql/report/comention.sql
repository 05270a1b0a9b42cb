-- The pairs of entities most often named in the same article.
with final as (
    select name || ' + ' || other_name as pair, together, lift
    from entity_comention
    where scope = 'article'
)

select * from final
order by together desc, lift desc, pair
limit ?
