"""Settings: each option from the command line, else its NEWSFLOW_* variable, else the default."""

from pathlib import Path

import pytest

from flows.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_WAREHOUSE,
    ENVIRONMENT,
    SAMPLE_INPUT,
    Settings,
    SettingsError,
    resolve,
)

# Per documented variable: the setting, the variable's text, the value it gives, and a value
# given on the command line that must win over it.
CASES = {
    "NEWSFLOW_INPUT": ("inputs", "/data/crawl", (Path("/data/crawl"),), [Path("/data/other")]),
    "NEWSFLOW_WAREHOUSE": (
        "warehouse",
        "/data/wh/news.duckdb",
        Path("/data/wh/news.duckdb"),
        Path("/data/cli.duckdb"),
    ),
    "NEWSFLOW_BATCH_SIZE": ("batch_size", "17", 17, 5),
    "NEWSFLOW_PATTERN": ("pattern", "*.page", "*.page", "*.htm"),
    "NEWSFLOW_MAX_FILE_BYTES": ("max_file_bytes", "1024", 1024, 2048),
    "NEWSFLOW_PARSE_WORKERS": ("parse_workers", "3", 3, 1),
    "NEWSFLOW_PARSE_TIMEOUT": ("parse_timeout", "2.5", 2.5, 60.0),
    "NEWSFLOW_TASK_RUNNER": ("task_runner", "dask", "dask", "default"),
    "NEWSFLOW_SOURCE": ("source_names", "crawl-2026-11", ("crawl-2026-11",), ("cli-name",)),
}


def test_every_variable_the_readme_documents_is_read_and_tested():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    variables = {variable for variable, _ in ENVIRONMENT.values()}

    assert variables == {*CASES, "NEWSFLOW_DASK_ADDRESS"}
    assert all(f"`{variable}`" in readme for variable in variables)


def test_with_nothing_set_the_defaults_apply():
    settings = resolve(environ={})

    assert settings.inputs == (SAMPLE_INPUT,)
    assert settings.warehouse == DEFAULT_WAREHOUSE
    assert (settings.pattern, settings.batch_size) == ("*.txt", DEFAULT_BATCH_SIZE)
    assert settings.max_file_bytes == DEFAULT_MAX_FILE_BYTES == 20 * 2**20
    assert (settings.task_runner, settings.dask_address) == ("default", None)
    assert settings.parse_workers >= 1


@pytest.mark.parametrize("variable", list(CASES))
def test_a_variable_sets_its_option_and_the_command_line_wins(variable: str):
    name, text, expected, given = CASES[variable]

    from_environment = resolve(environ={variable: text})
    from_command_line = resolve(environ={variable: text}, **{name: given})

    assert getattr(from_environment, name) == expected
    assert getattr(from_command_line, name) == (tuple(given) if name == "inputs" else given)
    assert getattr(resolve(environ={variable: ""}), name) == getattr(Settings(), name)


def test_the_dask_address_comes_from_its_variable_with_the_dask_runner():
    environ = {"NEWSFLOW_DASK_ADDRESS": "tcp://10.0.0.5:8786", "NEWSFLOW_TASK_RUNNER": "dask"}

    assert resolve(environ=environ).dask_address == "tcp://10.0.0.5:8786"
    assert resolve(environ=environ, dask_address="tcp://h:1").dask_address == "tcp://h:1"
    with pytest.raises(SettingsError, match="needs --task-runner dask"):
        resolve(environ={"NEWSFLOW_DASK_ADDRESS": "tcp://10.0.0.5:8786"})


@pytest.mark.parametrize(
    ("variable", "text", "message"),
    [
        ("NEWSFLOW_BATCH_SIZE", "many", "NEWSFLOW_BATCH_SIZE='many' is not valid"),
        ("NEWSFLOW_BATCH_SIZE", "0", "batch size must be at least 1"),
        ("NEWSFLOW_PARSE_WORKERS", "0", "parse workers must be at least 1"),
        ("NEWSFLOW_MAX_FILE_BYTES", "20MB", "NEWSFLOW_MAX_FILE_BYTES='20MB' is not valid"),
        ("NEWSFLOW_TASK_RUNNER", "spark", "task runner must be one of default, dask"),
    ],
    ids=["batch-size-text", "batch-size-zero", "workers-zero", "max-bytes-unit", "runner"],
)
def test_a_bad_value_is_refused_with_its_name(variable: str, text: str, message: str):
    with pytest.raises(SettingsError, match=message):
        resolve(environ={variable: text})


def test_paths_are_made_absolute_and_inputs_given_twice_count_once(tmp_path: Path):
    settings = resolve(environ={}, inputs=[tmp_path, tmp_path / ".." / tmp_path.name])

    assert settings.inputs == (tmp_path.resolve(),)
    assert settings.data_docs == settings.warehouse.with_name("news_data_docs")


def test_each_input_folder_is_a_source_named_after_it_unless_named():
    folders = [Path("/data/crawl-2026-11"), Path("/data/crawl-2026-12")]

    assert resolve(environ={}, inputs=folders).source_names == ("crawl-2026-11", "crawl-2026-12")
    named = resolve(environ={}, inputs=folders, source_names=["nov", "dec"])
    assert named.sources == (("nov", folders[0]), ("dec", folders[1]))
    with pytest.raises(SettingsError, match="1 --source names for 2 --input folders"):
        resolve(environ={}, inputs=folders, source_names=["nov"])
    with pytest.raises(SettingsError, match="non-empty"):
        resolve(environ={}, inputs=folders[:1], source_names=[" "])


@pytest.mark.usefixtures("prefect_server")
def test_the_variables_reach_a_real_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from flows import ingest as ingest_module
    from flows import parse
    from flows.ingest import ingest

    crawl = tmp_path / "crawl"
    crawl.mkdir()
    for name in ("a", "b", "c"):
        (crawl / f"{name}.page").write_text(
            f"Ferry Fares Rise {name}\n\nFares go up in May, the council said.\n"
        )
    (crawl / "big.page").write_text("Ferry Fares Rise\n\n" + "Fares go up in May. " * 30)
    (crawl / "notes.txt").write_text("Not a page by this pattern.\n")
    warehouse = tmp_path / "elsewhere" / "news.duckdb"
    for variable, value in {
        "NEWSFLOW_INPUT": str(crawl),
        "NEWSFLOW_WAREHOUSE": str(warehouse),
        "NEWSFLOW_PATTERN": "*.page",
        "NEWSFLOW_BATCH_SIZE": "2",
        "NEWSFLOW_MAX_FILE_BYTES": "400",
        "NEWSFLOW_PARSE_WORKERS": "1",
        "NEWSFLOW_TASK_RUNNER": "default",
    }.items():
        monkeypatch.setenv(variable, value)
    batch_sizes: list[int] = []
    workers: list[int] = []
    batch_name, worker_pool = ingest_module.batch_name, parse.worker_pool

    def record_batch(run_id: str, offset: int, size: int) -> str:
        batch_sizes.append(size)
        return batch_name(run_id, offset, size)

    def record_workers(count: int):  # type: ignore[no-untyped-def]
        workers.append(count)
        return worker_pool(count)

    monkeypatch.setattr(ingest_module, "batch_name", record_batch)
    monkeypatch.setattr(parse, "worker_pool", record_workers)

    summary = ingest()

    assert summary.warehouse == warehouse and warehouse.exists()
    assert (summary.files_seen, summary.files_loaded, summary.files_ignored) == (5, 3, 1)
    assert summary.quarantine_reasons == {"too_large": 1}
    assert set(batch_sizes) == {2} and len(batch_sizes) == 2
    assert workers == [1]
