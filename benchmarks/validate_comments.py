"""Print every data-quality rule with its severity and policy, and how long the polars rules
(what a run judges every batch with) and Great Expectations take to validate a batch of
100,000 comments, and to build the Data Docs.

    .venv/bin/python benchmarks/validate_comments.py [--comments 100000]
"""

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from flows import entities, quality, schema


def synthetic_batch(n_comments: int, per_page: int = 20) -> dict[str, pl.DataFrame]:
    """Made-up pages that pass every rule: `per_page` comments each, one reply in four,
    a mention of Damascus in every title."""
    n_pages = n_comments // per_page
    page = pl.int_range(n_pages, eager=True)
    article = pl.DataFrame(
        {
            "article_id": page.map_elements(lambda i: f"a{i}", return_dtype=pl.String),
            "title": pl.repeat("Visit Damascus", n_pages, eager=True),
            "body": pl.repeat("A body of some words about the town.", n_pages, eager=True),
            "n_comments": pl.repeat(per_page, n_pages, eager=True),
        }
    ).with_columns(
        source_path=pl.col("article_id") + ".txt",
        crawl_month=pl.date(2020, 2, 1),
        layout=pl.lit("wpdiscuz"),
        sha256=pl.lit("0" * 64),
        parser_version=pl.lit("1"),
        loaded_by_run=pl.lit("bench"),
    )
    row = pl.int_range(n_comments, eager=True)
    position = row % per_page + 1
    reply = (position % 4 == 0).alias("reply")
    comment = pl.DataFrame(
        {
            "comment_id": row.map_elements(lambda i: f"c{i}", return_dtype=pl.String),
            "article_id": (row // per_page).map_elements(lambda i: f"a{i}", return_dtype=pl.String),
            "position": position,
            "reply": reply,
            "parent": (row - 1).map_elements(lambda i: f"c{i}", return_dtype=pl.String),
        }
    ).select(
        "comment_id",
        "article_id",
        "position",
        author=pl.when(pl.col("position") % 5 == 0).then(None).otherwise(pl.lit("Reader")),
        depth=pl.col("reply").cast(pl.Int32),
        parent_comment_id=pl.when("reply").then("parent"),
        body=pl.lit("I read this, and I think Damascus is the point here."),
    )
    article = schema.conform(article, "article")
    comment = schema.conform(comment, "comment")
    mention = schema.conform(
        article.select(
            "article_id",
            mention_id="m" + pl.col("article_id"),
            entity_id=pl.lit("damascus"),
            comment_id=pl.lit(None, dtype=pl.String),
            field=pl.lit("title"),
            char_start=pl.lit(6),
            char_end=pl.lit(14),
            surface=pl.lit("Damascus"),
            extractor=pl.lit("gazetteer"),
        ),
        "entity_mention",
    )
    texts = entities.text_fields(article, comment)
    reference = entities.load_gazetteer().entities
    return quality.checked_frames(article, comment, mention, texts, reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    args = parser.parse_args()

    print("rules (suite, expectation, column: severity, policy)")
    for suite, document in quality.load_suite_documents().items():
        for e in document["expectations"]:
            column = e["kwargs"].get("column") or e["kwargs"].get("column_A")
            mostly = f", mostly {e['kwargs']['mostly']}" if "mostly" in e["kwargs"] else ""
            print(
                f"  {suite}.{column}: {e['type']}: {e['severity']}, {e['meta']['policy']}{mostly}"
            )
    print("  warehouse.*: relationship / row_invariant (sql/checks/warehouse.sql): critical, batch")

    started = time.perf_counter()
    gate = quality.shared_gate()
    print(f"\nimport GX and register the suites: {time.perf_counter() - started:.1f} s")
    frames = synthetic_batch(args.comments)
    sizes = ", ".join(f"{name} {frame.height:,}" for name, frame in frames.items())
    print(f"batch: {sizes} rows")

    rules = quality.RowRules(quality.load_suite_documents(), quality.suite_parameters())
    for suites in (("comment",), quality.BATCH_SUITES):
        gate.validate(frames, "warm-up", suites)  # the first run builds GX's metric caches
        started = time.perf_counter()
        results = gate.validate(frames, "bench", suites)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        judged = rules.validate(frames, suites)
        polars_seconds = time.perf_counter() - started
        broken = [r.describe() for r in results if not r.success]
        print(
            f"validate {' + '.join(suites)} ({len(results)} rules): GX {seconds:.1f} s, "
            f"polars {polars_seconds:.2f} s, same results: {judged == results}; broken: {broken}"
        )

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        gate.build_data_docs(Path(folder) / "docs", "bench")
        print(f"build Data Docs: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
