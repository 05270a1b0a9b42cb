"""Time the parse stage alone (flows.parse.parse_pages) on a generated crawl.

python -m benchmarks.parse_speed [--count 20000] [--repeat 3] [--seed 0] [--workers N]
"""

import argparse
import hashlib
import os
import resource
import time
from collections import Counter

import polars as pl

from benchmarks.pages import generate_pages
from flows.parse import PARSER_VERSION, parse_pages, worker_pool

# Issue 3: the parse stage must keep up with at least this much page text on a 2-core machine.
TARGET_MB_PER_S = 20.0


def pages_frame(count: int, seed: int) -> pl.DataFrame:
    """The frame parse_pages takes (source_path, sha256, text), built as the read stage does."""
    rows = [
        (name, hashlib.sha256(text.encode()).hexdigest(), text)
        for name, text in generate_pages(count, seed)
    ]
    return pl.DataFrame(
        rows,
        schema={"source_path": pl.String(), "sha256": pl.String(), "text": pl.String()},
        orient="row",
    )


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="pages (20000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts (3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the pages (0)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="parser processes (one per core)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    pages = pages_frame(args.count, args.seed)
    megabytes = pages["text"].str.len_bytes().sum() / 1e6
    kinds = Counter(name.split("_", 1)[1].removesuffix(".txt") for name in pages["source_path"])
    print(
        f"Generated {pages.height:,} pages, {megabytes:.1f} MB of UTF-8 text, "
        f"in {time.perf_counter() - started:.1f} s"
    )
    print("  kinds: " + ", ".join(f"{kind} {n:,}" for kind, n in kinds.most_common()))

    timings = []
    with worker_pool(args.workers) as pool:
        if pool is not None:
            # Start the workers before timing, as a run does while it discovers and reads.
            parse_pages(pages.head(200), pool)
        for run in range(1, args.repeat + 1):
            started = time.perf_counter()
            article, comment, rejects = parse_pages(pages, pool)
            timings.append(time.perf_counter() - started)
            print(
                f"  run {run}: {timings[-1]:.2f} s ({article.height:,} articles, "
                f"{comment.height:,} comments, {rejects.height:,} rejected)"
            )
            del article, comment, rejects

    best = min(timings)
    rate = megabytes / best
    verdict = "meets" if rate >= TARGET_MB_PER_S else "BELOW"
    print(
        f"Parse stage alone, parser version {PARSER_VERSION}, {args.workers} worker(s), "
        f"best of {len(timings)}:"
    )
    print(f"  pages     {pages.height:,}")
    print(f"  MB        {megabytes:.1f}")
    print(f"  seconds   {best:.2f}")
    print(f"  pages/s   {pages.height / best:,.0f}")
    print(f"  MB/s      {rate:.1f} ({verdict} the target of {TARGET_MB_PER_S:.0f} MB/s)")
    print(f"  peak RSS  {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
