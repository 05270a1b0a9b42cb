-- Make room for the run's entities: the gazetteer's replace the last run's, and a discovered
-- entity stays while a mention still names it (pages this run did not re-read keep theirs).
delete from entity
where
    source <> 'discovered'
    or entity_id not in (select entity_id from entity_mention)
    or entity_id in (select entity_id from staged_entity)
