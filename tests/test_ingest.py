"""End to end: the real `ingest` flow on the sample pages, into a temporary warehouse."""

import subprocess
from pathlib import Path

import duckdb
import pytest

from flows import quality
from flows.ingest import ingest
from flows.quality import DataQualityError

pytestmark = pytest.mark.usefixtures("prefect_server")

DUCKDB_15_SHELL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "duckdb"


def query(warehouse: Path, statement: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(statement).fetchall()


def test_prefect_runs_a_tiny_flow():
    # FastAPI releases have broken Prefect's server before (see ENVIRONMENT.md): fail here
    # first, plainly, when a dependency update does it again.
    from prefect import flow, task

    @task
    def double(number: int) -> int:
        return 2 * number

    @flow
    def tiny() -> int:
        return double(21)

    assert tiny() == 42


def test_sample_pages_load_with_the_expected_figures(sample_pages: Path, warehouse: Path):
    summary = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (summary.files_seen, summary.files_loaded, summary.files_quarantined) == (2, 2, 0)
    assert (summary.articles, summary.comments) == (2, 44)
    articles = dict(query(warehouse, "select source_path, title from article"))
    assert articles["000_555b52a31fc83634.txt"].startswith("Turkish Troops Fail To Secure M4")
    per_page = query(
        warehouse,
        """
        select a.source_path, count(*), count(*) filter (where c.author is null),
            count(*) filter (where c.author = 'Tim Williams'),
            count(*) filter (where c.author = 'Xoli Xoli')
        from comment c join article a using (article_id)
        group by all order by 1
        """,
    )
    assert per_page == [
        ("000_555b52a31fc83634.txt", 30, 7, 7, 2),
        ("002_d9744a95c5038ee5.txt", 14, 4, 0, 7),
    ]
    assert summary.mentions > 0
    assert summary.mentions == query(warehouse, "select count(*) from entity_mention")[0][0]
    erdogan = query(
        warehouse,
        """
        select count(distinct m.surface), count(distinct m.entity_id)
        from entity_mention m join entity e using (entity_id)
        where e.name like 'Recep Tayyip Erdo%'
        """,
    )
    assert erdogan == [(2, 1)]  # "Erdogan" and "Erdogon", one entity


def test_mention_offsets_slice_back_to_the_surface(sample_pages: Path, warehouse: Path):
    ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    mismatches = query(
        warehouse,
        """
        with texts as (
            select article_id, null as comment_id, 'title' as field, title as text from article
            union all select article_id, null, 'body', body from article
            union all select article_id, comment_id, 'comment', body from comment
        )
        select count(*) from entity_mention m join texts t
            on m.article_id = t.article_id and m.field = t.field
            and m.comment_id is not distinct from t.comment_id
        where substring(t.text, m.char_start + 1, m.char_end - m.char_start) <> m.surface
        """,
    )
    assert mismatches == [(0,)]


def test_a_second_run_adds_no_rows_and_one_run_record(sample_pages: Path, warehouse: Path):
    first = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    second = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (second.articles, second.comments, second.entities, second.mentions) == (
        first.articles,
        first.comments,
        first.entities,
        first.mentions,
    )
    assert (second.files_loaded, second.files_unchanged) == (0, 2)
    assert query(warehouse, "select count(*) from ingest_run") == [(2,)]


def test_bad_files_are_quarantined_and_good_ones_still_load(sample_pages: Path, warehouse: Path):
    (sample_pages / "empty.txt").write_bytes(b"")
    (sample_pages / "nested").mkdir()
    (sample_pages / "nested" / "image.txt").write_bytes(b"\x89PNG\x00\x00\x00\x0d" * 50)
    (sample_pages / "notes.md").write_text("not a page")

    summary = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert summary.files_loaded == 2
    assert summary.quarantine_reasons == {"empty": 1, "binary": 1}
    assert summary.files_ignored == 1
    assert summary.files_seen == 5
    accounted = (
        summary.files_loaded
        + summary.files_unchanged
        + summary.files_quarantined
        + summary.files_ignored
    )
    assert accounted == summary.files_seen
    reasons = query(warehouse, "select source_path, reason from quarantine order by 1")
    assert reasons == [("empty.txt", "empty"), ("nested/image.txt", "binary")]


def test_a_failed_gate_publishes_nothing(
    sample_pages: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    published = warehouse.read_bytes()
    (sample_pages / "003_new.txt").write_text("A New Title\n\nA new body paragraph.\n")
    # A rule no real layout passes: the gate must stop the run before anything is published.
    monkeypatch.setattr(quality, "LAYOUTS", ())

    with pytest.raises(DataQualityError, match="expect_column_values_to_be_in_set"):
        ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert warehouse.read_bytes() == published
    assert list(warehouse.parent.glob(".*.building")) == []


def test_the_warehouse_opens_in_the_duckdb_15_shell(sample_pages: Path, warehouse: Path):
    ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    shell = subprocess.run(
        [
            str(DUCKDB_15_SHELL),
            "-readonly",
            "-csv",
            str(warehouse),
            "-c",
            "select count(*) from comment",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split() == ["count_star()", "44"]
