"""End to end: the real `ingest` flow on the sample pages, into a temporary warehouse."""

import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows import entities, extract, parse, quality
from flows.ingest import ingest
from flows.quality import DataQualityError

pytestmark = pytest.mark.usefixtures("prefect_server")

DUCKDB_15_SHELL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "duckdb"


def query(warehouse: Path, statement: str, *parameters: object) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(statement, list(parameters)).fetchall()


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


def test_the_flow_itself_refuses_to_write_while_another_run_holds_the_lock(
    sample_pages: Path, warehouse: Path
):
    # Scheduled runs have no command line to look first: the flow takes the lock itself.
    from flows.warehouse import WarehouseBusyError, WriterLock

    ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    published = warehouse.read_bytes()

    with WriterLock(warehouse), pytest.raises(WarehouseBusyError, match="another newsflow run"):
        ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert warehouse.read_bytes() == published


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


def test_every_file_level_quarantine_reason_in_one_run(
    tmp_path: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    # dq:<expectation> and the other page rules have tests of their own above and below.
    # Two input folders of one name are one source: the second's good.txt is a duplicate.
    first, second = tmp_path / "first", tmp_path / "again" / "first"
    good = "Ferry Fares Rise\n\nFares go up in May, the council said on Friday.\n"
    files = {
        "good.txt": good.encode(),
        "empty.txt": b"",
        "binary.txt": b"\x89PNG\x00\x00\x00\x0d" * 50,
        "undecodable.txt": b"Title\n\n\x81\x8d\x8f\x90\x9d text\n",
        "too_large.txt": good.encode() * 100,
        "unreadable.txt": good.encode(),
        "vanished.txt": good.encode(),
        "no_text.txt": b"Notify of\nView all comments\n",
        "locked/hidden.txt": good.encode(),
    }
    for name, raw in files.items():
        (first / name).parent.mkdir(parents=True, exist_ok=True)
        (first / name).write_bytes(raw)
    (first / "broken_link.txt").symlink_to(first / "nowhere.txt")
    (first / "not_a_file.txt").mkdir()
    second.mkdir(parents=True)
    (second / "good.txt").write_text("Another Page\n\nAt the same relative path.\n")
    # The OS refusals and the race, made to happen on any account (root reads anything).
    read_at_most, scandir, read_pages = extract.read_at_most, os.scandir, extract.read_pages

    def refusing_read(path: Path, limit: int) -> bytes:
        if path.name == "unreadable.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return read_at_most(path, limit)

    def refusing_list(path):  # type: ignore[no-untyped-def]
        if not isinstance(path, int) and Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    def deleting_first(files: pl.DataFrame, max_file_bytes: int):  # type: ignore[no-untyped-def]
        (first / "vanished.txt").unlink(missing_ok=True)
        return read_pages(files, max_file_bytes)

    monkeypatch.setattr(extract, "read_at_most", refusing_read)
    monkeypatch.setattr(os, "scandir", refusing_list)
    monkeypatch.setattr(extract, "read_pages", deleting_first)
    monkeypatch.setenv("NEWSFLOW_MAX_FILE_BYTES", "1000")

    summary = ingest(inputs=[str(first), str(second)], warehouse=str(warehouse))

    assert summary.files_loaded == 1
    assert query(warehouse, "select source_path, reason from quarantine order by 1") == [
        ("binary.txt", "binary"),
        ("broken_link.txt", "broken_link"),
        ("empty.txt", "empty"),
        ("good.txt", "duplicate_path"),
        ("locked", "unreadable"),
        ("no_text.txt", "no_text"),
        ("not_a_file.txt", "not_a_file"),
        ("too_large.txt", "too_large"),
        ("undecodable.txt", "undecodable"),
        ("unreadable.txt", "unreadable"),
        ("vanished.txt", "vanished"),
    ]
    assert query(warehouse, "select count(*) from quarantine where message = ''") == [(0,)]


def test_a_page_breaking_a_row_rule_is_quarantined_and_the_rest_loads(
    sample_pages: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    (sample_pages / "003_new.txt").write_text("A New Title\n\nA new body paragraph.\n")
    # Only the new page has no comment section (layout "none"): make that layout unknown.
    monkeypatch.setattr(quality.gate, "LAYOUTS", ("wpdiscuz",))

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


def test_a_page_that_alone_breaks_a_batch_level_rule_is_quarantined_and_the_rest_publishes(
    sample_pages: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    shutil.copy(sample_pages / "000_555b52a31fc83634.txt", sample_pages / "003_twin_ids.txt")
    real_parse_pages = parse.parse_pages

    def twin_comment_ids(
        pages: pl.DataFrame, pool: object, timeout: float | None = None
    ) -> tuple[pl.DataFrame, ...]:
        # Stands for a parser bug (issue 17: a control character in a comment) that gives
        # two comments of one page the same comment_id.
        article, comment, unparsable = real_parse_pages(pages, pool, timeout)  # type: ignore[arg-type]
        twin = article.filter(pl.col("source_path") == "003_twin_ids.txt")["article_id"]
        on_twin = pl.col("article_id").is_in(twin.implode())
        comment = comment.with_columns(
            comment_id=pl.when(on_twin).then(pl.lit("twin-id")).otherwise("comment_id")
        )
        return article, comment, unparsable

    monkeypatch.setattr(parse, "parse_pages", twin_comment_ids)

    summary = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (summary.files_loaded, summary.files_quarantined) == (2, 1)
    assert summary.dq_result == "pages_quarantined"
    assert summary.quarantine_reasons == {"dq:expect_column_values_to_be_unique": 1}
    ((path, message),) = query(warehouse, "select source_path, message from quarantine")
    assert path == "003_twin_ids.txt"
    assert "comment.comment_id: expect_column_values_to_be_unique" in message
    assert query(warehouse, "select count(*) from article") == [(2,)]
    assert query(warehouse, "select count(*) from comment where comment_id = 'twin-id'") == [(0,)]
    unique_rule = query(
        warehouse,
        """
        select success, policy, unexpected_count > 1, pages_quarantined
        from dq_result where suite = 'comment' and column_name = 'comment_id'
          and expectation = 'expect_column_values_to_be_unique'
        """,
    )
    assert unique_rule == [(False, "batch", True, 1)]


def test_a_batch_level_failure_publishes_nothing_and_names_the_rule(
    sample_pages: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    published = warehouse.read_bytes()
    (sample_pages / "003_new.txt").write_text("A New Title\n\nA new body paragraph.\n")
    # Reference entities with one row twice (the loader refuses such a file; this stands for
    # a bug past it): duplicate entity keys break the batch as a whole.
    gazetteer = entities.load_gazetteer()
    first_row = gazetteer.entities.head(1)
    doubled = replace(gazetteer, entities=pl.concat([gazetteer.entities, first_row]))
    monkeypatch.setattr(entities, "load_gazetteer", lambda: doubled)

    with pytest.raises(DataQualityError) as failure:
        ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    message = str(failure.value)
    assert "entity.entity_id: expect_column_values_to_be_unique failed for 2 rows" in message
    assert first_row["entity_id"][0] in message  # the example rows name the key
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
    page = sample_pages / "002_d9744a95c5038ee5.txt"
    page.write_text(page.read_text(encoding="utf-8").replace("patrol", "convoy"), "utf-8")
    second = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    # Nothing new: nothing validated, and the Data Docs of the last validation stay.
    third = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (
        first.data_docs
        == second.data_docs
        == third.data_docs
        == warehouse.with_name("news_data_docs") / ("index.html")
    )
    index = second.data_docs.read_text(encoding="utf-8")
    assert second.run_id in index and first.run_id not in index
    assert third.run_id not in index
    links = re.findall(r'href="([^"]+)"', index)
    assert links and all((second.data_docs.parent / link).exists() for link in links)
    assert query(warehouse, "select count(distinct run_id), count(*) from dq_result") == [
        (3, 2 * second.rules_checked + third.rules_checked)
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
    assert re.search(r"time by stage \| discover [\d.]+ s, .*, publish [\d.]+ s", str(mine[0].data))
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


# Incremental runs

PAGE = """\
MAY 2022

Convoy Reaches Aleppo After Two Days On The Road

Support SouthFront

A convoy of trucks reached Aleppo on Tuesday after two days on the road from Damascus.

Drivers said the checkpoints were slower than last month.


Notify of
Inline Feedbacks
View all comments
{comments}"""
COMMENTS = [
    ("Orla Brennan", "Aleppo deserves better roads than this."),
    ("Dev Patel 77", "Two days from Damascus is not bad at all."),
    ("Orla Brennan", "Aleppo deserves better roads than this."),  # the same words again
]


def write_page(path: Path, comments: list[tuple[str, str]]) -> None:
    path.write_text(
        PAGE.format(comments="\n".join(f"{author}\n\n{body}\n" for author, body in comments))
    )


def test_a_changed_page_replaces_its_rows_and_keeps_comment_and_mention_ids(
    tmp_path: Path, warehouse: Path
):
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    write_page(crawl / "convoy.txt", COMMENTS)
    first = ingest(inputs=[str(crawl)], warehouse=str(warehouse))
    comment_sql = "select author, body, position, comment_id from comment order by position"
    before = query(warehouse, comment_sql)
    mentions_sql = (
        "select comment_id, char_start, mention_id from entity_mention "
        "where comment_id is not null order by all"
    )
    mentions_before = query(warehouse, mentions_sql)

    # Re-scraped: a new comment above the others, and one more at the end.
    newest = ("Sam Okafor", "Finally some good news from Aleppo.")
    write_page(crawl / "convoy.txt", [newest, *COMMENTS, ("Dev Patel 77", "Agreed.")])
    second = ingest(inputs=[str(crawl)], warehouse=str(warehouse))

    assert (second.files_loaded, second.articles, second.comments) == (1, 1, 5)
    after = query(warehouse, comment_sql)
    assert [(a, b, p) for a, b, p, _ in after] == [
        (*newest, 1),
        *[(a, b, p + 1) for a, b, p, _ in before],
        ("Dev Patel 77", "Agreed.", 5),
    ]
    # Same comment, same id, although it moved down one place; the repeat keeps its own id.
    assert [row[3] for row in after[1:4]] == [row[3] for row in before]
    assert len({row[3] for row in after}) == 5
    assert set(mentions_before) <= set(query(warehouse, mentions_sql))
    assert query(warehouse, "select loaded_by_run, n_comments from article") == [(second.run_id, 5)]
    assert query(warehouse, "select count(*) from page") == [(1,)]
    assert first.run_id != second.run_id


def test_a_run_opens_only_files_whose_size_or_time_changed(sample_pages: Path, warehouse: Path):
    first = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    edited, touched = (
        sample_pages / "000_555b52a31fc83634.txt",
        sample_pages / "002_d9744a95c5038ee5.txt",
    )
    stored = "select raw_text from page where source_path = '000_555b52a31fc83634.txt'"
    text_before = query(warehouse, stored)
    # Same size, time put back: the run must trust the manifest and not open the file. (The
    # edit stays unseen, which is how this test knows the file was not read.)
    stat = edited.stat()
    edited.write_bytes(edited.read_bytes().replace(b"Turkish", b"Turkic!", 1))
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # New time, same bytes: read and hashed, found unchanged, not parsed again.
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))

    second = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (second.files_loaded, second.files_unchanged) == (0, 2)
    # No page was validated: only the SQL checks of the whole warehouse ran.
    suites = "select distinct suite from dq_result where run_id = ?"
    assert query(warehouse, suites, second.run_id) == [("warehouse",)]
    assert query(warehouse, stored) == text_before
    assert query(warehouse, "select distinct loaded_by_run from article") == [(first.run_id,)]
    manifest = dict(query(warehouse, "select source_path, modified_at from source_file"))
    assert manifest[touched.name] == datetime(1970, 1, 1) + timedelta(
        microseconds=(stat.st_mtime_ns + 10**9) // 1000
    )
    assert query(warehouse, "select distinct status, last_seen_run from source_file") == [
        ("unchanged", second.run_id)
    ]


def test_a_vanished_file_keeps_its_rows_and_is_marked_missing(sample_pages: Path, warehouse: Path):
    first = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    gone = sample_pages / "002_d9744a95c5038ee5.txt"
    text = gone.read_bytes()
    gone.unlink()

    second = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (second.files_seen, second.files_missing, second.articles) == (1, 1, 2)
    status = "select source_path, status, last_seen_run from source_file order by 1"
    assert query(warehouse, status) == [
        ("000_555b52a31fc83634.txt", "unchanged", second.run_id),
        (gone.name, "missing", first.run_id),
    ]
    assert query(warehouse, "select files_missing from ingest_run order by run_id") == [(0,), (1,)]

    gone.write_bytes(text)  # back again, with a new time: read, found unchanged
    third = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))

    assert (third.files_missing, third.files_loaded, third.files_unchanged) == (0, 0, 2)
    assert query(warehouse, status)[1] == (gone.name, "unchanged", third.run_id)


def test_quarantined_files_load_once_fixed_and_a_broken_new_version_keeps_old_rows(
    tmp_path: Path, warehouse: Path
):
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    write_page(crawl / "convoy.txt", COMMENTS)
    (crawl / "later.txt").write_bytes(b"")
    first = ingest(inputs=[str(crawl)], warehouse=str(warehouse))
    assert first.quarantine_reasons == {"empty": 1}
    rows_before = query(warehouse, "select * from comment order by all")

    write_page(crawl / "later.txt", COMMENTS[:1])  # fixed
    (crawl / "convoy.txt").write_text("Notify of\nView all comments\n")  # no text but chrome
    second = ingest(inputs=[str(crawl)], warehouse=str(warehouse))

    assert (second.files_loaded, second.files_quarantined) == (1, 1)
    reasons = "select source_path, reason, message from quarantine where run_id = ?"
    assert query(warehouse, reasons, second.run_id) == [
        (
            "convoy.txt",
            "no_text",
            "The new version of this page holds no article or comment text, only a header "
            "(donation banner, month line) or site chrome; the rows of the version loaded "
            "before are kept. Check the file.",
        )
    ]
    convoy = "(select article_id from article where source_path = 'convoy.txt')"
    assert query(warehouse, f"select * from comment where article_id = {convoy} order by all") == (
        rows_before
    )
    assert query(warehouse, "select source_path, status from source_file order by 1") == [
        ("convoy.txt", "quarantined"),
        ("later.txt", "loaded"),
    ]


def test_reparse_rebuilds_the_derived_tables_from_stored_pages(
    sample_pages: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    from flows import parse
    from flows.reparse import reparse

    first = ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    snapshot = "select comment_id, article_id, position, author, body from comment order by all"
    comments = query(warehouse, snapshot)
    mentions = query(warehouse, "select mention_id from entity_mention order by all")
    shutil.rmtree(sample_pages)  # the input files are not needed
    monkeypatch.setattr(parse, "PARSER_VERSION", "next")

    summary = reparse(warehouse=str(warehouse))

    assert (summary.kind, summary.pages_reparsed, summary.files_quarantined) == ("reparse", 2, 0)
    assert (summary.articles, summary.comments, summary.mentions) == (
        first.articles,
        first.comments,
        first.mentions,
    )
    assert query(warehouse, "select distinct parser_version, loaded_by_run from article") == [
        ("next", summary.run_id)
    ]
    assert query(warehouse, snapshot) == comments
    assert query(warehouse, "select mention_id from entity_mention order by all") == mentions
    assert query(warehouse, "select kind from ingest_run order by run_id") == [
        ("ingest",),
        ("reparse",),
    ]
    # The manifest is as the last ingest run left it: a reparse reads no folder.
    assert query(warehouse, "select distinct status from source_file") == [("loaded",)]


def test_the_next_run_upgrades_a_warehouse_of_newsflow_010(sample_pages: Path, v0_warehouse: Path):
    from flows.upgrade import latest_version

    summary = ingest(inputs=[str(sample_pages)], warehouse=str(v0_warehouse))

    assert (summary.files_loaded, summary.articles, summary.files_missing) == (2, 3, 1)
    assert query(v0_warehouse, "select source_path, status from source_file order by 1")[-1] == (
        "one.txt",
        "missing",
    )
    assert query(v0_warehouse, "select max(version) from schema_version") == [(latest_version(),)]
    assert query(v0_warehouse, "select run_id, kind from ingest_run order by started_at") == [
        ("r0", "ingest"),
        (summary.run_id, "ingest"),
    ]


def test_bi_tools_read_the_warehouse_through_duckdb_engine_read_only(
    sample_pages: Path, warehouse: Path
):
    import sqlalchemy

    ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
    # NullPool: a pooled connection would keep the replaced file open, and with it the old data.
    engine = sqlalchemy.create_engine(
        f"duckdb:///{warehouse}",
        connect_args={"read_only": True},
        poolclass=sqlalchemy.pool.NullPool,
    )
    count = sqlalchemy.text("select count(*) from article")
    with engine.connect() as con:
        assert con.execute(count).scalar() == 2
        assert "article" in sqlalchemy.inspect(con).get_table_names()
        (sample_pages / "003_new.txt").write_text("A New Title\n\nA new body paragraph.\n")
        # A run while a BI connection is open: it neither fails nor waits for the reader.
        ingest(inputs=[str(sample_pages)], warehouse=str(warehouse))
        assert con.execute(count).scalar() == 2  # this connection's snapshot
    with engine.connect() as con:
        assert con.execute(count).scalar() == 3


def test_pages_of_only_comments_or_unsplit_text_load_and_keep_every_sentence(
    tmp_path: Path, warehouse: Path
):
    sentences = [
        "Lovely to see the square busy again.",
        "The parking was a nightmare though.",
        "The crane was old, everyone knew it.",
        "Lucky nobody was under it at the time.",
    ]
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "comments.txt").write_text(
        f"Notify of\nView all comments\nAnna Berg\n\n{sentences[0]}\n\nJon Dahl\n\n{sentences[1]}\n"
    )
    # Author-less comments under a WordPress header, nothing else.
    (crawl / "unsplit.txt").write_text(
        f"3 thoughts on “Harbour Crane Collapses”\n\n{sentences[2]}\n\n{sentences[3]}\n\n"
        "Comments are closed.\n"
    )
    (crawl / "header.txt").write_text("0 $\n2,500 $\nMAY 2024\n\nSupport SouthFront\n")

    summary = ingest(inputs=[str(crawl)], warehouse=str(warehouse))

    assert (summary.files_loaded, summary.quarantine_reasons) == (2, {"no_text": 1})
    assert summary.dq_result in ("passed", "warnings")
    kept = """
        select string_agg(concat_ws(' ', a.title, a.body, a.unsplit_text, c.body), ' ')
        from article as a left join comment as c using (article_id)
    """
    text = query(warehouse, kept)[0][0]
    assert [sentence for sentence in sentences if sentence not in text] == []
    flagged = "select source_path from article where parse_flags is not null order by 1"
    assert query(warehouse, "select source_path from parse_review order by 1") == query(
        warehouse, flagged
    )
