"""One typed settings object for a run, from arguments and NEWSFLOW_* environment variables."""

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_INPUT = PROJECT_ROOT / "sample_pages"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "news.duckdb"
# Page files per batch. Entity matching and the data-quality gate cost about a second per
# batch whatever its size: 2,000 pages ran a 10k crawl in 62 s against 110 s with 500, in
# 1.3 GB of memory (5,000 pages: 49 s but 2.0 GB).
DEFAULT_BATCH_SIZE = 2_000
# Where parse and entity extraction run: in the flow's process ("default"), or on Dask workers.
TASK_RUNNERS = ("default", "dask")


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default


@dataclass(frozen=True)
class Settings:
    """Where to read pages, where to publish the warehouse, and how to batch the work."""

    inputs: tuple[Path, ...] = field(
        default_factory=lambda: (_env_path("NEWSFLOW_INPUT", SAMPLE_INPUT),)
    )
    warehouse: Path = field(
        default_factory=lambda: _env_path("NEWSFLOW_WAREHOUSE", DEFAULT_WAREHOUSE)
    )
    pattern: str = field(default_factory=lambda: os.environ.get("NEWSFLOW_PATTERN", "*.txt"))
    batch_size: int = field(
        default_factory=lambda: int(os.environ.get("NEWSFLOW_BATCH_SIZE", DEFAULT_BATCH_SIZE))
    )
    max_file_bytes: int = field(
        default_factory=lambda: int(os.environ.get("NEWSFLOW_MAX_FILE_BYTES", str(20 * 2**20)))
    )
    # Processes that parse pages; 1 parses in the flow's own process.
    parse_workers: int = field(
        default_factory=lambda: int(
            os.environ.get("NEWSFLOW_PARSE_WORKERS", str(os.cpu_count() or 1))
        )
    )
    task_runner: str = field(
        default_factory=lambda: os.environ.get("NEWSFLOW_TASK_RUNNER", "default")
    )
    # Scheduler of a running Dask cluster; None starts a temporary local one of `parse_workers`
    # processes.
    dask_address: str | None = field(
        default_factory=lambda: os.environ.get("NEWSFLOW_DASK_ADDRESS") or None
    )

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch size must be at least 1")
        if self.parse_workers < 1:
            raise ValueError("parse workers must be at least 1")
        if self.task_runner not in TASK_RUNNERS:
            raise ValueError(f"task runner must be one of {', '.join(TASK_RUNNERS)}")
        if self.dask_address and self.task_runner != "dask":
            raise ValueError("a Dask address needs the dask task runner")
        unique_inputs = dict.fromkeys(Path(path).resolve() for path in self.inputs)
        object.__setattr__(self, "inputs", tuple(unique_inputs))
        object.__setattr__(self, "warehouse", Path(self.warehouse).resolve())

    @property
    def data_docs(self) -> Path:
        """The fixed folder beside the warehouse where each run rebuilds the GX Data Docs."""
        return self.warehouse.with_name(f"{self.warehouse.stem}_data_docs")
