-- The locality-sensitive hashing index of the article signatures, kept in the warehouse so
-- that each run compares only its new articles with the ones before, never all pairs.
create table if not exists story_band (
    band_key bigint not null,
    article_id varchar not null
);

comment on table story_band is 'Locality-sensitive hashing index of article_story.minhash: one row per article and band of its signature. Articles that share a band_key are compared when grouping stories; analysts need not read it.';
comment on column story_band.band_key is 'Hash of the band number and of the signature values in that band.';
comment on column story_band.article_id is 'The article (article.article_id).';
