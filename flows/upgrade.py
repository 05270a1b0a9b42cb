"""Bring a warehouse file's schema up to date: ordered migrations from sql/migrations."""

import re
from datetime import UTC, datetime

import duckdb

from flows.build import newsflow_version
from flows.schema import create_tables
from flows.sqlfiles import SQL_DIR, sql

_MIGRATION_NAME = re.compile(r"(?P<version>\d{3})_\w+")


class SchemaVersionError(Exception):
    """The warehouse was written by a newer newsflow than this one."""


class ForeignWarehouseError(Exception):
    """The file holds another application's tables: newsflow must not write into it."""


# The tables of a warehouse of newsflow 0.1.0, which recorded no schema version.
_VERSION_0_TABLES = frozenset({"article", "comment", "source_file", "ingest_run"})


def migrations() -> list[tuple[int, str]]:
    """(version, name) of every migration in sql/migrations, in the order they apply."""
    found = []
    for path in (SQL_DIR / "migrations").glob("*.sql"):
        match = _MIGRATION_NAME.fullmatch(path.stem)
        if match is None:
            raise ValueError(f"sql/migrations/{path.name}: name migrations NNN_what_they_do.sql")
        found.append((int(match["version"]), path.stem))
    found.sort()
    numbers = [number for number, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise ValueError(f"sql/migrations must be numbered 001, 002, ... without gaps: {numbers}")
    return found


def latest_version() -> int:
    """The schema version this newsflow writes."""
    return len(migrations())


def current_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version of the attached warehouse; None when it holds no tables yet.

    Warehouses from before versions were recorded (newsflow 0.1.0) are version 0.
    """
    tables = {
        name
        for (name,) in con.execute(
            """
            select table_name from duckdb_tables() where database_name = current_database()
            union all
            select view_name from duckdb_views()
            where database_name = current_database() and not internal
            """
        ).fetchall()
    }
    if "schema_version" in tables:
        row = con.execute("select max(version) from schema_version").fetchone()
        return row[0] if row and row[0] is not None else 0
    if not tables:
        return None
    if tables >= _VERSION_0_TABLES:
        return 0
    # Adopting it would add newsflow's tables and publish a copy over the file, losing
    # whatever the other application writes into it meanwhile.
    shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
    raise ForeignWarehouseError(
        f"is a DuckDB file of another application (tables {shown}; no newsflow "
        "schema_version): newsflow leaves it untouched. Give --warehouse a new file name or "
        "the path of a newsflow warehouse"
    )


def upgrade(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the tables of an empty warehouse, or migrate an older one in place; return the
    migrations applied.

    Each migration runs in its own transaction against the schema of the version before it,
    so a failure leaves the file at the last version reached. Tables that no migration
    touches, and every description, come from sql/schema afterwards.
    """
    current = current_version(con)
    latest = latest_version()
    built = newsflow_version()
    if current is None:
        create_tables(con)
        _record(con, latest, "created", built)
        return []
    if current > latest:
        raise SchemaVersionError(
            f"the warehouse has schema version {current}, newer than this newsflow "
            f"({built}, schema version {latest}) knows; upgrade newsflow"
        )
    applied = []
    con.execute(sql("schema/schema_version"))
    for number, name in migrations()[current:]:
        con.execute("begin")
        try:
            con.execute(sql(f"migrations/{name}"))
            _record(con, number, name, built)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        applied.append(name)
    create_tables(con)
    return applied


def _record(con: duckdb.DuckDBPyConnection, number: int, name: str, by: str) -> None:
    con.execute(
        sql("load/schema_version"), [number, name, datetime.now(UTC).replace(tzinfo=None), by]
    )
