"""End to end: the real `ingest` flow on the sample pages, into a temporary warehouse."""

import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from flows import entities, quality
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


def test_a_page_breaking_a_row_rule_is_quarantined_and_the_rest_loads(
    sample_pages: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    (sample_pages / "003_new.txt").write_text("A New Title\n\nA new body paragraph.\n")
    # Only the new page has no comment section (layout "none"): make that layout unknown.
    monkeypatch.setattr(quality, "LAYOUTS", ("wpdiscuz",))

    summary = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (summary.files_loaded, summary.files_quarantined) == (2, 1)
    assert summary.dq_result == "pages_quarantined"
    assert summary.quarantine_reasons == {"dq:expect_column_values_to_be_in_set": 1}
    quarantined = query(warehouse, "select source_path, message from quarantine")
    assert [path for path, _ in quarantined] == ["003_new.txt"]
    assert "article.layout: expect_column_values_to_be_in_set" in quarantined[0][1]
    assert query(warehouse, "select count(*) from article") == [(2,)]
    assert query(warehouse, "select status from source_file where source_path = '003_new.txt'") == [
        ("quarantined",)
    ]
    layout_rule = query(
        warehouse,
        """
        select success, severity, policy, unexpected_count, pages_quarantined
        from dq_result where suite = 'article' and column_name = 'layout'
        """,
    )
    assert layout_rule == [(False, "critical", "page", 1, 1)]


def test_a_batch_level_failure_publishes_nothing_and_names_the_rule(
    sample_pages: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    published = warehouse.read_bytes()
    (sample_pages / "003_new.txt").write_text("A New Title\n\nA new body paragraph.\n")
    # A gazetteer with one row twice: duplicate entity keys break the batch as a whole.
    reference = entities.GAZETTEER.read_text(encoding="utf-8").splitlines()
    doubled = tmp_path / "gazetteer.csv"
    doubled.write_text("\n".join([*reference, reference[1]]) + "\n", encoding="utf-8")
    real_load = entities.load_gazetteer
    monkeypatch.setattr(entities, "load_gazetteer", lambda: real_load(doubled))

    with pytest.raises(DataQualityError) as failure:
        ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    message = str(failure.value)
    assert "entity.entity_id: expect_column_values_to_be_unique failed for 2 rows" in message
    assert reference[1].split(",")[0] in message  # the example rows name the key
    assert warehouse.read_bytes() == published
    assert list(warehouse.parent.glob(".*.building")) == []
    assert failure.value.data_docs is not None and failure.value.data_docs.exists()


def test_each_run_rebuilds_data_docs_and_versions_its_prefect_artifacts(
    sample_pages: Path, warehouse: Path
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        TaskRunFilter,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    first = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    second = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (
        first.data_docs
        == second.data_docs
        == warehouse.with_name("news_data_docs") / ("index.html")
    )
    index = second.data_docs.read_text(encoding="utf-8")
    assert second.run_id in index and first.run_id not in index
    links = re.findall(r'href="([^"]+)"', index)
    assert links and all((second.data_docs.parent / link).exists() for link in links)
    assert query(warehouse, "select count(distinct run_id), count(*) from dq_result") == [
        (2, 2 * second.rules_checked)
    ]
    with get_client(sync_client=True) as client:

        def versions(key: str) -> list:
            # Every argument spelled out: this server rejects the client's None defaults.
            return client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                flow_run_filter=FlowRunFilter(),
                task_run_filter=TaskRunFilter(),
                sort=ArtifactSort.CREATED_DESC,
                limit=100,
                offset=0,
            )

        reports = versions("newsflow-run-report")
        tables = versions("newsflow-rule-results")
    mine = [a for a in reports if second.run_id in str(a.data)]
    assert len(mine) == 1 and "Data quality: passed" in str(mine[0].data)
    assert mine[0].type == "markdown"
    assert any(second.run_id in str(a.description) for a in tables)
    assert {a.type for a in tables} == {"table"}


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
