"""Time and peak memory of `newsflow run` on N generated pages: first load, then re-runs.

    .venv/bin/python -m benchmarks.rerun --files 20000 --workdir /tmp/newsflow-bench

Pages are variations of the bundled sample pages (a numbered title and one numbered body
paragraph each), written under --workdir, never into the repository. The first call creates
them and loads them; every call then re-runs with nothing changed, and with --touch also
after changing the modification time of every page (bytes unchanged: read and hashed again,
not parsed). Each run is a fresh `newsflow` process, as cron would start it; pass
--prefect-api-url to use a running Prefect server instead of a temporary one per process.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWSFLOW = Path(sys.executable).with_name("newsflow")
PER_FOLDER = 1_000


def generate(folder: Path, count: int) -> None:
    seeds = [
        path.read_text(encoding="utf-8") for path in sorted((ROOT / "sample_pages").glob("*.txt"))
    ]
    for number in range(count):
        text = seeds[number % len(seeds)]
        lines = text.split("\n")
        title_at = next(i for i, line in enumerate(lines) if len(line) > 40)
        lines[title_at] = f"{lines[title_at]} (page {number})"
        lines.insert(title_at + 1, f"\nThis is generated page number {number}.")
        page = folder / f"part-{number // PER_FOLDER:03d}" / f"page-{number:06d}.txt"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("\n".join(lines), encoding="utf-8")


def run(inputs: Path, warehouse: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB of the newsflow process, its summary table)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(NEWSFLOW), "run", "--input", str(inputs), "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"newsflow run failed ({process.returncode}):\n{output}")
    return seconds, usage.ru_maxrss / 1024, output


def figure(label: str, result: tuple[float, float, str]) -> None:
    seconds, peak, output = result
    flow = re.search(r"run time\s*│\s*([\d.]+) s", output)
    counts = {
        name: re.search(rf"{name}\s*│\s*([\d,]+)", output)
        for name in ("files seen", "loaded", "unchanged", "quarantined")
    }
    shown = ", ".join(f"{name} {m[1]}" for name, m in counts.items() if m)
    print(
        f"{label:<28} wall {seconds:6.1f} s   flow {flow[1] if flow else '?':>6} s   "
        f"peak RSS {peak:6.0f} MiB   ({shown})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsflow-bench"))
    parser.add_argument("--reruns", type=int, default=2)
    parser.add_argument("--touch", action="store_true", help="also re-run after touching all")
    parser.add_argument("--prefect-api-url", help="use this Prefect server")
    args = parser.parse_args()

    inputs, warehouse = args.workdir / "pages", args.workdir / "warehouse" / "news.duckdb"
    env = {**os.environ, "PREFECT_HOME": str(args.workdir / "prefect-home"), "COLUMNS": "120"}
    if args.prefect_api_url:
        env["PREFECT_API_URL"] = args.prefect_api_url
    if not inputs.exists():
        print(f"writing {args.files:,} pages under {inputs}", flush=True)
        generate(inputs, args.files)
    if not warehouse.exists():
        figure("first load", run(inputs, warehouse, env))
    size = warehouse.stat().st_size / 2**20
    print(f"warehouse {size:,.0f} MiB", flush=True)
    for number in range(1, args.reruns + 1):
        figure(f"no-change re-run {number}", run(inputs, warehouse, env))
    if args.touch:
        for page in inputs.rglob("*.txt"):
            page.touch()
        figure("re-run, every file touched", run(inputs, warehouse, env))
        figure("no-change re-run after it", run(inputs, warehouse, env))


if __name__ == "__main__":
    main()
