-- Pages already in the warehouse, with the content and parser version they were loaded from.
with source as (
    select source_path, sha256, parser_version from article
),

final as (
    select * from source
)

select * from final
