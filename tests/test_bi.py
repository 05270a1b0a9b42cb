"""The BI connections the README gives ("Connect a BI tool"), tried as written there."""

import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy

from flows import schema

DUCKDB_15_SHELL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "duckdb"


def test_duckdb_engine_reflects_tables_views_and_their_descriptions(mart_warehouse: Path):
    # As the README says: read-only, and no pooled connection holding an old file open.
    engine = sqlalchemy.create_engine(
        f"duckdb:///{mart_warehouse}",
        connect_args={"read_only": True},
        poolclass=sqlalchemy.pool.NullPool,
    )
    inspector = sqlalchemy.inspect(engine)

    assert set(inspector.get_table_names()) == set(schema.TABLES)
    assert set(inspector.get_view_names()) == set(schema.MARTS)
    columns = {column["name"]: column for column in inspector.get_columns("story")}
    assert columns["copies"]["comment"] == "Articles (pages) in the story."
    assert inspector.get_table_comment("story")["text"].startswith("One row per story")
    for view in schema.MARTS:
        assert all(column["comment"] for column in inspector.get_columns(view)), view
    with engine.connect() as con:
        query = sqlalchemy.text("select copies from story where story_id = :story")
        assert con.execute(query, {"story": 1}).scalar() == 2
    engine.dispose()


@pytest.mark.parametrize("mart", schema.MARTS)
def test_every_mart_runs_in_the_duckdb_15_shell(mart_warehouse: Path, mart: str):
    shell = subprocess.run(
        [str(DUCKDB_15_SHELL), "-readonly", "-csv", str(mart_warehouse), "-c",
         f"select count(*) from {mart}"],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip

    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split()[0] == "count_star()"


NODE_SCRIPT = """
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(process.argv[2], { access_mode: 'READ_ONLY' });
  const con = await db.connect();
  const reader = await con.runAndReadAll('select copies from story where story_id = 1');
  console.log(JSON.stringify(reader.getRowsJson()));
})();
"""


def test_the_node_client_reads_the_marts(mart_warehouse: Path, tmp_path: Path):
    # Only where node and the client are installed already: tests download nothing.
    node = shutil.which("node")
    found = node and subprocess.run(
        [node, "-e", "require.resolve('@duckdb/node-api')"], capture_output=True, check=False
    )
    if not found or found.returncode != 0:
        pytest.skip("node or @duckdb/node-api not installed (npm install @duckdb/node-api)")
    script = tmp_path / "read.js"
    script.write_text(NODE_SCRIPT)
    done = subprocess.run(
        [node, str(script), str(mart_warehouse)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '[["2"]]'
