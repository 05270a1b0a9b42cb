"""`newsflow run` on crawls of 10k, 50k and 100k pages, against the I/O floor of the same files.

python -m benchmarks.crawl_scale [--sizes 10000 50000 100000] [--workdir /tmp/newsflow-scale]

For each size: a fresh warehouse, the floor first (DuckDB's `read_text` loading the same
files into a table of a new database file), then `newsflow run` as a user starts it: a new
process with a temporary Prefect server, so Prefect's start-up is in the time. Printed per
size: time by stage (as the run reports it), pages/s, MB/s, peak memory and the ratio to the
floor. Then a no-change re-run on the largest crawl, and the entity stage alone in words/s.
The crawl (`benchmarks.corpus`) is written once under --workdir and reused.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from benchmarks import corpus
from flows import entities, extract, parse

NEWSFLOW = Path(sys.executable).with_name("newsflow")
# Issue 8's targets on a 2-core machine.
END_TO_END_FLOOR_RATIO = 4.0
RERUN_FLOOR_RATIO = 1.0
PEAK_RSS_MIB = 2048
RSS_GROWTH = 1.5
ENTITY_WORDS_PER_S = 1_000_000


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


def entity_words_per_second(folders: list[Path]) -> tuple[int, float]:
    """The entity stage alone on the parsed text of the pages in `folders`: (words, words/s)."""
    files = extract.discover_files(tuple(folders), "*.txt").files
    pages, _ = extract.read_pages(files, 10_000_000)
    with parse.worker_pool(os.cpu_count() or 1) as pool:
        article, comment, _ = parse.parse_pages(pages, pool)
    texts = entities.text_fields(article, comment)
    words = int(texts["text"].str.count_matches(r"\S+").sum())
    gazetteer = entities.load_gazetteer()
    started = time.perf_counter()
    entities.extract_entities(texts, gazetteer)
    return words, words / (time.perf_counter() - started)


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
    print("Stage columns are seconds inside the flow; newsflow s is the whole process.")
    for line in lines:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))


def verdicts(rows: list[Figures], rerun: Figures | None, words_per_s: float) -> None:
    first, largest = rows[0], rows[-1]
    checks = [
        (
            f"{largest.label} end to end at most {END_TO_END_FLOOR_RATIO:g}x the floor",
            f"{largest.ratio:.1f}x",
            largest.ratio <= END_TO_END_FLOOR_RATIO,
        ),
        (
            f"peak memory under {PEAK_RSS_MIB:,} MiB",
            f"{max(row.peak_rss_mib for row in rows):,.0f} MiB",
            all(row.peak_rss_mib < PEAK_RSS_MIB for row in rows),
        ),
        (
            f"memory at {largest.label} at most {RSS_GROWTH:g}x that at {first.label}",
            f"{largest.peak_rss_mib / first.peak_rss_mib:.2f}x",
            largest.peak_rss_mib <= RSS_GROWTH * first.peak_rss_mib,
        ),
        (
            f"entity stage at {ENTITY_WORDS_PER_S:,} words/s or more",
            f"{words_per_s:,.0f} words/s",
            words_per_s >= ENTITY_WORDS_PER_S,
        ),
    ]
    if rerun is not None:
        checks.insert(
            1,
            (
                f"no-change re-run at most {RERUN_FLOOR_RATIO:g}x the floor",
                f"{rerun.ratio:.1f}x",
                rerun.ratio <= RERUN_FLOOR_RATIO,
            ),
        )
    print("\nTargets (issue 8):")
    for what, value, met in checks:
        print(f"  {'met   ' if met else 'MISSED'}  {what}: {value}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsflow-scale"))
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)

    crawl = args.workdir / "crawl"
    written = crawl / f"written-{sizes[-1]}"
    if not written.exists():
        shutil.rmtree(crawl, ignore_errors=True)
        print(f"writing {sizes[-1]:,} pages under {crawl} ...", flush=True)
        started = time.perf_counter()
        total = corpus.write(crawl, sizes[-1])
        written.touch()
        print(f"  {total / 1e6:,.0f} MB in {time.perf_counter() - started:.0f} s", flush=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(args.workdir / "prefect-home"),
        "COLUMNS": "200",
    }
    env.pop("PREFECT_API_URL", None)  # a temporary server per run, as `newsflow run` alone

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
    print(f"{largest.label} no-change re-run ...", end=" ", flush=True)
    rerun = run_newsflow(corpus.parts(crawl, sizes[-1]), warehouse, env)
    rerun.label = f"{largest.label} no-change re-run"
    rerun.pages, rerun.megabytes = largest.pages, largest.megabytes
    rerun.floor_seconds = largest.floor_seconds
    print(f"{rerun.seconds:.1f} s", flush=True)

    sample = corpus.parts(crawl, min(sizes[0], 10_000))
    words, words_per_s = entity_words_per_second(sample)
    print_table([*rows, rerun])
    print(f"\nEntity stage alone: {words:,} words of page text at {words_per_s:,.0f} words/s")
    verdicts(rows, rerun, words_per_s)
    print(f"Warehouse at {largest.label}: {warehouse.stat().st_size / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
