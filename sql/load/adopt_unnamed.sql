-- Pages loaded before sources had names (source ''): the first run that finds a file at the
-- same path gives them its source, so that they are neither loaded twice nor left behind.
-- staged_found holds (source, source_path) of the files found, one source per path.
update source_file set source = found.source
from staged_found as found
where
    source_file.source = ''
    and source_file.source_path = found.source_path
    and not exists (
        select 1 from source_file as named
        where named.source = found.source and named.source_path = found.source_path
    );
update article set source = found.source
from staged_found as found
where
    article.source = ''
    and article.source_path = found.source_path
    and not exists (
        select 1 from article as named
        where named.source = found.source and named.source_path = found.source_path
    );
update page set source = found.source
from staged_found as found
where
    page.source = ''
    and page.source_path = found.source_path
    and not exists (
        select 1 from page as named
        where named.source = found.source and named.source_path = found.source_path
    );
