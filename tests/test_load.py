"""Publishing: one writer at a time, failed runs leave the published file as it was."""

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows import schema
from flows.candidate import Candidate
from flows.load import RunCounts, Writer
from flows.warehouse import WarehouseBusyError, WarehouseOpenForWritingError, WriterLock

COUNTS = RunCounts(
    files_seen=1, files_loaded=1, files_unchanged=0, files_quarantined=0, files_ignored=0
)
WHEN = datetime(2026, 11, 22, 12, 0)


def one_page() -> dict[str, pl.DataFrame]:
    return {
        "pages": pl.DataFrame(
            {
                "article_id": ["a1"],
                "source": ["crawl"],
                "source_path": ["one.txt"],
                "sha256": ["x"],
                "raw_text": ["Title\n\nBody."],
            }
        ),
        "article": pl.DataFrame(
            {
                "article_id": ["a1"],
                "source": ["crawl"],
                "source_path": ["one.txt"],
                "title": ["Title"],
                "body": ["Body."],
                "crawl_month": [None],
                "layout": ["none"],
                "n_comments": [0],
                "sha256": ["x"],
                "parser_version": ["1"],
                "unsplit_text": [None],
                "parse_flags": [None],
                "parse_confidence": [1.0],
            }
        ),
        "comment": schema.empty("comment"),
        "mention": schema.empty("entity_mention"),
    }


def publish_one(warehouse: Path, run_id: str) -> None:
    candidate = Candidate.prepare(warehouse, run_id)
    candidate.writer.write_batch(run_id, **one_page())
    candidate.writer.write_run(
        run_id,
        schema.empty("entity"),
        schema.empty("source_file"),
        schema.empty("quarantine").drop("run_id"),
    )
    candidate.publish(run_id, WHEN, WHEN, COUNTS, "passed", "test")


def test_publish_swaps_in_a_complete_warehouse(warehouse: Path):
    publish_one(warehouse, "r1")
    publish_one(warehouse, "r2")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from article").fetchone() == (1,)
        assert con.execute("select run_id from ingest_run order by 1").fetchall() == [
            ("r1",),
            ("r2",),
        ]
    assert [p.name for p in warehouse.parent.iterdir()] == ["news.duckdb"]


def test_a_discarded_candidate_leaves_the_published_file_untouched(warehouse: Path):
    publish_one(warehouse, "r1")
    before = warehouse.read_bytes()

    candidate = Candidate.prepare(warehouse, "r2")
    candidate.writer.write_batch("r2", **one_page())
    candidate.discard()

    assert warehouse.read_bytes() == before
    assert not candidate.path.exists()


def test_leftovers_of_a_dead_run_are_removed_by_the_next(warehouse: Path):
    publish_one(warehouse, "r1")
    leftover = warehouse.with_name(".news.duckdb.r0.building")
    leftover.write_bytes(b"half-written")

    publish_one(warehouse, "r2")

    assert not leftover.exists()


def _broken_rules(candidate: Candidate, *statements: str) -> list[dict]:
    """Break the candidate with `statements`, from outside the run's writer as a bug would,
    then discard it; return the warehouse rules that caught something."""
    # The run's writer holds the file: close it first.
    candidate.writer.close()
    with duckdb.connect(str(candidate.path)) as con:
        for statement in statements:
            con.execute(statement)
    writer = Writer.open(candidate.path)
    checks = writer.run_checks()
    writer.close()
    candidate.discard()
    broken = checks.filter(pl.col("unexpected_count") > 0)
    return broken.select("expectation", "column_name", "unexpected_count", "examples").to_dicts()


def test_the_warehouse_checks_find_orphan_rows_with_examples(warehouse: Path):
    candidate = Candidate.prepare(warehouse, "r1")
    page = one_page()
    orphan = pl.DataFrame(
        {
            "comment_id": ["c1"],
            "article_id": ["a1"],
            "position": [1],
            "author": [None],
            "depth": [0],
            "parent_comment_id": [None],
            "body": ["Hi."],
            "dq_flags": [None],
        }
    )
    candidate.writer.write_batch("r1", **{**page, "comment": orphan})

    broken = _broken_rules(candidate, "delete from article")

    assert broken == [
        {
            "expectation": "relationship",
            "column_name": "comment.article_id",
            "unexpected_count": 1,
            "examples": ["c1"],
        }
    ]
    assert not warehouse.exists()


def test_a_warehouse_broken_in_millions_of_rows_is_reported_within_the_writer_s_memory(
    warehouse: Path,
):
    # A bug that orphans every mention: the rules must report it as broken (count, five
    # examples), not run out of the writer's memory listing three million keys.
    candidate = Candidate.prepare(warehouse, "r1")
    candidate.writer.write_batch("r1", **one_page())

    broken = _broken_rules(
        candidate,
        "insert into entity_mention select 'orphan-' || i || repeat('x', 60), 'nobody', 'a1', "
        "null, 'body', 0, 1, 'x', 'gazetteer' from range(3000000) as t(i)",
    )

    assert [(rule["column_name"], rule["unexpected_count"]) for rule in broken] == [
        ("entity_mention.entity_id", 3_000_000)
    ]
    (examples,) = [rule["examples"] for rule in broken]
    assert len(examples) == 5 and all(key.startswith("orphan-") for key in examples)


def test_a_second_writer_is_turned_away_with_a_clear_message(warehouse: Path):
    with (
        WriterLock(warehouse),
        pytest.raises(WarehouseBusyError, match="another newsflow run"),
        WriterLock(warehouse),
    ):
        pass
    with WriterLock(warehouse):  # released: the next run gets it
        pass


def test_a_write_ahead_log_beside_the_published_file_stops_the_run(warehouse: Path):
    # A program that writes into the published file leaves its changes in news.duckdb.wal
    # until it checkpoints: copying the file alone would drop them.
    publish_one(warehouse, "r1")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("pragma disable_checkpoint_on_shutdown")
        con.execute(
            "insert into quarantine values ('x', 'y.txt', 'empty', 'hand-made', 0, null, 'crawl')"
        )
    assert warehouse.with_name("news.duckdb.wal").exists()
    published = warehouse.read_bytes()

    with pytest.raises(WarehouseOpenForWritingError, match=r"news\.duckdb\.wal exists"):
        Candidate.prepare(warehouse, "r2")

    assert warehouse.read_bytes() == published
    assert list(warehouse.parent.glob(".*.building*")) == []


def page_with_comments(body: str, comments: list[str], mentions: list[tuple]) -> dict:
    """one_page() with `body`, the comments c1, c2, ... and `mentions`, (entity_id, comment_id
    or None, char_start) each, the field and the rest of a mention derived from them."""
    page = one_page()
    page["article"] = page["article"].with_columns(body=pl.lit(body), n_comments=len(comments))
    page["comment"] = pl.DataFrame(
        {
            "comment_id": [f"c{n}" for n in range(1, len(comments) + 1)],
            "article_id": "a1",
            "position": list(range(1, len(comments) + 1)),
            "author": None,
            "depth": 0,
            "parent_comment_id": None,
            "body": comments,
            "dq_flags": None,
        },
        schema_overrides={"author": pl.String(), "parent_comment_id": pl.String()},
    )
    page["mention"] = pl.DataFrame(
        [
            (
                f"a1/{comment or 'body'}/{start}",
                entity,
                "a1",
                comment,
                "comment" if comment else "body",
                start,
                start + 1,
                "x",
                "gazetteer",
            )
            for entity, comment, start in mentions
        ],
        schema=schema.polars_schema("entity_mention"),
        orient="row",
    )
    return page


def counts_of(candidate: Candidate) -> dict[str, list[tuple]]:
    """What the load computed for the marts (comment columns, article_entity, the pairs), read
    from the candidate's file once its writer is closed."""
    candidate.writer.close()
    queries = {
        "comment": "select comment_id, normalised_text, entities_named from comment",
        "article_entity": "select * from article_entity",
        "article_entity_pair": "select * from article_entity_pair",
    }
    with duckdb.connect(str(candidate.path), read_only=True) as con:
        return {
            name: con.execute(f"{query} order by all").fetchall() for name, query in queries.items()
        }


def test_a_load_counts_the_mentions_of_each_page_for_the_marts(warehouse: Path):
    page = page_with_comments(
        "Aleppo and Idlib, then Aleppo again.",
        ["Idlib AND Aleppo -- again?!", "Just Idlib.", "No names here."],
        [
            ("aleppo", None, 0),
            ("idlib", None, 11),
            ("aleppo", None, 23),
            ("idlib", "c1", 0),
            ("aleppo", "c1", 10),
            ("idlib", "c2", 5),
        ],
    )
    candidate = Candidate.prepare(warehouse, "r1")
    candidate.writer.write_batch("r1", **page)

    assert counts_of(candidate) == {
        "comment": [
            ("c1", "idlib and aleppo again", 2),
            ("c2", "just idlib", 1),
            ("c3", "no names here", 0),
        ],
        # article_id, entity_id, article_mentions, comment_mentions, comments
        "article_entity": [("a1", "aleppo", 2, 1, 1), ("a1", "idlib", 1, 2, 2)],
        # article_id, scope, entity_id, other_entity_id, together
        "article_entity_pair": [
            ("a1", "article", "aleppo", "idlib", 1),
            ("a1", "comment", "aleppo", "idlib", 1),
        ],
    }
    candidate.discard()


def test_a_page_loaded_again_replaces_its_counts_and_a_pruned_one_takes_them_along(
    warehouse: Path,
):
    candidate = Candidate.prepare(warehouse, "r1")
    first = page_with_comments(
        "Aleppo and Idlib.", ["Aleppo, Idlib."], [("aleppo", None, 0), ("idlib", "c1", 8)]
    )
    candidate.writer.write_batch("r1", **first)
    # Parsed again (a reparse, or an edited file): the page now names Homs only.
    again = page_with_comments("Homs.", ["Homs!", "Homs?"], [("homs", "c2", 0)])
    candidate.writer.write_batch("r2", **again)

    assert counts_of(candidate) == {
        "comment": [("c1", "homs", 0), ("c2", "homs", 1)],
        "article_entity": [("a1", "homs", 0, 1, 1)],
        "article_entity_pair": [],
    }

    reopened = Candidate(candidate.file, Writer.open(candidate.path))
    reopened.writer.prune(again["pages"])

    assert counts_of(reopened) == {"comment": [], "article_entity": [], "article_entity_pair": []}
    reopened.discard()


def test_a_comment_in_any_script_is_compared_by_its_letters_and_digits(warehouse: Path):
    # Readers write in Russian, Arabic and accented Latin as much as in English: a text of
    # those letters must not normalise to nothing (or to its ASCII letters alone).
    page = page_with_comments(
        "Body.",
        ["Привет, МИР!!", "مرحبا، يا عالم", "Café -- au LAIT", "Idlib2 and 3Idlib...", "?!"],
        [],
    )
    candidate = Candidate.prepare(warehouse, "r1")
    candidate.writer.write_batch("r1", **page)

    assert counts_of(candidate)["comment"] == [
        ("c1", "привет мир", 0),
        ("c2", "مرحبا يا عالم", 0),
        ("c3", "café au lait", 0),
        ("c4", "idlib2 and 3idlib", 0),
        ("c5", "", 0),
    ]
    candidate.discard()


def test_a_comment_s_normalised_text_is_every_run_of_other_characters_made_one_space(
    warehouse: Path,
):
    # The load's pattern skips the single spaces between words: it must still give the text
    # of the column's definition, which replaces every run.
    bodies = [
        " a  b\tc\n\nd ",
        "x.y,z - w",
        "\u00a0Caf\u00e9\u2019s\u2003menu\u2026 ",
        "one\ttwo\n three",
        "...",
        " ",
        "a ! b",
        "2 + 2 = 4",
    ]
    candidate = Candidate.prepare(warehouse, "r1")
    candidate.writer.write_batch("r1", **page_with_comments("Body.", bodies, []))
    loaded = [text for _, text, _ in counts_of(candidate)["comment"]]
    candidate.discard()

    defined = duckdb.execute(
        r"select trim(regexp_replace(lower(body), '[^\pL\pN]+', ' ', 'g')) "
        "from unnest($bodies) as t(body)",
        {"bodies": bodies},
    ).fetchall()
    assert loaded == [text for (text,) in defined]
    assert loaded[:2] == ["a b c d", "x y z w"]


def test_the_writer_s_memory_is_bounded_whatever_the_crawl(tmp_path: Path):
    # DuckDB's default limit (80 % of the machine's memory) let its buffer pool keep every
    # block a run wrote: the run's memory grew with the crawl.
    writer = Writer.open(tmp_path / "news.duckdb")
    limit = writer._con.execute("select current_setting('memory_limit')").fetchone()
    writer.close()

    assert limit == ("244.1 MiB",)


def test_the_warehouse_checks_find_repeated_keys_the_tables_do_not_index(warehouse: Path):
    candidate = Candidate.prepare(warehouse, "r1")
    candidate.writer.write_batch("r1", **one_page())

    # A bug that loaded a page twice: no primary-key index stops it (sql/migrations/007).
    broken = _broken_rules(
        candidate,
        "insert into page select * from page",
        "insert into article select * from article",
    )

    assert broken == [
        {
            "expectation": "unique",
            "column_name": "article.article_id",
            "unexpected_count": 1,
            "examples": ["a1"],
        },
        {
            "expectation": "unique",
            "column_name": "page.article_id",
            "unexpected_count": 1,
            "examples": ["a1"],
        },
    ]


def _entities(*rows: tuple[str, str]) -> pl.DataFrame:
    """entity rows of (entity_id, source)."""
    return pl.DataFrame(
        [(entity_id, entity_id.title(), "PER", None, source) for entity_id, source in rows],
        schema=schema.polars_schema("entity"),
        orient="row",
    )


def test_a_discovered_entity_stays_while_a_mention_names_it(warehouse: Path):
    candidate = Candidate.prepare(warehouse, "r1")
    writer = candidate.writer
    mention = pl.DataFrame(
        [("m1", "named", "a1", None, "body", 0, 4, "Body", "discovery")],
        schema=schema.polars_schema("entity_mention"),
        orient="row",
    )
    writer.write_batch("r1", **{**one_page(), "mention": mention})
    no_files = (schema.empty("source_file"), schema.empty("quarantine").drop("run_id"))
    found = _entities(("named", "discovered"), ("unnamed", "discovered"), ("old", "gazetteer"))
    writer.write_run("r1", found, *no_files)

    # The next run's gazetteer, and no page read again.
    writer.write_run("r2", _entities(("new", "gazetteer")), *no_files)

    kept = writer._con.sql("select entity_id, source from entity order by 1").fetchall()
    candidate.discard()
    assert kept == [("named", "discovered"), ("new", "gazetteer")]
