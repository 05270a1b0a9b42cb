"""Schema versions: a warehouse of an older newsflow is migrated in place, keeping its rows."""

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from flows import schema, upgrade
from flows.candidate import Candidate
from flows.load import RunCounts

WHEN = datetime(2026, 11, 22, 12, 0)
COUNTS = RunCounts(
    files_seen=0, files_loaded=0, files_unchanged=0, files_quarantined=0, files_ignored=0
)
# How a table looks to a BI tool: every column's position, type, constraints and description.
LAYOUT = """
    select table_name, column_index, column_name, data_type, is_nullable, column_default, comment
    from duckdb_columns()
    where database_name = current_database() and not internal
    order by table_name, column_index
"""


# Tables newsflow 0.1.0 did not have.
NEW_TABLES = (
    "schema_version",
    "dq_result",
    "candidate_mention",
    "article_story",
    "story_band",
    "article_entity",
    "article_entity_pair",
)


def rows_of_every_table(path: Path) -> dict[str, list[tuple]]:
    """Every row of the tables newsflow 0.1.0 had."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: con.execute(f"select * from {table} order by all").fetchall()
            for table in schema.TABLES
            if table not in NEW_TABLES
        }


def test_migrations_are_numbered_from_one_without_gaps():
    numbers = [number for number, _ in upgrade.migrations()]

    assert numbers == list(range(1, upgrade.latest_version() + 1))
    assert upgrade.latest_version() >= 1


def test_an_old_warehouse_is_upgraded_in_place_without_losing_rows(v0_warehouse: Path):
    old = v0_warehouse
    before = rows_of_every_table(old)
    assert all(before.values())

    candidate = Candidate.prepare(old, "r1")
    candidate.publish("r1", WHEN, WHEN, COUNTS, "passed", "test")

    after = rows_of_every_table(old)
    old_run, new_run = after.pop("ingest_run")
    # Articles parsed before version 3 have no unsplit text, flags or confidence recorded;
    # pages loaded before version 5 have the empty source and no earlier version.
    (old_article,) = after.pop("article")
    assert old_article == (*before["article"][0], None, None, None, "", None)
    # Comments loaded before version 4 were never marked by the comment-level rules; version 6
    # computes for them what a load computes for the marts.
    (old_comment,) = after.pop("comment")
    assert old_comment == (*before["comment"][0], None, "a comment", 0)
    for table in ("page", "quarantine", "source_file"):
        assert after.pop(table) == [(*row, "") for row in before[table]]
    unchanged = ("ingest_run", "article", "comment", "page", "quarantine", "source_file")
    assert after == {table: rows for table, rows in before.items() if table not in unchanged}
    # The run of 0.1.0 keeps its values, with kind and files_missing filled in after them.
    assert old_run == (*before["ingest_run"][0], "ingest", 0)
    assert new_run[0] == "r1"
    with duckdb.connect(str(old), read_only=True) as con:
        versions = con.execute("select version, name from schema_version order by 1").fetchall()
    assert versions == upgrade.migrations()


def test_an_upgrade_counts_the_mentions_loaded_before_as_a_load_does(v0_warehouse: Path):
    with duckdb.connect(str(v0_warehouse)) as con:
        con.execute(
            """
            insert into comment values ('c2', 'a1', 2, null, 0, null, 'Idlib -- and ALEPPO?');
            insert into comment values ('c3', 'a1', 3, null, 0, null, 'Привет, МИР!! Café.');
            insert into entity values ('idlib', 'Idlib', 'LOC', null, 'gazetteer');
            insert into entity_mention values
                ('m2', 'idlib', 'a1', null, 'title', 0, 5, 'Idlib', 'gazetteer'),
                ('m3', 'idlib', 'a1', 'c2', 'comment', 0, 5, 'Idlib', 'gazetteer'),
                ('m4', 'aleppo', 'a1', 'c2', 'comment', 13, 19, 'ALEPPO', 'gazetteer');
            """
        )

    Candidate.prepare(v0_warehouse, "r1").publish("r1", WHEN, WHEN, COUNTS, "passed", "test")

    with duckdb.connect(str(v0_warehouse), read_only=True) as con:
        comments = con.execute(
            "select comment_id, normalised_text, entities_named from comment order by 1"
        ).fetchall()
        counts = con.execute("select * from article_entity order by all").fetchall()
        pairs = con.execute("select * from article_entity_pair order by all").fetchall()
    # As a load normalises them (test_load): letters and digits of any script kept.
    assert comments == [
        ("c1", "a comment", 0),
        ("c2", "idlib and aleppo", 2),
        ("c3", "привет мир café", 0),
    ]
    # article_id, entity_id, article_mentions, comment_mentions, comments
    assert counts == [("a1", "aleppo", 1, 1, 1), ("a1", "idlib", 1, 1, 1)]
    # article_id, scope, entity_id, other_entity_id, together
    assert pairs == [
        ("a1", "article", "aleppo", "idlib", 1),
        ("a1", "comment", "aleppo", "idlib", 1),
    ]


def test_an_upgraded_warehouse_has_the_layout_of_a_new_one(v0_warehouse: Path, tmp_path: Path):
    old, new = v0_warehouse, tmp_path / "new" / "news.duckdb"

    Candidate.prepare(old, "r1").publish("r1", WHEN, WHEN, COUNTS, "passed", "test")
    Candidate.prepare(new, "r1").publish("r1", WHEN, WHEN, COUNTS, "passed", "test")

    with duckdb.connect(str(old), read_only=True) as con:
        upgraded = con.execute(LAYOUT).fetchall()
    with duckdb.connect(str(new), read_only=True) as con:
        created = con.execute(LAYOUT).fetchall()
        versions = con.execute("select version, name from schema_version").fetchall()
    assert upgraded == created
    assert versions == [(upgrade.latest_version(), "created")]


def test_a_warehouse_from_a_newer_newsflow_is_refused_untouched(tmp_path: Path):
    newer = tmp_path / "news.duckdb"
    Candidate.prepare(newer, "r1").publish("r1", WHEN, WHEN, COUNTS, "passed", "test")
    with duckdb.connect(str(newer)) as con:
        con.execute("insert into schema_version values (999, 'from_the_future', now(), '9.9')")
    published = newer.read_bytes()

    with pytest.raises(upgrade.SchemaVersionError, match="schema version 999, newer than"):
        Candidate.prepare(newer, "r2")

    assert newer.read_bytes() == published
    assert [path.name for path in tmp_path.iterdir()] == ["news.duckdb"]
