"""End to end: `reparse` rebuilds every batch of stored pages with the current parser and
gazetteer, and keeps the rows of a page it now makes nothing of."""

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows import entities, parse
from flows.batches import LoadedBatch
from flows.ingest import ingest
from flows.reparse import StoredSource, reparse
from flows.settings import Settings
from flows.summary import RunSummary

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


@pytest.mark.usefixtures("prefect_server")
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
    # Parsed in this process, where the patched version applies: with several batches and
    # workers, the next batch is parsed ahead in worker processes, which import their own.
    monkeypatch.setenv("NEWSFLOW_PARSE_WORKERS", "1")

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


# The quarantine table's columns but run_id, which the publish adds.
QUARANTINE = {
    "source_path": pl.String,
    "reason": pl.String,
    "message": pl.String,
    "size_bytes": pl.Int64,
    "sha256": pl.String,
    "source": pl.String,
}
NO_TEXT = (
    "Parser version next finds no article or comment text in the stored page, only a header "
    "or site chrome; the rows an earlier parser made of it are kept."
)
TIMED_OUT = (
    "Parsing this page took longer than its time budget (NEWSFLOW_PARSE_TIMEOUT) and was "
    "stopped; rows of a version loaded before are kept. Check the file (`newsflow explain` "
    "shows how it splits) and report it if it is a real page."
)


@dataclass
class StoredPages:
    """A writer's stored pages as `StoredSource` reads them, and the slices it asked for."""

    paths: list[str]
    slices: list[tuple[int, int]] = field(default_factory=list)

    def count_stored_pages(self) -> int:
        return len(self.paths)

    def stored_pages(self, offset: int, limit: int) -> pl.DataFrame:
        self.slices.append((offset, limit))
        paths = self.paths[offset : offset + limit]
        return pl.DataFrame(
            {"source_path": paths, "sha256": [f"h-{p}" for p in paths], "text": ["T"] * len(paths)}
        )


def stored_source(batch_size: int) -> tuple[StoredSource, RunSummary]:
    settings = Settings(warehouse=Path("w/news.duckdb"), batch_size=batch_size)
    return StoredSource(settings), RunSummary(run_id="r1", warehouse=settings.warehouse)


def set_aside(*rows: tuple[str, str, str, str]) -> LoadedBatch:
    """A batch of which the parser set aside `rows` (source, source_path, sha256, reason)."""
    unparsable = pl.DataFrame(
        rows, schema=["source", "source_path", "sha256", "reason"], orient="row"
    )
    failed = pl.DataFrame(schema=QUARANTINE)
    return LoadedBatch(loaded=3, unparsable=unparsable, failed=failed, discovered=pl.DataFrame())


def test_stored_pages_are_read_in_batches_named_after_the_run():
    source, summary = stored_source(batch_size=2)
    writer = StoredPages(["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"])

    assert source.count(writer, summary) == 5
    batches = list(source.batches(writer, summary))

    assert [(b.name, b.size, b.pages["source_path"].to_list()) for b in batches] == [
        ("r1-batch00001", 2, ["a.txt", "b.txt"]),
        ("r1-batch00002", 2, ["c.txt", "d.txt"]),
        ("r1-batch00003", 1, ["e.txt"]),
    ]
    assert writer.slices == [(0, 2), (2, 2), (4, 2)]
    assert list(summary.stage_seconds) == ["read"]


def test_a_reparse_of_no_stored_pages_quarantines_nothing():
    source, summary = stored_source(batch_size=2)

    assert list(source.batches(StoredPages([]), summary)) == []
    manifest, quarantine = source.finish(summary)

    assert manifest is None
    assert_frame_equal(quarantine, pl.DataFrame(schema=QUARANTINE))


def test_pages_set_aside_keep_their_rows_and_are_quarantined_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(parse, "PARSER_VERSION", "next")
    source, summary = stored_source(batch_size=2)

    source.record(None, set_aside(("crawl", "a.txt", "h-a", "no_text")), summary)
    source.record(None, set_aside(("crawl", "b.txt", "h-b", "parse_timeout")), summary)
    manifest, quarantine = source.finish(summary)

    assert summary.pages_reparsed == 6
    assert manifest is None
    expected = pl.DataFrame(
        [
            ("a.txt", "no_text", NO_TEXT, None, "h-a", "crawl"),
            ("b.txt", "parse_timeout", TIMED_OUT, None, "h-b", "crawl"),
        ],
        schema=QUARANTINE,
        orient="row",
    )
    assert_frame_equal(quarantine, expected)
