"""Time the entity stage alone (flows.entities.extract_entities) in words of page text per second.

python -m benchmarks.entity_speed [--count 20000] [--repeat 3] [--seed 0] [--real-share 0.5]

The generated pages (benchmarks.pages) name invented places only, so on their own they would
flatter the matcher; the texts of the sample pages and of the labelled evaluation documents
(tests/fixtures/entities/), full of real names, are mixed in to make up `--real-share` of the
words.
"""

import argparse
import hashlib
import resource
import time
from pathlib import Path

import polars as pl

from benchmarks.pages import generate_pages
from flows.entities import extract_entities, load_gazetteer, text_fields
from flows.parse import parse_pages

# Issue 4: the entity stage must handle at least this much page text on a 2-core machine.
TARGET_WORDS_PER_S = 1_000_000
ROOT = Path(__file__).resolve().parent.parent
REAL_TEXTS = [*sorted((ROOT / "sample_pages").glob("*.txt"))]
LABELLED = ROOT / "tests" / "fixtures" / "entities"


def labelled_texts() -> list[tuple[str, str, str]]:
    """(document, field, text) of every title, body and comment of the labelled documents,
    whose sections start with `## title`, `## body` and `## comment`."""
    texts = []
    for path in sorted(LABELLED.glob("*.txt")):
        field, lines = None, []
        for line in [*path.read_text(encoding="utf-8").splitlines(), "## end"]:
            if line.startswith("## "):
                if field is not None:
                    texts.append((path.stem, field, "\n".join(lines).strip()))
                field, lines = line[3:].strip(), []
            else:
                lines.append(line)
    return texts


def texts_frame(count: int, seed: int, real_share: float) -> pl.DataFrame:
    """The frame the entity stage takes: the parse stage's texts of generated pages and of the
    sample pages, and the labelled documents' texts, real ones making up `real_share`."""
    pages = list(generate_pages(count, seed)) + [
        (path.name, path.read_text(encoding="utf-8")) for path in REAL_TEXTS
    ]
    frame = pl.DataFrame(
        [
            (name, hashlib.sha256(f"{name}{text}".encode()).hexdigest(), text)
            for name, text in pages
        ],
        schema={"source_path": pl.String(), "sha256": pl.String(), "text": pl.String()},
        orient="row",
    )
    article, comment, _ = parse_pages(frame)
    texts = text_fields(article, comment)
    is_real = texts["article_id"].is_in(
        article.filter(pl.col("source_path").is_in([p.name for p in REAL_TEXTS]))[
            "article_id"
        ].implode()
    )
    generated = texts.filter(~is_real)
    real = pl.concat(
        [
            texts.filter(is_real),
            pl.DataFrame(
                [
                    (doc, f"{doc}-{n}" if field == "comment" else None, field, text)
                    for n, (doc, field, text) in enumerate(labelled_texts())
                ],
                schema=texts.schema,
                orient="row",
            ),
        ]
    )
    words = pl.col("text").str.split(" ").list.len().sum()
    generated_words, real_words = generated.select(words).item(), real.select(words).item()
    copies = max(1, round(generated_words * real_share / (1 - real_share) / real_words))
    copied = [
        real.with_columns(
            pl.concat_str(pl.lit(f"copy{copy}-"), "article_id").alias("article_id"),
            pl.concat_str(pl.lit(f"copy{copy}-"), "comment_id").alias("comment_id"),
        )
        for copy in range(copies)
    ]
    return pl.concat([generated, *copied])


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="generated pages (20000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts (3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the pages (0)")
    parser.add_argument(
        "--real-share", type=float, default=0.5, help="share of words from real texts (0.5)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    texts = texts_frame(args.count, args.seed, args.real_share)
    words = texts["text"].str.split(" ").list.len().sum()
    megabytes = texts["text"].str.len_bytes().sum() / 1e6
    print(
        f"Prepared {texts.height:,} texts (titles, bodies, comments), {words:,} words, "
        f"{megabytes:.1f} MB, in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    gazetteer = load_gazetteer()
    print(
        f"Loaded the gazetteer: {gazetteer.entities.height:,} entities, "
        f"{len(gazetteer.entity_of_surface):,} surface forms, "
        f"in {time.perf_counter() - started:.2f} s"
    )

    timings = []
    for run in range(1, args.repeat + 1):
        started = time.perf_counter()
        found = extract_entities(texts, gazetteer)
        timings.append(time.perf_counter() - started)
        extractors = dict(found.mention.group_by("extractor").len().iter_rows())
        print(
            f"  run {run}: {timings[-1]:.2f} s ({found.mention.height:,} mentions {extractors}, "
            f"{found.entity.height:,} discovered entities, "
            f"{found.candidate.height:,} candidate mentions)"
        )

    best = min(timings)
    rate = words / best
    verdict = "meets" if rate >= TARGET_WORDS_PER_S else "BELOW"
    print(f"Entity stage alone (discovery and matching), best of {len(timings)}:")
    print(f"  words     {words:,}")
    print(f"  seconds   {best:.2f}")
    print(f"  words/s   {rate:,.0f} ({verdict} the target of {TARGET_WORDS_PER_S:,})")
    print(f"  MB/s      {megabytes / best:.1f}")
    print(f"  peak RSS  {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
