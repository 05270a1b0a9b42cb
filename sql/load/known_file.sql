-- Every file in the manifest, with the content and parser version of the page it loaded.
with manifest as (
    select source, source_path, size_bytes, modified_at, sha256 from source_file
),

loaded as (
    select source, source_path, sha256 as loaded_sha256, parser_version from article
),

final as (
    select
        source,
        source_path,
        manifest.size_bytes,
        manifest.modified_at,
        manifest.sha256,
        loaded.loaded_sha256,
        loaded.parser_version
    from manifest
    full outer join loaded using (source, source_path)
)

select * from final
