"""Time every mart, the report and the Parquet export on a large warehouse, opened read-only.

    .venv/bin/python -m benchmarks.marts --warehouse /tmp/newsflow-scale/100k.duckdb

Each mart is read whole (`select * from <mart>`, every column computed, the result as Arrow)
as a BI tool that loads it would; the best of --repeat tries is printed with its rows, against
issue 15's target of 2 s. Build the warehouse first with `make bench` (the 100k crawl) or
`newsflow run` on a crawl of your own; a no-change re-run of an older warehouse signs its
articles for the stories first. Or grow a large one from a smaller real one:

    .venv/bin/python -m benchmarks.marts --grow-from small.duckdb --copies 20 \
        --warehouse /tmp/big.duckdb
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb

from flows import schema
from flows.export import export_parquet
from flows.load import STORAGE_VERSION
from flows.report import write_report
from flows.upgrade import upgrade

TARGET_SECONDS = 2.0


def time_marts(warehouse: Path, repeat: int) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (articles,) = con.execute("select count(*) from article").fetchall()[0]
        (mentions,) = con.execute("select count(*) from entity_mention").fetchall()[0]
        (comments,) = con.execute("select count(*) from comment").fetchall()[0]
        print(
            f"{warehouse}: {articles:,} articles, {comments:,} comments, {mentions:,} mentions "
            f"({os.getloadavg()[0]:.1f} load average)"
        )
        # The floor: one grouped scan of the largest table, what every mart of mentions reads
        # at least; on a shared machine it shows how loaded the machine was.
        started = time.perf_counter()
        con.sql("select entity_id, count(*) from entity_mention group by entity_id").fetchall()
        floor = time.perf_counter() - started
        print(f"floor: one grouped scan of entity_mention {floor:.2f} s")
        print(f"{'mart':<20} {'rows':>12} {'seconds':>8} {'x floor':>8}")
        for mart in schema.MARTS:
            best, rows = float("inf"), 0
            for _ in range(repeat):
                started = time.perf_counter()
                rows = con.sql(f"select * from {mart}").to_arrow_table().num_rows
                best = min(best, time.perf_counter() - started)
            flag = "" if best < TARGET_SECONDS else f"  over {TARGET_SECONDS:.0f} s"
            print(f"{mart:<20} {rows:>12,} {best:>8.2f} {best / floor:>8.1f}{flag}")


def grow(small: Path, target: Path, copies: int) -> None:
    """Write to `target` a warehouse of `copies` copies of every page of `small`
    (benchmarks/grow.sql), with its stories and schema."""
    target.unlink(missing_ok=True)
    con = duckdb.connect()
    quoted = str(target).replace("'", "''")
    con.execute(f"attach '{quoted}' as big (storage_version '{STORAGE_VERSION}')")
    con.execute("use big")
    upgrade(con)
    con.execute(f"attach '{str(small).replace(chr(39), chr(39) * 2)}' as small (read_only)")
    con.execute("set variable copies = ?", [copies])
    started = time.perf_counter()
    con.execute((Path(__file__).parent / "grow.sql").read_text(encoding="utf-8"))
    con.execute("checkpoint")
    con.close()
    print(f"grew {small} {copies} times into {target} in {time.perf_counter() - started:.0f} s")


def time_outputs(warehouse: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        write_report(warehouse, Path(folder) / "report.html")
        print(f"newsflow report: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        written = export_parquet(warehouse, Path(folder) / "parquet")
        rows = sum(written.values())
        print(f"newsflow export --parquet: {rows:,} rows in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3, help="tries per mart, best kept (3)")
    parser.add_argument(
        "--grow-from", type=Path, help="first write --warehouse as copies of this smaller one"
    )
    parser.add_argument("--copies", type=int, default=20, help="with --grow-from (20)")
    args = parser.parse_args()
    if args.grow_from:
        grow(args.grow_from, args.warehouse, args.copies)
    time_marts(args.warehouse, args.repeat)
    time_outputs(args.warehouse)


if __name__ == "__main__":
    main()
