create table if not exists entity (
    entity_id varchar primary key,
    name varchar not null,
    type varchar not null,
    wikidata_id varchar,
    source varchar not null
);

comment on table entity is 'People, organisations and places that newsflow recognises, one row per real-world thing.';
comment on column entity.entity_id is 'Stable key of the entity (a slug of its canonical name; base places end in their country code, e.g. sarmin-sy; discovered entities end in a hash of their name and type, e.g. дамаск-68ba9fa1).';
comment on column entity.name is 'Canonical name; every alias and spelling links to this one row.';
comment on column entity.type is 'PERSON, ORG (organisation, armed group, outlet) or LOC (place, region, road).';
comment on column entity.wikidata_id is 'Wikidata QID where known, for joining with outside data.';
comment on column entity.source is 'Where the entity comes from: gazetteer (reference data in the repository: the curated layer and the places built from offline registries) or discovered (a capitalised name typed by its context, e.g. the village of X, X Army, President X).';
