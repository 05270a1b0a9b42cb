"""`newsflow run` on crawls of 10k, 50k and 100k pages, against the I/O floor of the same files.

python -m benchmarks.crawl_scale [--sizes 10000 50000 100000] [--workdir /tmp/newsflow-scale]

For each size: a fresh warehouse, the floor first (DuckDB's `read_text` loading the same
files into a table of a new database file), then `newsflow run` as a user starts it: a new
process with a temporary Prefect server, so Prefect's start-up is in the time. Printed per
size: time by stage (as the run reports it), pages/s, MB/s, peak memory of the process tree
and the ratio to the floor. Then, with a Prefect server running (`newsflow server`), a
no-change re-run of the largest crawl and a run that adds 1,000 new pages to it; last, the
issue 16 targets table. The crawl (`benchmarks.corpus`) is written once under --workdir and
reused.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from benchmarks import corpus

NEWSFLOW = Path(sys.executable).with_name("newsflow")
# Issue 16's targets on a 2-core machine.
END_TO_END_FLOOR_RATIO = 3.0
PEAK_RSS_MIB = 1536
# "Flat from 10k to 100k": the largest crawl's peak at most this much above the smallest's.
RSS_GROWTH = 1.25
INCREMENTAL_FLOOR_RATIO = 0.25
RERUN_FLOOR_RATIO = 0.3
ENTITY_WORDS_PER_S = 3_000_000
PARSE_MB_PER_S = 20.0
NEW_PAGES = 1_000
SERVER_PORT = 4287


@dataclass
class Figures:
    label: str
    pages: int
    megabytes: float
    floor_seconds: float
    seconds: float = 0.0
    peak_rss_mib: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    loaded: int = 0

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor_seconds


class TreeMemory:
    """Peak resident memory of a process and all its descendants (parse workers, the
    temporary Prefect server), sampled from /proc every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """Stop sampling; return the peak in MiB."""
        self._done.set()
        self._thread.join()
        return self.peak_kib / 1024

    def _sample(self) -> None:
        while not self._done.wait(0.2):
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(self.pid))


def _tree_rss_kib(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
            status = (stat.parent / "status").read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(after_name[1]), []).append(pid)
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        rss[pid] = int(found[1]) if found else 0
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def floor_seconds(folders: list[Path], workdir: Path) -> float:
    """DuckDB loading the raw text of the files into a table of a new database file."""
    target = workdir / "floor.duckdb"
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(target)) as con:
        con.execute(
            "create table page as select * from read_text(?)",
            [[str(folder / "*.txt") for folder in folders]],
        )
        con.execute("checkpoint")
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds


def run_newsflow(folders: list[Path], warehouse: Path, env: dict[str, str]) -> Figures:
    """One `newsflow run` over `folders`; its wall time, peak memory and stage times."""
    command = [str(NEWSFLOW), "run", "--warehouse", str(warehouse)]
    for folder in folders:
        command += ["--input", str(folder)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    memory = TreeMemory(process.pid)
    output, _ = process.communicate()
    seconds = time.perf_counter() - started
    peak = memory.stop()
    if process.returncode != 0:
        sys.exit(f"newsflow run failed ({process.returncode}):\n{output}")
    stages = re.search(r"time by stage: (.*)", output)
    loaded = re.search(r"loaded\s*│\s*([\d,]+)", output)
    figures = Figures("", 0, 0.0, 0.0, seconds=seconds, peak_rss_mib=peak)
    if stages:
        figures.stages = {
            name: float(value) for name, value in re.findall(r"([a-z ]+) ([\d.]+) s", stages[1])
        }
        figures.stages = {name.strip(): value for name, value in figures.stages.items()}
    figures.loaded = int(loaded[1].replace(",", "")) if loaded else 0
    return figures


def text_words(warehouse: Path) -> int:
    """Words of the texts the entity stage reads (titles, bodies, comments) in `warehouse`."""
    words = "len(regexp_extract_all(coalesce({}, ''), '\\S+'))"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        title, body = words.format("title"), words.format("body")
        (articles,) = con.execute(f"select sum({title} + {body}) from article").fetchall()[0]
        (comments,) = con.execute(f"select sum({body}) from comment").fetchall()[0]
    return int(articles or 0) + int(comments or 0)


def crawl_size_mb(folders: list[Path]) -> float:
    return sum(path.stat().st_size for folder in folders for path in folder.iterdir()) / 1e6


def print_table(rows: list[Figures]) -> None:
    stage_names = list(dict.fromkeys(name for row in rows for name in row.stages))
    header = ["run", "pages", "MB", "floor s", "newsflow s", "x floor", "pages/s", "MB/s"]
    header.append("peak MiB")
    lines = [header + stage_names]
    for row in rows:
        lines.append(
            [
                row.label,
                f"{row.pages:,}",
                f"{row.megabytes:,.0f}",
                f"{row.floor_seconds:.1f}",
                f"{row.seconds:.1f}",
                f"{row.ratio:.1f}",
                f"{row.pages / row.seconds:,.0f}",
                f"{row.megabytes / row.seconds:.1f}",
                f"{row.peak_rss_mib:,.0f}",
                *(f"{row.stages.get(name, 0.0):.1f}" for name in stage_names),
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header + stage_names))]
    print()
    print(
        "Stage columns are seconds inside the flow; newsflow s is the whole process. Parse "
        "and entities run a batch ahead, beside validate and load: the stages overlap."
    )
    for line in lines:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))


def targets(rows: list[Figures], rerun: Figures, added: Figures, words: int) -> None:
    """The issue 16 targets: goal, measured, met."""
    first, largest = rows[0], rows[-1]
    entity_s = largest.stages.get("entities", 0.0)
    parse_s = largest.stages.get("parse", 0.0)
    words_per_s = words / entity_s if entity_s else 0.0
    parse_mb_s = largest.megabytes / parse_s if parse_s else 0.0
    growth = largest.peak_rss_mib / first.peak_rss_mib
    checks = [
        (
            f"{largest.label} end to end / floor",
            f"<= {END_TO_END_FLOOR_RATIO:g}x",
            f"{largest.ratio:.2f}x",
            largest.ratio <= END_TO_END_FLOOR_RATIO,
        ),
        *(
            (
                f"peak RSS, process tree, {row.label}",
                f"< {PEAK_RSS_MIB:,} MiB",
                f"{row.peak_rss_mib:,.0f} MiB",
                row.peak_rss_mib < PEAK_RSS_MIB,
            )
            for row in rows
        ),
        (
            f"peak RSS {largest.label} / {first.label} (flat)",
            f"<= {RSS_GROWTH:g}x",
            f"{growth:.2f}x",
            growth <= RSS_GROWTH,
        ),
        (
            f"{NEW_PAGES:,} new pages on {largest.label}, server running / floor",
            f"<= {INCREMENTAL_FLOOR_RATIO:g}x",
            f"{added.ratio:.2f}x ({added.seconds:.1f} s)",
            added.ratio <= INCREMENTAL_FLOOR_RATIO,
        ),
        (
            f"no-change re-run of {largest.label}, server running / floor",
            f"<= {RERUN_FLOOR_RATIO:g}x",
            f"{rerun.ratio:.2f}x ({rerun.seconds:.1f} s)",
            rerun.ratio <= RERUN_FLOOR_RATIO,
        ),
        (
            f"entity stage in the flow at {largest.label}",
            f">= {ENTITY_WORDS_PER_S / 1e6:g}M words/s",
            f"{words_per_s / 1e6:.2f}M words/s ({words:,} words, {entity_s:.1f} s)",
            words_per_s >= ENTITY_WORDS_PER_S,
        ),
        (
            f"parse stage in the flow at {largest.label}",
            f">= {PARSE_MB_PER_S:g} MB/s",
            f"{parse_mb_s:.1f} MB/s ({parse_s:.1f} s)",
            parse_mb_s >= PARSE_MB_PER_S,
        ),
    ]
    lines = [
        ("target", "goal", "measured", ""),
        *((*c[:3], "met" if c[3] else "MISSED") for c in checks),
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    print("\nTargets (issue 16):")
    for line in lines:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


@contextmanager
def prefect_server(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A Prefect server in the background (`newsflow server`), as an interactive user keeps
    one; yields the environment of commands that use it."""
    started = subprocess.run(
        [str(NEWSFLOW), "server", "--port", str(SERVER_PORT)], env=env, capture_output=True
    )
    if started.returncode != 0:
        sys.exit(f"newsflow server failed:\n{started.stderr.decode()}")
    try:
        yield {**env, "PREFECT_API_URL": f"http://127.0.0.1:{SERVER_PORT}/api"}
    finally:
        subprocess.run([str(NEWSFLOW), "server", "--stop"], env=env, capture_output=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsflow-scale"))
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)

    crawl = args.workdir / "crawl"
    pages_needed = sizes[-1] + NEW_PAGES
    written = crawl / f"written-{pages_needed}"
    if not written.exists():
        shutil.rmtree(crawl, ignore_errors=True)
        print(f"writing {pages_needed:,} pages under {crawl} ...", flush=True)
        started = time.perf_counter()
        total = corpus.write(crawl, pages_needed)
        written.touch()
        print(f"  {total / 1e6:,.0f} MB in {time.perf_counter() - started:.0f} s", flush=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(args.workdir / "prefect-home"),
        "COLUMNS": "200",
    }
    env.pop("PREFECT_API_URL", None)  # a temporary server per run, as `newsflow run` alone
    print(f"machine load before: {os.getloadavg()[0]:.1f} (1-min average, {os.cpu_count()} cores)")

    rows: list[Figures] = []
    for size in sizes:
        folders = corpus.parts(crawl, size)
        warehouse = args.workdir / f"warehouse-{size}" / "news.duckdb"
        shutil.rmtree(warehouse.parent, ignore_errors=True)
        label = f"{size // 1000}k"
        print(f"{label}: floor ...", end=" ", flush=True)
        floor = floor_seconds(folders, args.workdir)
        print(f"{floor:.1f} s; newsflow run ...", end=" ", flush=True)
        figures = run_newsflow(folders, warehouse, env)
        figures.label, figures.pages, figures.floor_seconds = label, size, floor
        figures.megabytes = crawl_size_mb(folders)
        print(f"{figures.seconds:.1f} s, {figures.loaded:,} loaded", flush=True)
        rows.append(figures)

    largest = rows[-1]
    words = text_words(warehouse)
    folders = corpus.parts(crawl, sizes[-1])
    with prefect_server(env) as served:
        print(f"{largest.label} no-change re-run, server running ...", end=" ", flush=True)
        rerun = run_newsflow(folders, warehouse, served)
        print(f"{rerun.seconds:.1f} s; {NEW_PAGES:,} new pages ...", end=" ", flush=True)
        new_part = crawl / f"part-{sizes[-1] // corpus.PER_FOLDER:03d}"
        added = run_newsflow([*folders, new_part], warehouse, served)
        print(f"{added.seconds:.1f} s, {added.loaded:,} loaded", flush=True)
    rerun.label = f"{largest.label} no-change re-run (server)"
    added.label = f"{largest.label} + {NEW_PAGES // 1000}k new (server)"
    for row in (rerun, added):
        row.floor_seconds = largest.floor_seconds
        row.pages, row.megabytes = largest.pages, largest.megabytes
    added.pages, added.megabytes = NEW_PAGES, crawl_size_mb([new_part])

    print_table([*rows, rerun, added])
    targets(rows, rerun, added, words)
    print(f"Warehouse at {largest.label}: {warehouse.stat().st_size / 2**20:,.0f} MiB")
    print(f"machine load after: {os.getloadavg()[0]:.1f} (1-min average)")


if __name__ == "__main__":
    main()
