"""Load a run's rows into the next warehouse version through one connection."""

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from flows import stories
from flows.schema import conform, empty
from flows.sqlfiles import sql
from flows.upgrade import upgrade

# DuckDB 2.0 would write storage version 69, which the DuckDB 1.5 shell and BI drivers
# cannot open; files created with this version stay readable by both.
STORAGE_VERSION = "v1.5.0"
TOTALS = ("articles", "comments", "entities", "mentions", "files_missing")


@dataclass(frozen=True)
class RunCounts:
    files_seen: int
    files_loaded: int
    files_unchanged: int
    files_quarantined: int
    files_ignored: int
    kind: str = "ingest"


# DuckDB's default limit is 80 % of the machine's memory, and below it the buffer pool keeps
# every block the run wrote: the writer's memory grew with the crawl. Joins and sorts over
# the limit spill to the temporary directory beside the file.
WRITER_MEMORY = "256MB"
# DuckDB checkpoints when a commit leaves its write-ahead log past this size. Its default,
# 16 MiB, made it checkpoint after every batch or two, and a checkpoint costs more the larger
# the file (2 s on 100k pages). Committed rows not yet checkpointed stay pinned in the
# writer's memory: at 1 GB a run ran out of WRITER_MEMORY; at 64 MB `make bench` peaks as high
# as at 16 MiB, and loads 100k pages in 88 s, not 103 s.
CHECKPOINT_EVERY = "64MB"


class Writer:
    """The run's one connection to the next version: every read and write of the run goes
    through it, and it is checkpointed once, when the run is recorded.

    Reopening the file for each step would checkpoint it at every close, and the cost of a
    checkpoint grows with the file.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        self._open = True

    @classmethod
    def open(cls, path: Path) -> "Writer":
        """Attach the file at `path` (created when missing) and upgrade it to the current
        schema."""
        con = duckdb.connect(
            config={"memory_limit": WRITER_MEMORY, "temp_directory": f"{path}.spill"}
        )
        try:
            quoted = str(path).replace("'", "''")
            con.execute(f"attach '{quoted}' as warehouse (storage_version '{STORAGE_VERSION}')")
            con.execute("use warehouse")
            con.execute(f"set checkpoint_threshold = '{CHECKPOINT_EVERY}'")
            upgrade(con)
        except BaseException:
            con.close()
            raise
        return cls(con)

    def known_files(self) -> pl.DataFrame:
        """Every file of the manifest (size, modification time, sha256) with the sha256 and
        parser version of the page it loaded, if any."""
        return self._con.sql(sql("load/known_file")).pl()

    def stored_pages(self, offset: int, limit: int) -> pl.DataFrame:
        """A slice of the raw pages (source_path, sha256, text), in key order."""
        return self._con.sql(sql("load/stored_page"), params=[limit, offset]).pl()

    def count_stored_pages(self) -> int:
        return int(self._row(sql("load/stored_page_count"))[0])

    def missing_pages(self, sources: tuple[str, ...] = ()) -> pl.DataFrame:
        """The pages whose files are gone (sql/load/missing_page.sql), of `sources` or all."""
        return self._con.sql(sql("load/missing_page"), params=[list(sources)] * 2).pl()

    def prune(self, pages: pl.DataFrame) -> None:
        """Remove every row of `pages` (source, source_path, article_id), in one transaction."""
        staged = pages.select("source", "source_path", "article_id")
        self._transaction({"pruned": staged}, [sql("load/prune_pages")])

    def count_stale_pages(self, parser_version: str) -> int:
        """How many articles a parser other than `parser_version` made."""
        return int(self._row(sql("load/stale_page_count"), [parser_version])[0])

    def write_batch(
        self,
        run_id: str,
        pages: pl.DataFrame,
        article: pl.DataFrame,
        comment: pl.DataFrame,
        mention: pl.DataFrame,
        candidate: pl.DataFrame | None = None,
    ) -> None:
        """Replace the rows of the batch's pages with their new rows, in one transaction."""
        staged = {
            "page": conform(pages, "page"),
            "article": conform(
                article.with_columns(
                    loaded_by_run=pl.lit(run_id),
                    # Set in the warehouse, where the other crawls' versions are.
                    previous_article_id=pl.lit(None, dtype=pl.String()),
                ),
                "article",
            ),
            "comment": conform(with_mart_columns(comment, mention), "comment"),
            "entity_mention": conform(mention, "entity_mention"),
            "candidate_mention": empty("candidate_mention") if candidate is None else candidate,
        }
        statements = [
            *_inserts("page", "article"),
            sql("load/comment"),
            *_inserts("entity_mention", "candidate_mention"),
            sql("load/article_entity"),
            sql("load/article_entity_pair"),
            sql("load/previous_article"),
        ]
        if self._replaces_rows(staged["page"]):
            # The deletes scan whole tables (millions of mentions in a large warehouse): a
            # first load, all pages new, would pay that for every batch.
            statements.insert(0, sql("load/delete_replaced_rows"))
        self._transaction(staged, statements)

    def _replaces_rows(self, pages: pl.DataFrame) -> bool:
        """Whether any of `pages` has rows in the warehouse already; their keys are left in
        the temporary table replaced_page."""
        self._con.register("staged_page", pages.select("article_id", "source", "source_path"))
        try:
            self._con.execute(sql("load/replaced_page"))
            return bool(self._row(sql("load/replaced_articles"))[0])
        finally:
            self._con.unregister("staged_page")

    def adopt_unnamed(self, found: pl.DataFrame) -> None:
        """Give pages loaded before sources had names the source of the file found at their
        path (`found`: source, source_path, the first source of each path first)."""
        if not self._row(sql("load/unnamed_count"))[0]:
            return
        first = found.select("source", "source_path").unique("source_path", keep="first")
        self._transaction({"found": first}, [sql("load/adopt_unnamed")])

    def write_run(
        self,
        run_id: str,
        entity: pl.DataFrame,
        source_files: pl.DataFrame | None,
        quarantine: pl.DataFrame,
        sources: tuple[str, ...] = (),
    ) -> None:
        """Record the entities (the gazetteer's and those discovered), the file manifest and the
        quarantined files.

        `source_files` holds every file the run saw (first_seen_run is kept for files seen
        before); manifest files of the run's `sources` it did not see are marked missing,
        their rows kept. A reparse run passes None: it reads no folder and leaves the
        manifest as it was.
        """
        staged = {
            "entity": conform(entity, "entity"),
            "quarantine": conform(quarantine.with_columns(run_id=pl.lit(run_id)), "quarantine"),
        }
        statements = [sql("load/entity"), *_inserts("entity", "quarantine")]
        if source_files is not None:
            staged["source_file"] = conform(source_files, "source_file")
            staged["run_source"] = pl.DataFrame(
                {"source": list(sources)}, schema={"source": pl.String()}
            )
            statements += [sql("load/source_file"), sql("load/source_file_missing")]
        self._transaction(staged, statements)

    def write_dq_results(self, dq_result: pl.DataFrame) -> None:
        """Record the run's data-quality results."""
        self._transaction({"dq_result": conform(dq_result, "dq_result")}, _inserts("dq_result"))

    def _transaction(self, staged: dict[str, pl.DataFrame], statements: list[str]) -> None:
        """Run `statements` in one transaction, each frame visible as `staged_<table>`."""
        con = self._con
        con.execute("begin")
        try:
            for table, frame in staged.items():
                con.register(f"staged_{table}", frame)
            for statement in statements:
                con.execute(statement)
            con.execute("commit")
        except Exception:
            # After some failures (disk full) DuckDB has ended the transaction itself, and a
            # rollback error would hide the one that says what happened.
            with contextlib.suppress(duckdb.Error):
                con.execute("rollback")
            raise
        finally:
            # A registered frame stays in memory for as long as it is registered.
            for table in staged:
                con.unregister(f"staged_{table}")

    def update_stories(self, chunk: int = 5_000) -> int:
        """Sign the articles new or with a new text since the last run and give each its
        story (flows/stories.py); return how many were signed."""
        # The batches' rows out of memory before the stories read the bodies.
        self._con.execute("checkpoint")
        checked = self._con.sql(
            sql("load/story_stale"), params=[stories.SIGNED_WITH, stories.MAX_CHARS]
        ).pl()
        self._transaction({"checked": checked}, [sql("load/story_delete_stale")])
        unsigned = self._con.sql(sql("load/story_unsigned")).pl()
        for offset in range(0, unsigned.height, chunk):
            self._add_stories(unsigned.slice(offset, chunk))
        return unsigned.height

    def _add_stories(self, unsigned: pl.DataFrame) -> None:
        """Sign the articles of `unsigned`, index them and link them to their stories, in one
        transaction."""
        con = self._con
        con.register("staged_unsigned", unsigned)
        try:
            articles = con.sql(sql("load/story_bodies"), params=[stories.MAX_CHARS]).pl()
        finally:
            con.unregister("staged_unsigned")
        signed = stories.signatures(articles)
        con.execute("begin")
        try:
            con.register("staged_signature", signed)
            con.register("staged_band", stories.band_keys(signed))
            con.execute("insert into story_band by name select * from staged_band")
            pairs = con.sql(sql("load/story_pairs")).pl()
            con.register("staged_other", pairs.select("other_id"))
            known = con.sql(sql("load/story_signatures")).pl()
            next_story = self._row(sql("load/story_next_id"))[0]
            story, relabel = stories.link(articles, signed, known, pairs, next_story)
            con.register("staged_story", story)
            con.register("staged_relabel", relabel)
            con.execute(sql("load/story_assign"))
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        finally:
            for name in ("signature", "band", "other", "story", "relabel"):
                con.unregister(f"staged_{name}")

    def run_checks(self) -> pl.DataFrame:
        """The rules on the whole next version (see warehouse_checks); the quality gate
        judges them."""
        return warehouse_checks(self._con)

    def record_run(
        self,
        run_id: str,
        started_at: datetime,
        finished_at: datetime,
        counts: RunCounts,
        dq_result: str,
        version: str,
    ) -> dict[str, int]:
        """Record the run in ingest_run and return the warehouse totals it counted."""
        self._con.execute(
            sql("load/ingest_run"),
            [
                run_id,
                counts.kind,
                started_at,
                finished_at,
                counts.files_seen,
                counts.files_loaded,
                counts.files_unchanged,
                counts.files_quarantined,
                counts.files_ignored,
                dq_result,
                version,
            ],
        )
        return dict(zip(TOTALS, self._row(sql("load/run_totals"), [run_id]), strict=True))

    def _row(self, statement: str, parameters: list[object] | None = None) -> tuple:
        """The one row `statement` returns."""
        # fetchall, not fetchone: the connection serves the whole run, and DuckDB refuses
        # other work on it while a result is left unfinished.
        (row,) = self._con.execute(statement, parameters).fetchall()
        return row

    def close(self) -> None:
        """Write everything into the file itself (no write-ahead log beside it) and close."""
        if self._open:
            self._open = False
            try:
                self._con.execute("checkpoint")
            finally:
                self._con.close()


def warehouse_checks(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The rules on a whole warehouse (sql/checks/warehouse.sql, a statement each), one row
    per rule with its unexpected_count and example keys."""
    rules = con.extract_statements(sql("checks/warehouse"))
    return pl.concat([con.sql(rule.query).pl() for rule in rules])


def with_mart_columns(comment: pl.DataFrame, mention: pl.DataFrame) -> pl.DataFrame:
    """`comment` with the columns computed at load for the marts: how many distinct entities
    each comment names (of `mention`, the batch's mentions), and its normalised text, left
    empty here for the insert to compute (sql/load/comment.sql)."""
    named = (
        mention.filter(pl.col("comment_id").is_not_null())
        .group_by("comment_id")
        .agg(named=pl.col("entity_id").n_unique())
    )
    return (
        comment.join(named, on="comment_id", how="left")
        .with_columns(entities_named=pl.col("named").fill_null(0), normalised_text=pl.lit(None))
        .drop("named")
    )


def _inserts(*tables: str) -> list[str]:
    # Table names come from this module, never from input.
    return [f"insert into {table} by name select * from staged_{table}" for table in tables]
