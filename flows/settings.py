"""One typed settings object for a run: command line > NEWSFLOW_* environment > default."""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_INPUT = PROJECT_ROOT / "sample_pages"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "news.duckdb"
# Page files per batch. Entity matching and the data-quality gate cost about a second per
# batch whatever its size: 2,000 pages ran a 10k crawl in 62 s against 110 s with 500, in
# 1.3 GB of memory (5,000 pages: 49 s but 2.0 GB).
DEFAULT_BATCH_SIZE = 2_000
DEFAULT_PATTERN = "*.txt"
DEFAULT_MAX_FILE_BYTES = 20 * 2**20
# Seconds one page may take to parse: pages take milliseconds; a page built to make the parser
# run away is set aside (parse_timeout) instead of holding up every run.
DEFAULT_PARSE_TIMEOUT = 30.0
# Where parse and entity extraction run: in the flow's process ("default"), or on Dask workers.
TASK_RUNNERS = ("default", "dask")

# The environment variable of each setting, and how its text becomes the setting's value.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "inputs": ("NEWSFLOW_INPUT", lambda value: (Path(value),)),
    "source_names": ("NEWSFLOW_SOURCE", lambda value: (value,)),
    "warehouse": ("NEWSFLOW_WAREHOUSE", Path),
    "pattern": ("NEWSFLOW_PATTERN", str),
    "batch_size": ("NEWSFLOW_BATCH_SIZE", int),
    "max_file_bytes": ("NEWSFLOW_MAX_FILE_BYTES", int),
    "parse_workers": ("NEWSFLOW_PARSE_WORKERS", int),
    "parse_timeout": ("NEWSFLOW_PARSE_TIMEOUT", float),
    "task_runner": ("NEWSFLOW_TASK_RUNNER", str),
    "dask_address": ("NEWSFLOW_DASK_ADDRESS", str),
}


class SettingsError(ValueError):
    """A setting has a value newsflow cannot run with; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """Where to read pages, where to publish the warehouse, and how to batch the work.

    Build it with `resolve`, which fills what the caller leaves out from the environment;
    the defaults here are what is left when neither says anything.
    """

    inputs: tuple[Path, ...] = (SAMPLE_INPUT,)
    # The name of each input folder's crawl, in the order of `inputs`; none given: each
    # folder's own name. With the path in the folder, it is what identifies a page.
    source_names: tuple[str, ...] = ()
    warehouse: Path = DEFAULT_WAREHOUSE
    pattern: str = DEFAULT_PATTERN
    batch_size: int = DEFAULT_BATCH_SIZE
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # Processes that parse pages; 1 parses in the flow's own process.
    parse_workers: int = os.cpu_count() or 1
    parse_timeout: float = DEFAULT_PARSE_TIMEOUT
    task_runner: str = "default"
    # Scheduler of a running Dask cluster; None starts a temporary local one of `parse_workers`
    # processes.
    dask_address: str | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise SettingsError("batch size must be at least 1")
        if self.parse_workers < 1:
            raise SettingsError("parse workers must be at least 1")
        if not self.parse_timeout > 0:
            raise SettingsError("parse timeout must be more than 0 seconds")
        if self.task_runner not in TASK_RUNNERS:
            raise SettingsError(f"task runner must be one of {', '.join(TASK_RUNNERS)}")
        if self.dask_address and self.task_runner != "dask":
            raise SettingsError(
                "--dask-address (or NEWSFLOW_DASK_ADDRESS) needs --task-runner dask"
            )
        if self.source_names and len(self.source_names) != len(self.inputs):
            raise SettingsError(
                f"{len(self.source_names)} --source names for {len(self.inputs)} --input "
                "folders: give one per folder, in the same order, or none"
            )
        if any(not name.strip() or name != name.strip() for name in self.source_names):
            raise SettingsError("a --source name must be non-empty text without outer spaces")
        names = self.source_names or tuple(Path(path).resolve().name for path in self.inputs)
        unique = dict(zip((Path(path).resolve() for path in self.inputs), names, strict=True))
        object.__setattr__(self, "inputs", tuple(unique))
        object.__setattr__(self, "source_names", tuple(unique.values()))
        object.__setattr__(self, "warehouse", Path(self.warehouse).resolve())

    @property
    def sources(self) -> tuple[tuple[str, Path], ...]:
        """(source name, folder) of every input folder, in the order given."""
        return tuple(zip(self.source_names, self.inputs, strict=True))

    @property
    def data_docs(self) -> Path:
        """The fixed folder beside the warehouse where each run rebuilds the GX Data Docs."""
        return self.warehouse.with_name(f"{self.warehouse.stem}_data_docs")

    def require_inputs(self) -> None:
        """Raise NotADirectoryError unless every input folder exists."""
        for root in self.inputs:
            if not root.is_dir():
                raise NotADirectoryError(f"input folder {root} does not exist or is not a folder")

    def require_warehouse(self) -> None:
        """Raise FileNotFoundError unless the warehouse exists (a reparse needs one)."""
        if not self.warehouse.exists():
            raise FileNotFoundError(f"no warehouse at {self.warehouse}; run `newsflow run` first")


def resolve(environ: Mapping[str, str] | None = None, **given: Any) -> Settings:
    """The settings of a run: each one from `given` (the command line, or the flow's
    parameters) unless None or empty there, else from its NEWSFLOW_* variable in `environ`
    (default: this process's environment), else the default.
    """
    environ = os.environ if environ is None else environ
    unknown = set(given) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    chosen: dict[str, Any] = {}
    for name, (variable, parse) in ENVIRONMENT.items():
        value = given.get(name)
        if value not in (None, "", [], ()):
            chosen[name] = tuple(Path(p) for p in value) if name == "inputs" else value
            chosen[name] = tuple(value) if name == "source_names" else chosen[name]
        elif environ.get(variable):
            try:
                chosen[name] = parse(environ[variable])
            except ValueError:
                raise SettingsError(f"{variable}={environ[variable]!r} is not valid") from None
    return Settings(**chosen)
