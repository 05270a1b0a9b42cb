"""End to end: `reparse` rebuilds every batch of stored pages with the current parser and
gazetteer, and keeps the rows of a page it now makes nothing of."""

import shutil
from pathlib import Path

import duckdb
import pytest

from flows import entities, parse
from flows.ingest import ingest
from flows.reparse import reparse

pytestmark = pytest.mark.usefixtures("prefect_server")

PAGES = 5
BATCH = 2  # three batches: 2, 2 and 1 pages
UNPARSABLE = "p3.txt"
# A place the shipped gazetteer does not know; the new gazetteer adds it.
NEW_PLACE = "zorvania,Zorvania,LOC,,,Zorvania\n"


def page(number: int) -> str:
    return (
        f"Ferry Fares Rise in Port {number}\n\n"
        "The ferry to Zorvania costs more from May, the council said on Friday.\n\n"
        "Passengers queued at the pier for an hour before the first boat left.\n"
    )


def query(warehouse: Path, statement: str, *parameters: object) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(statement, list(parameters)).fetchall()


def edit(warehouse: Path, *statements: str) -> None:
    """Change the published file as if an earlier parser had made other rows."""
    with duckdb.connect(str(warehouse)) as con:
        for statement in statements:
            con.execute(statement)
        con.execute("checkpoint")


@pytest.fixture
def loaded(tmp_path: Path, warehouse: Path) -> Path:
    """A warehouse of five pages, loaded in batches of two, the input files gone."""
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    for number in range(1, PAGES + 1):
        (crawl / f"p{number}.txt").write_text(page(number), encoding="utf-8")
    first = ingest(inputs=[str(crawl)], warehouse=str(warehouse), batch_size=BATCH)
    assert first.files_loaded == PAGES
    shutil.rmtree(crawl)
    return warehouse


def test_reparse_replaces_the_rows_of_every_batch_and_keeps_a_page_it_cannot_read(
    loaded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    assert query(loaded, "select count(*) from entity_mention where entity_id = 'zorvania'") == [
        (0,)
    ]
    # Rows an older parser made: every title differs from what the parser reads now, and
    # the stored text of p3 is one the parser now finds nothing in.
    edit(
        loaded,
        "update article set title = 'Old title'",
        f"update page set raw_text = 'Notify of\nView all comments\n' "
        f"where source_path = '{UNPARSABLE}'",
    )
    kept = "select * from article where source_path = ? order by all"
    p3_before = query(loaded, kept, UNPARSABLE)
    gazetteer = tmp_path / "gazetteer.csv"
    gazetteer.write_text(entities.GAZETTEER.read_text(encoding="utf-8") + NEW_PLACE)
    load_gazetteer = entities.load_gazetteer
    monkeypatch.setattr(entities, "load_gazetteer", lambda: load_gazetteer(gazetteer))
    monkeypatch.setattr(parse, "PARSER_VERSION", "next")

    summary = reparse(warehouse=str(loaded), batch_size=BATCH)

    assert (summary.pages_reparsed, summary.files_quarantined) == (PAGES - 1, 1)
    reparsed = [f"p{n}.txt" for n in range(1, PAGES + 1) if f"p{n}.txt" != UNPARSABLE]
    assert query(
        loaded,
        "select source_path, title, parser_version from article where source_path <> ? order by 1",
        UNPARSABLE,
    ) == [(path, f"Ferry Fares Rise in Port {path[1]}", "next") for path in reparsed]
    assert query(
        loaded,
        "select a.source_path, m.surface from entity_mention m join article a using (article_id) "
        "where m.entity_id = 'zorvania' order by 1",
    ) == [(path, "Zorvania") for path in reparsed]
    # The page the parser now makes nothing of keeps its rows, and says why.
    assert query(loaded, kept, UNPARSABLE) == p3_before
    assert query(
        loaded,
        "select source_path, reason, message from quarantine where run_id = ?",
        summary.run_id,
    ) == [
        (
            UNPARSABLE,
            "no_text",
            "Parser version next finds no article or comment text in the stored page, only a "
            "header or site chrome; the rows an earlier parser made of it are kept.",
        )
    ]
