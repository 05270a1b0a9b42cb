-- One slice of the stored pages, in a stable order, as the parser takes them.
with source as (
    select article_id, source, source_path, sha256, raw_text from page
),

final as (
    select source, source_path, sha256, raw_text as text from source
    order by article_id
    limit ? offset ?
)

select * from final
